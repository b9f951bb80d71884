package main

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"healthy", []string{srv.URL + "/readyz"}, 0},
		{"unhealthy status", []string{srv.URL + "/other"}, 1},
		{"nothing listening", []string{"-timeout", "1s", closed.URL + "/readyz"}, 1},
		{"no url", nil, 2},
		{"bad flag", []string{"-nope", srv.URL}, 2},
		{"help", []string{"-help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args, io.Discard); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}

// TestRunHTTPS: with -ca an https URL is verified against that CA; without
// it (system roots) the test server's certificate is not trusted; a CA
// file that is missing or holds no certificate is a usage error.
func TestRunHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.crt")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"trusted by the CA", []string{"-ca", ca, srv.URL + "/readyz"}, 0},
		{"system roots", []string{srv.URL + "/readyz"}, 1},
		{"missing CA file", []string{"-ca", filepath.Join(dir, "none.crt"), srv.URL}, 2},
		{"CA file without a certificate", []string{"-ca", junk, srv.URL}, 2},
	} {
		if got := run(tt.args, io.Discard); got != tt.want {
			t.Errorf("%s: run(%q) = %d, want %d", tt.name, tt.args, got, tt.want)
		}
	}
}
