package kit_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestHTTPActorServesTLS: with UseTLS the actor serves HTTPS that a client
// trusting the CA reaches; a client that does not trust it, a TLS 1.1
// client and a plain-HTTP client do not get the answer.
func TestHTTPActorServesTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := servicetest.TLSFiles(t)
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
	certFile, keyFile, _ := servicetest.TLSFiles(t)
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
