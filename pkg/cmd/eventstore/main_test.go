package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeUntilSignal: the command listens where told, logs it, serves the
// official client, and returns cleanly on SIGTERM; the data survives.
func TestServeUntilSignal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := servicetest.FreeAddr(t)
	var logs syncBuffer
	sig := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--data", dir, "--addr", addr, "--insecure"}, slog.New(slog.NewTextHandler(&logs, nil)), sig)
	}()
	c := esdbtest.Connect(t, "esdb://"+addr+"?tls=false")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.AppendToStream(ctx, "cmd-test", esdb.AppendToStreamOptions{}, esdb.EventData{
		EventID: uuid.New(), EventType: "T", ContentType: esdb.ContentTypeJson, Data: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	sig <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no clean shutdown after SIGTERM")
	}
	out := logs.String()
	if !strings.Contains(out, "event store listening") || !strings.Contains(out, addr) || !strings.Contains(out, "shutting down") {
		t.Errorf("log lacks the listen address or the shutdown:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "FORMAT")); err != nil {
		t.Errorf("data dir not initialised: %v", err)
	}
}

func TestSecureModeNeedsCertificates(t *testing.T) {
	err := run([]string{"--data", t.TempDir(), "--addr", "127.0.0.1:0"}, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("run without TLS files or --insecure: %v", err)
	}
}

// --help is not a failure: run reports flag.ErrHelp, which main ends with
// exit status 0 (an unknown flag stays an error).
func TestHelpIsNotAFailure(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if err := run([]string{"--help"}, log, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v, want flag.ErrHelp", err)
	}
	if err := run([]string{"--nope"}, log, nil); err == nil || errors.Is(err, flag.ErrHelp) {
		t.Errorf("--nope: %v, want an error other than flag.ErrHelp", err)
	}
}

// --password-file is read before anything starts: with --insecure (which
// checks no password) it is refused, and so is a file that is missing or
// names no login:password.
func TestPasswordFileRefusals(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	dir := t.TempDir()
	good := filepath.Join(dir, "pw")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte("admin:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--insecure", "--password-file", good}, "--insecure accepts everyone"},
		{[]string{"--tls-cert", "c", "--tls-key", "k", "--password-file", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"--tls-cert", "c", "--tls-key", "k", "--password-file", bad}, "line 1: want login:password"},
	} {
		err := run(append([]string{"--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0"}, c.args...), log, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
