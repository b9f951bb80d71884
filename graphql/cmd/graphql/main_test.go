package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestServesHTTPS: with --tls-cert and --tls-key bin/graphql answers over
// HTTPS to a client that trusts the CA, refuses one that does not, and a
// half or broken TLS configuration stops start-up before the store is
// contacted.
func TestServesHTTPS(t *testing.T) {
	certFile, keyFile, ca := servicetest.TLSFiles(t)
	logger := slog.New(slog.DiscardHandler)
	t.Setenv("CRAFTLEDGER_AUTH_KEY", strings.Repeat("k", 32))
	for _, bad := range []struct {
		name string
		args []string
		want string
	}{
		{"cert without key", []string{"--tls-cert", certFile}, "--tls-key"},
		{"key without cert", []string{"--tls-key", keyFile}, "--tls-cert"},
		{"unreadable cert", []string{"--tls-cert", filepath.Join(t.TempDir(), "missing.pem"), "--tls-key", keyFile}, "--tls-cert"},
		{"key is the certificate", []string{"--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert"},
	} {
		args := append([]string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0"}, bad.args...)
		if err := run(context.Background(), logger, args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: start-up error %v, want a refusal naming %s", bad.name, err, bad.want)
		}
	}

	st, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	addr := servicetest.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, logger, []string{"--store", st.URL(), "--addr", addr, "--tls-cert", certFile, "--tls-key", keyFile})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("bin/graphql did not stop after its context ended")
		}
	})
	trusted := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	var resp *http.Response
	for deadline := time.Now().Add(15 * time.Second); ; {
		resp, err = trusted.Get("https://" + addr + "/healthz")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("GET /healthz over HTTPS: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz over HTTPS: %d, want 200", resp.StatusCode)
	}
	untrusting := &http.Client{Timeout: 2 * time.Second}
	if _, err := untrusting.Get("https://" + addr + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the CA: %v, want a certificate error", err)
	}
	if resp, err := untrusting.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP got the health answer")
		}
	}
}

// --help is not a failure: run reports flag.ErrHelp, which main ends with
// exit status 0 (an unknown flag stays an error).
func TestHelpIsNotAFailure(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), log, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v, want flag.ErrHelp", err)
	}
	if err := run(context.Background(), log, []string{"--nope"}); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Errorf("--nope: %v, want an error other than flag.ErrHelp", err)
	}
}
