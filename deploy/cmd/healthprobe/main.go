// Command healthprobe is the health check of craftledger's container images.
// The images are distroless (no shell, no curl), so Compose healthchecks run
// this small static binary instead:
//
//	healthprobe [-timeout 2s] http://127.0.0.1:8080/readyz
//	healthprobe -ca /etc/craftledger/tls/ca.crt https://localhost:8081/readyz
//
// It exits 0 when the URL answers 2xx, 1 otherwise, and 2 on bad usage.
// With -ca an https URL is verified against that PEM CA file instead of
// the system roots (for services started with --tls-cert/--tls-key).
// Kubernetes does not need it: its probes call /healthz and /readyz directly.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	caFile := fs.String("ca", "", "PEM file of the CA to verify an https URL against (default: system roots)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // --help printed the usage
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: healthprobe [-timeout 2s] [-ca FILE] URL")
		return 2
	}
	client, err := newClient(*caFile)
	if err != nil {
		fmt.Fprintln(stderr, "healthprobe:", err)
		return 2
	}
	if err := probe(client, fs.Arg(0), *timeout); err != nil {
		fmt.Fprintln(stderr, "healthprobe:", err)
		return 1
	}
	return 0
}

// newClient is the HTTP client of the probe: the default one, or one
// trusting only the CA in caFile.
func newClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// probe GETs url and reports an error unless it answers 2xx within timeout.
func probe(client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("probe %s: status %s", url, resp.Status)
	}
	return nil
}
