package readmodel

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// testSide is a sidecar that writes body and records what it was handed.
type testSide struct {
	name    string
	version uint64
	body    []byte
	got     []byte
	loaded  int
	tag     SnapshotTag
}

func (x *testSide) SidecarName() string    { return x.name }
func (x *testSide) SidecarVersion() uint64 { return x.version }
func (x *testSide) WriteSidecar(w io.Writer, tag SnapshotTag) error {
	_, err := w.Write(x.body)
	return err
}
func (x *testSide) LoadSidecar(body []byte, tag SnapshotTag) {
	x.got, x.tag = body, tag
	x.loaded++
}

// TestSidecarsKeepSideFilesOfTheirSnapshot: a side file written with a
// snapshot comes back with its load, with that snapshot's tag; one of an
// older snapshot, of another version, damaged, or elsewhere is not handed
// over; an empty body removes the file; Dir moves side files.
func TestSidecarsKeepSideFilesOfTheirSnapshot(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "readmodel.snap")
	m := NewMemory()
	if err := m.Apply([]eventstore.RecordedEvent{ev("craftsman-1", 0, 10), ev("craftsman-2", 0, 20)}, at(20)); err != nil {
		t.Fatal(err)
	}
	src := WithSidecars(m)
	a := &testSide{name: "a", version: 1, body: []byte("side a")}
	b := &testSide{name: "b", version: 1}
	src.Add(a)
	src.Add(b)
	if err := src.WriteSnapshot(snap, "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src.SidecarPath(snap, "b")); !os.IsNotExist(err) {
		t.Fatalf("an empty body left a side file: %v", err)
	}
	load := func(want string) *testSide {
		t.Helper()
		dst := WithSidecars(NewMemory())
		x := &testSide{name: "a", version: a.version}
		dst.Add(x)
		if err := dst.LoadSnapshot(snap, "p"); err != nil {
			t.Fatal(err)
		}
		if x.loaded != 1 || string(x.got) != want {
			t.Fatalf("LoadSidecar called %d times with %q, want once with %q", x.loaded, x.got, want)
		}
		if cp, _ := m.Checkpoint(); x.tag.Craftsmen != 2 || !x.tag.HasCheckpoint || x.tag.Checkpoint != cp || x.tag.Epoch != dst.Epoch() {
			t.Fatalf("tag %+v", x.tag)
		}
		return x
	}
	load("side a")
	old, err := os.ReadFile(src.SidecarPath(snap, "a"))
	if err != nil {
		t.Fatal(err)
	}
	// A newer snapshot: the older side file no longer belongs.
	if err := m.Apply([]eventstore.RecordedEvent{ev("craftsman-1", 1, 30)}, at(30)); err != nil {
		t.Fatal(err)
	}
	a.body = []byte("side a, later")
	if err := src.WriteSnapshot(snap, "p"); err != nil {
		t.Fatal(err)
	}
	load("side a, later")
	if err := os.WriteFile(src.SidecarPath(snap, "a"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	load("")
	// WriteSidecars writes them again for the last snapshot (those named).
	if err := src.WriteSidecars("b"); err != nil {
		t.Fatal(err)
	}
	load("")
	if err := src.WriteSidecars("a"); err != nil {
		t.Fatal(err)
	}
	load("side a, later")
	// Damaged.
	raw, _ := os.ReadFile(src.SidecarPath(snap, "a"))
	raw[len(raw)-6] ^= 1
	if err := os.WriteFile(src.SidecarPath(snap, "a"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	load("")
	// Another version.
	a.version = 2
	if err := src.WriteSidecars(); err != nil {
		t.Fatal(err)
	}
	a.version = 1
	load("")
	// Elsewhere: a model told Dir reads its side files there; one not told
	// reads those beside the snapshot.
	if err := src.WriteSidecars("a"); err != nil {
		t.Fatal(err)
	}
	load("side a, later")
	src.Dir = filepath.Join(dir, "side")
	a.body = []byte("side a, elsewhere")
	if err := src.WriteSidecars(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "side", "readmodel.snap.a")); err != nil {
		t.Fatal(err)
	}
	load("side a, later")
	dst := WithSidecars(NewMemory())
	dst.Dir = src.Dir
	x := &testSide{name: "a", version: 1}
	dst.Add(x)
	if err := dst.LoadSnapshot(snap, "p"); err != nil {
		t.Fatal(err)
	}
	if string(x.got) != "side a, elsewhere" {
		t.Fatalf("a model told Dir loaded %q, want the side file written there", x.got)
	}
}
