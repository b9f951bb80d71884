package servicetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command/commandtest"
)

// TLSFiles writes a throw-away CA and a server certificate for 127.0.0.1
// and localhost signed by it; it returns the certificate and key files and
// a pool trusting the CA.
func TLSFiles(t testing.TB) (certFile, keyFile string, ca *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "craftledger test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	ca = x509.NewCertPool()
	ca.AddCert(caCert)
	return certFile, keyFile, ca
}

// FreeAddr is a 127.0.0.1 address with a port that was free a moment ago
// (for binaries that listen on --addr themselves).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// RunFunc is a service binary's run: it serves until ctx ends.
type RunFunc func(ctx context.Context, args []string) error

// CheckServesHTTPS starts a service binary's run in-process against the
// embedded store with --tls-cert/--tls-key (plus extra args) and checks
// that /healthz answers over HTTPS to a client trusting the test CA, that
// a client not trusting it is refused, and that plain HTTP on the same port
// is not served; then it stops the binary cleanly. It also checks that
// start-up is refused, before any store is contacted, with only one of the
// two flags, with an unreadable file or with a key that is not the
// certificate's.
func CheckServesHTTPS(t *testing.T, run RunFunc, extra ...string) {
	t.Helper()
	certFile, keyFile, ca := TLSFiles(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, bad := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert", certFile}, "--tls-key"},
		{"key without cert", []string{"--tls-key", keyFile}, "--tls-cert"},
		{"unreadable cert", []string{"--tls-cert", missing, "--tls-key", keyFile}, "--tls-cert"},
		{"key is the certificate", []string{"--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert"},
	} {
		// The store address is unreachable: start-up must stop at the flags.
		args := append([]string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0", "--dev", "--log-level", "error"}, extra...)
		err := run(context.Background(), append(args, bad.args...))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: start-up error %v, want a refusal naming %s", bad.name, err, bad.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: the error shows the key: %v", bad.name, err)
		}
	}

	st := commandtest.StartStore(t)
	addr := FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := append([]string{"--store", st.Server.URL(), "--addr", addr, "--dev", "--log-level", "error",
		"--tls-cert", certFile, "--tls-key", keyFile}, extra...)
	go func() { done <- run(ctx, args) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	get := func(c *http.Client, url string) (int, string, error) {
		resp, err := c.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	trusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	defer trusting.CloseIdleConnections()
	var code int
	var err error
	for i := 0; ; i++ {
		if code, _, err = get(trusting, "https://"+addr+"/healthz"); err == nil {
			break
		}
		select {
		case e := <-done:
			stopped = true
			t.Fatalf("the binary stopped: %v", e)
		default:
		}
		if i == 100 {
			t.Fatalf("never served HTTPS: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Errorf("https /healthz: %d, want 200", code)
	}
	untrusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	var unknown x509.UnknownAuthorityError
	if _, _, err := get(untrusting, "https://"+addr+"/healthz"); !errors.As(err, &unknown) {
		t.Errorf("https without the CA: %v, want an unknown-authority error", err)
	}
	// Go's TLS server answers a plain-HTTP request with 400 "Client sent an
	// HTTP request to an HTTPS server"; it must never be the health answer.
	if code, body, err := get(&http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/healthz"); err == nil && code != http.StatusBadRequest {
		t.Errorf("plain HTTP /healthz: %d %q, want it refused", code, body)
	}
	cancel()
	stopped = true
	if err := <-done; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// ServeBinary runs a service binary's run function in-process against the
// embedded store (--store, --addr on a free port, --dev, --log-level error,
// then extra), waits until /healthz answers and checks /readyz is 200; it
// returns the base URL and stop, which cancels run and fails the test
// unless run returns nil.
func ServeBinary(t *testing.T, run func(context.Context, []string) error, extra ...string) (base string, stop func()) {
	t.Helper()
	st := commandtest.StartStore(t)
	addr := FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := append([]string{"--store", st.Server.URL(), "--addr", addr, "--dev", "--log-level", "error"}, extra...)
	go func() { done <- run(ctx, args) }()
	base = "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			cancel()
			t.Fatalf("never served: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := commandtest.Do(t, "GET", base+"/readyz", "", nil); r.Status != 200 {
		cancel()
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	return base, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
}
