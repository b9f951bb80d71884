package fault_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

// mountTmpfs mounts a tmpfs of size (e.g. "24m") with extra options at a new
// directory and unmounts it at cleanup; it skips the test when mounting is
// not possible (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string, opts ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o := strings.Join(append([]string{"size=" + size}, opts...), ",")
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", o, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, b)
	}
	t.Cleanup(func() {
		if b, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, b)
		}
	})
	return dir
}

func remount(t *testing.T, dir string, opts string) {
	t.Helper()
	if b, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, opts, err, b)
	}
}

// TestStoreUnwritableDataDir: bin/eventstore given a data directory on a
// read-only file system exits at once with an error naming the directory
// and the cause, instead of starting and failing later.
func TestStoreUnwritableDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system")
	}
	dir := mountTmpfs(t, "4m", "ro")
	data := filepath.Join(dir, "store")
	p := startProc(t, "eventstore", binary(t, storePkg), nil, "--data", data, "--addr", servicetest.FreeAddr(t), "--insecure")
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the store started on a read-only directory\n%s", p.out)
	}
	out := p.out.String()
	t.Logf("exit: %v; output: %s", p.err, strings.TrimSpace(out))
	if p.err == nil {
		t.Error("exit status 0 on an unwritable data directory")
	}
	if !strings.Contains(out, data) || !strings.Contains(strings.ToLower(out), "read-only") {
		t.Errorf("the error does not name the directory and the cause: %s", out)
	}
}

// TestStoreDiskFull: bin/eventstore runs on a 24 MiB tmpfs; training
// completions go through the services while a filler fills the disk with
// large events. Checked: once the disk is full, appends fail with an error
// (the services answer 5xx, nothing acknowledged that is not on disk); the
// store process neither hangs the callers nor corrupts its data: after the
// space returns (the tmpfs grown) and the store is restarted, every
// acknowledged event is readable at its revision, $all reads to its end,
// and new commands succeed.
func TestStoreDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system and fills it")
	}
	dir := mountTmpfs(t, "24m")
	data, addr := filepath.Join(dir, "store"), servicetest.FreeAddr(t)
	store := startStore(t, data, addr)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(addr), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-disk")
	ids := register(t, c, "disk", 8)

	// Fill the disk with 256 KiB events through the store client, checking
	// each acknowledged one later.
	st := openStore(t, storeURL(addr))
	raw := make([]byte, 192<<10)
	_, _ = rand.Read(raw) // incompressible: pebble compresses its tables
	big := []byte(`"` + base64.StdEncoding.EncodeToString(raw) + `"`)
	type acked struct {
		stream string
		rev    uint64
		id     string
	}
	var fills []acked
	var fillErr error
	for i := 0; i < 400; i++ {
		id := command.EventID("filler", fmt.Sprint(i), 0)
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		res, err := st.Append(actx, "filler-1", eventstore.Any(), eventstore.EventData{ID: id, Type: "Filler.v1", Data: big})
		cancel()
		if err != nil {
			fillErr = err
			break
		}
		fills = append(fills, acked{"filler-1", res.NextRevision, id})
	}
	if fillErr == nil {
		t.Fatalf("400 events of 256 KiB fitted on a 24 MiB disk")
	}
	t.Logf("disk full after %d filler events: %v", len(fills), fillErr)
	if mode := fullDiskMode(fillErr); mode != "" {
		t.Logf("the store %s", mode)
	}

	// The services now answer with an error, promptly, and say why.
	var cmds []*keyed
	for i := range 2 {
		k := &keyed{craftsman: ids[i], key: fmt.Sprintf("full-%d", i)}
		cmds = append(cmds, k)
		a, err := c.Complete(ctx, k.craftsman, k.key)
		if err != nil {
			t.Fatalf("completion on a full disk: no answer: %v", err)
		}
		t.Logf("completion on a full disk: %d %s %q (Retry-After %q)", a.Status, a.Error.Code, a.Error.Message, a.RetryAfter)
		if a.OK() {
			t.Errorf("a completion was acknowledged on a full disk: %s", a.Body)
			k.acked, k.ans = true, a
		} else if a.Status < 500 {
			t.Errorf("full disk answered %d, want a 5xx", a.Status)
		}
	}
	t.Logf("store process alive: %v; its log:\n%s", !store.exited(), tail(store.out.String(), 15))

	// Space returns; the store is restarted on the same directory.
	remount(t, dir, "size=256m")
	// Refused by the store's free-space check, writes resume by themselves
	// once space is free; only after a failed pebble commit (space taken
	// by something else between the check and the write) does the store
	// refuse writes until it is restarted.
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err = st.Append(actx, "filler-2", eventstore.Any(), eventstore.EventData{ID: command.EventID("filler2", "0", 0), Type: "Filler.v1", Data: []byte(`{}`)})
	cancel()
	t.Logf("append once the space is back, before a restart: %v", err)
	store.kill(t)
	store = startStore(t, data, addr)
	for _, f := range fills {
		evs := readStream(t, st, f.stream)
		if int(f.rev) >= len(evs) || evs[f.rev].ID != f.id {
			t.Fatalf("acknowledged filler event %s at %d lost after the disk was full", f.id, f.rev)
		}
	}
	// $all reads to its end: every record decodes.
	all, err := st.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatalf("read $all after recovery: %v", err)
	}
	t.Logf("$all holds %d events after recovery", len(all))
	// New commands succeed; the ones refused on the full disk, retried with
	// their keys, are written once.
	for _, k := range cmds {
		eventually(t, 60*time.Second, "retry of "+k.key, func() bool {
			a, err := c.Complete(ctx, k.craftsman, k.key)
			if err == nil && a.OK() {
				k.acked, k.ans = true, a
			}
			return k.acked
		})
	}
	checkExactlyOnce(t, st, cmds)
	store.term(t)
}

