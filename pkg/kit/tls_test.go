package kit_test

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
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

// testPKI writes a CA and a server certificate for 127.0.0.1 signed by it.
func testPKI(t *testing.T) (caFile, certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "srv.crt"), filepath.Join(dir, "srv.key")
	for f, b := range map[string][]byte{
		caFile:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool = x509.NewCertPool()
	pool.AddCert(caCert)
	return caFile, certFile, keyFile, pool
}

// TestHTTPActorServesTLS: with UseTLS the actor serves HTTPS that a client
// trusting the CA reaches; a client that does not trust it, a TLS 1.1
// client and a plain-HTTP client do not get the answer.
func TestHTTPActorServesTLS(t *testing.T) {
	t.Parallel()
	_, certFile, keyFile, pool := testPKI(t)
	logger := slog.New(slog.DiscardHandler)
	srv := kit.NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			t.Error("request reached the handler without TLS")
		}
		io.WriteString(w, "secret answer")
	}))
	if err := kit.UseTLS(srv, certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kit.Run(ctx, logger, kit.HTTPActor("api", srv, ln, logger)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	addr := ln.Addr().String()

	get := func(c *http.Client, url string) (string, error) {
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), nil
	}
	trusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if body, err := get(trusting, "https://"+addr+"/"); err != nil || body != "secret answer" {
		t.Errorf("https with the CA: %q, %v", body, err)
	}
	untrusting := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	var unknown x509.UnknownAuthorityError
	if _, err := get(untrusting, "https://"+addr+"/"); !errors.As(err, &unknown) {
		t.Errorf("https without the CA: %v, want an unknown-authority error", err)
	}
	old := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := get(old, "https://"+addr+"/"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	if body, err := get(&http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/"); err == nil && strings.Contains(body, "secret answer") {
		t.Error("plain HTTP was served the answer")
	}
}

func TestUseTLSRefusesBadFiles(t *testing.T) {
	t.Parallel()
	_, certFile, keyFile, _ := testPKI(t)
	srv := kit.NewServer("", http.NotFoundHandler())
	if err := kit.UseTLS(srv, "", ""); err != nil || srv.TLSConfig != nil {
		t.Errorf("no files: %v, TLSConfig %v; want plain HTTP", err, srv.TLSConfig)
	}
	for _, tc := range []struct{ name, cert, key string }{
		{"cert only", certFile, ""},
		{"key only", "", keyFile},
		{"missing file", certFile, filepath.Join(t.TempDir(), "nope.key")},
		{"key is the certificate", certFile, certFile},
	} {
		err := kit.UseTLS(srv, tc.cert, tc.key)
		if !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", tc.name, err)
		}
		key, _ := os.ReadFile(keyFile)
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(string(key))) {
			t.Errorf("%s: the error shows the key", tc.name)
		}
	}
}
