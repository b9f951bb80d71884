//go:build unix

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/audit/audittest"
)

// TestOutFollowsLinksAndWritesSpecialFilesInPlace: --out through a
// symbolic link replaces the file it names and keeps the link; --out
// naming something that is not a regular file (a named pipe here, as
// /dev/stdout or /dev/null) is written in place, never replaced by a
// regular file renamed over it.
func TestOutFollowsLinksAndWritesSpecialFilesInPlace(t *testing.T) {
	st, srv := audittest.Store(t)
	audittest.Population(t, st, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := "--store=" + srv.URL()
	dir := t.TempDir()

	real := filepath.Join(dir, "real.jsonl")
	link := filepath.Join(dir, "link.jsonl")
	if err := os.WriteFile(real, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.jsonl", link); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(ctx, "export", store, "--craftsman", "c-0001", "--out", link); code != 0 {
		t.Fatalf("export through a link: exit %d %s", code, errOut)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(real); strings.Count(string(b), "\n") != len(audittest.Career("x")) {
		t.Errorf("the linked file holds %q", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Errorf("the linked file's mode is %v, want 0600 kept", fi.Mode())
	}

	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if code, _, errOut := run(ctx, "export", store, "--craftsman", "c-0001", "--out", fifo); code != 0 {
		t.Fatalf("export to a named pipe: exit %d %s", code, errOut)
	}
	select {
	case b := <-got:
		if strings.Count(b, "\n") != len(audittest.Career("x")) {
			t.Errorf("read from the pipe: %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Error("nothing was written to the named pipe")
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close() // let the reader go
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("%d files left, want the file, the link and the pipe", len(ents))
	}
}