// fullDiskMode names how the store answered the append that did not fit.
func fullDiskMode(err error) string {
	switch {
	case strings.Contains(err.Error(), "store cannot write: no space left on device"):
		return "refused the append before writing it: free space below its reserve (pkg/esdbserver diskspace.go)"
	case strings.Contains(err.Error(), "no space left on device"):
		return "refused the append with the file system's error (its WAL write failed)"
	case strings.Contains(err.Error(), "did not answer in time"):
		return "did not answer the append: writes stalled (a memtable flush could not write), the caller's deadline ended it"
	}
	return ""
}

// TestStoreDiskFullAnswersClearly: on a full disk the store answers every
// append promptly with a classified error naming the cause (not gRPC
// Unknown, not a stall until the caller's deadline), and the services
// answer 503 with Retry-After and a message that says the store cannot
// write — not 500 "internal error" or a 504 after 10 s. (A known bug until
// pkg/esdbserver checked free space before each commit.)
func TestStoreDiskFullAnswersClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system and fills it")
	}
	dir := mountTmpfs(t, "24m")
	addr := servicetest.FreeAddr(t)
	startStore(t, filepath.Join(dir, "store"), addr)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(addr), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-disk2")
	ids := register(t, c, "disk2", 2)
	st := openStore(t, storeURL(addr))
	raw := make([]byte, 192<<10)
	_, _ = rand.Read(raw)
	big := []byte(`"` + base64.StdEncoding.EncodeToString(raw) + `"`)
	var fillErr error
	for i := 0; i < 400 && fillErr == nil; i++ {
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_, fillErr = st.Append(actx, "filler-1", eventstore.Any(), eventstore.EventData{ID: command.EventID("filler", fmt.Sprint(i), 0), Type: "Filler.v1", Data: big})
		cancel()
	}
	if fillErr == nil || !strings.Contains(fillErr.Error(), "no space left") || strings.Contains(fillErr.Error(), "ErrorCode 0") {
		t.Errorf("store answer on a full disk: %v; want a classified error naming the cause", fillErr)
	}
	a, err := c.Complete(ctx, ids[0], "full-0")
	if err != nil || a.Status != 503 || a.RetryAfter == "" || !strings.Contains(a.Error.Message, "space") {
		t.Errorf("service answer on a full disk: %v %d %q, want 503 + Retry-After saying the store is out of space", err, a.Status, a.Error.Message)
	}
	// Space returns: writes succeed again without restarting the store.
	remount(t, dir, "size=256m")
	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_, err = st.Append(actx, "filler-2", eventstore.Any(), eventstore.EventData{ID: command.EventID("filler2", "0", 0), Type: "Filler.v1", Data: []byte(`{}`)})
	cancel()
	if err != nil {
		t.Errorf("append once the space is back, without a restart: %v", err)
	}
	eventually(t, 60*time.Second, "completion once the space is back", func() bool {
		a, err := c.Complete(ctx, ids[0], "full-0")
		return err == nil && a.OK()
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
