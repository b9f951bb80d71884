//go:build unix

package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptLeavesOutAlone: ledgerctl itself (this test binary run as
// main), interrupted with SIGINT while replaying to --out from a store
// that does not answer, exits non-zero, leaves the old file as it was and
// removes its temporary file. Before, --out was truncated at the start
// and left empty.
func TestInterruptLeavesOutAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connected := make(chan struct{}, 1)
	go func() { // accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			select {
			case connected <- struct{}{}:
			default:
			}
		}
	}()
	dir := t.TempDir()
	file := filepath.Join(dir, "all.jsonl")
	const old = "old contents\n"
	if err := os.WriteFile(file, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "LEDGERCTL_AS_MAIN=1", "LEDGERCTL_ARGS=replay\x1f--store=esdb://"+ln.Addr().String()+"?tls=false\x1f--json\x1f--out\x1f"+file)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select { // the command is running: it has opened --out and reached the store
	case <-connected:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("ledgerctl never connected to the store; stderr %s", stderr.String())
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("ledgerctl did not stop within a minute of SIGINT")
	}
	t.Logf("stopped %v after SIGINT: %v; stderr %s", time.Since(start), err, stderr.String())
	if err == nil {
		t.Error("an interrupted replay exited 0")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != old {
		t.Errorf("--out holds %q after the interrupt (%v), want the old contents", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files after the interrupt, want the output alone", len(ents))
	}
}
