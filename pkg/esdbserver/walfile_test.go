package esdbserver

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
)

// TestWALPrefilledAndRecovered: every WAL file pebble creates is written
// with zeros up to walPrefill before use (prefilledWALFS), and a store
// whose newest WAL ends in those zeros — a copy of its data directory taken
// while it runs, as a crash leaves it — reopens with every acknowledged
// event in place and the head where it was.
func TestWALPrefilledAndRecovered(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	write := func(stream string, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			r := st.submit(&writeOp{kind: opAppend, stream: stream, expected: expectation{kind: expAny},
				events: []proposed{{ID: newUUID(), Type: "T", IsJSON: true, Data: []byte(`{"n":` + strconv.Itoa(i) + `}`)}}})
			if r.err != nil {
				t.Fatal(r.err)
			}
		}
	}
	write("a", 20)
	if err := st.db.Flush(); err != nil { // rotates the WAL: a second new file
		t.Fatal(err)
	}
	write("b", 30)
	logs, err := filepath.Glob(filepath.Join(dir, "pebble", "*.log"))
	if err != nil || len(logs) < 2 {
		t.Fatalf("WAL files %v (%v), want the first and the one the flush started", logs, err)
	}
	for _, l := range logs {
		if fi, err := os.Stat(l); err != nil || fi.Size() < walPrefill {
			t.Errorf("WAL %s: %v bytes (%v), want at least %d written before use", filepath.Base(l), fi.Size(), err, walPrefill)
		}
	}

	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	st2, err := openStore(crashed, log)
	if err != nil {
		t.Fatalf("open the crash image: %v", err)
	}
	defer st2.close()
	if a, b := st2.info("a").Last, st2.info("b").Last; a != 19 || b != 29 {
		t.Errorf("after recovery stream a ends at %d, b at %d; want 19 and 29", a, b)
	}
	if h := st2.head.Load(); h != st.head.Load() || h != 50 {
		t.Errorf("head after recovery %d, want %d (50 events written)", h, st.head.Load())
	}
	n := 0
	if err := st2.scanAll(0, false, func(*record) bool { n++; return true }); err != nil || n != 50 {
		t.Errorf("$all after recovery: %d events (%v), want 50", n, err)
	}
}

// TestWALPrefillFailureCreatesEmptyWAL: when the prefill cannot be written
// (a nearly full disk), the WAL file is still created, empty, as without
// the prefill — pebble panics on a failed WAL creation.
func TestWALPrefillFailureCreatesEmptyWAL(t *testing.T) {
	fs := prefilledWALFS{fullFS{vfs.NewMem()}}
	f, err := fs.Create("000002.log")
	if err != nil {
		t.Fatalf("create a WAL whose prefill fails: %v", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != 0 {
		t.Fatalf("WAL after a failed prefill: %v bytes (%v), want an empty file", fi.Size(), err)
	}
	if _, err := f.Write([]byte("record")); err != nil {
		t.Fatalf("write to the WAL: %v", err)
	}
}

// fullFS is a file system whose files refuse writes at an offset (the
// prefill's WriteAt) with ENOSPC.
type fullFS struct{ vfs.FS }

func (fs fullFS) Create(name string) (vfs.File, error) {
	f, err := fs.FS.Create(name)
	return fullFile{f}, err
}

type fullFile struct{ vfs.File }

func (fullFile) WriteAt([]byte, int64) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "wal", Err: syscall.ENOSPC}
}
