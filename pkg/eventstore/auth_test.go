package eventstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "eventstore-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestStoreAuthErrors runs the embedded server with authentication and TLS:
// refused credentials are errs.Unauthenticated, ACL refusals
// errs.PermissionDenied, and neither trips the breaker.
func TestStoreAuthErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	url := func(user string) string {
		return "esdb://" + user + "@" + srv.Addr() + "?tls=true&tlsVerifyCert=false"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	data := eventstore.EventData{Type: "Thing.v1", Data: []byte(`{}`)}
	breaker := eventstore.BreakerConfig{Failures: 2}

	bad := open(t, eventstore.Config{URL: url("admin:wrong"), Breaker: breaker})
	for i := 0; i < 3; i++ {
		if _, err := bad.Append(ctx, "auth-1", eventstore.Any(), data); !errors.Is(err, errs.Unauthenticated) {
			t.Fatalf("append with a wrong password = %v, want errs.Unauthenticated", err)
		}
		if _, err := bad.ReadStream(ctx, "auth-1", eventstore.ReadOptions{}); !errors.Is(err, errs.Unauthenticated) {
			t.Fatalf("read with a wrong password = %v, want errs.Unauthenticated", err)
		}
	}
	if st := bad.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after refused credentials", st)
	}

	ops := open(t, eventstore.Config{URL: url("ops:changeit"), Breaker: breaker})
	if _, err := ops.Append(ctx, "auth-1", eventstore.Any(), data); err != nil {
		t.Fatalf("ops append to a user stream: %v", err)
	}
	for i := 0; i < 3; i++ {
		_, err := ops.Append(ctx, "$auth-system", eventstore.Any(), data)
		if !errors.Is(err, errs.PermissionDenied) {
			t.Fatalf("ops append to a system stream = %v, want errs.PermissionDenied", err)
		}
		if strings.Contains(err.Error(), "changeit") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
	if st := ops.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after access denied", st)
	}

	admin := open(t, eventstore.Config{URL: url("admin:changeit")})
	if _, err := admin.Append(ctx, "$auth-system", eventstore.Any(), data); err != nil {
		t.Errorf("admin append to a system stream: %v", err)
	}
	got, err := admin.ReadStream(ctx, "auth-1", eventstore.ReadOptions{})
	if err != nil || len(got) != 1 {
		t.Errorf("admin read = %d events, %v", len(got), err)
	}
}
