package projector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestStaleSnapshotTempsRemovedAtStart: a process killed while it writes
// a snapshot (or a side file) leaves the write's temporary file; nothing
// removed it, one more per crash (8 GB each at 1 M craftsmen). The next
// start removes them, and only them, before it loads the snapshot.
func TestStaleSnapshotTempsRemovedAtStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, end := storeWith(t, ctx, 3, "craftsman-a")
	dir := t.TempDir()
	path := filepath.Join(dir, "readmodel.snap")
	_, _, stop := runUntilReady(t, ctx, st, path, end)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// What a write cut short leaves: the temporary files writeAtomic
	// creates, for the snapshot and for a side file.
	var stale []string
	for _, pattern := range []string{"readmodel.snap.tmp-*", "readmodel.snap.tmp-*", "readmodel.snap.elig.tmp-*"} {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		stale = append(stale, f.Name())
	}
	keep := []string{path, filepath.Join(dir, "readmodel.snap.elig"), filepath.Join(dir, "other.tmp-1"), filepath.Join(dir, "readmodel.snap2.tmp-1")}
	for _, k := range keep[1:] {
		if err := os.WriteFile(k, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	p, m, stop := runUntilReady(t, ctx, st, path, end)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	for _, f := range stale {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there after a start (%v)", filepath.Base(f), err)
		}
	}
	for _, k := range keep {
		if _, err := os.Stat(k); err != nil {
			t.Errorf("%s: %v; want it kept", filepath.Base(k), err)
		}
	}
	if s := p.Status(); s.Applied != 0 || m.Len() != 3 {
		t.Errorf("applied %d, %d events; want the snapshot loaded (0, 3)", s.Applied, m.Len())
	}
}

// slowSnapshots is a Memory whose snapshot writes wait for release, and
// which refuses every batch after the first (as a gap would).
type slowSnapshots struct {
	*readmodel.Memory
	applies atomic.Int32
	writing chan struct{} // closed when the first snapshot write starts
	once    sync.Once
	release chan struct{}
	written atomic.Bool
}

func (s *slowSnapshots) Apply(b []eventstore.RecordedEvent, cp eventstore.Position) error {
	if s.applies.Add(1) > 1 {
		return errs.E(errs.FailedPrecondition, "projection: refused by the test")
	}
	return s.Memory.Apply(b, cp)
}

func (s *slowSnapshots) WriteSnapshot(path, projection string) error {
	s.once.Do(func() { close(s.writing) })
	<-s.release
	err := s.Memory.WriteSnapshot(path, projection)
	s.written.Store(true)
	return err
}

// TestFailWaitsForTheBackgroundSnapshot: a fatal stop while a snapshot is
// written in the background. Run returned at once, and its caller (the
// server's main) exited with the write cut short, its temporary file
// left behind. Now it returns once the write is done.
func TestFailWaitsForTheBackgroundSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _ := storeWith(t, ctx, 3, "craftsman-a")
	dir := t.TempDir()
	m := &slowSnapshots{Memory: readmodel.NewMemory(), writing: make(chan struct{}), release: make(chan struct{})}
	p, err := New(Config{Store: st, Model: m, SnapshotPath: filepath.Join(dir, "readmodel.snap"), SnapshotEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-m.writing:
	case <-ctx.Done():
		t.Fatal("no background snapshot started")
	}
	// The next batch is refused: the projection stops.
	if _, err := st.Append(ctx, "craftsman-a", eventstore.Any(), eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for p.Status().Err == nil {
		select {
		case <-ctx.Done():
			t.Fatal("the projection did not stop")
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a snapshot was being written", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(m.release)
	if err := <-done; !errors.Is(err, errs.FailedPrecondition) {
		t.Fatalf("Run = %v, want FAILED_PRECONDITION", err)
	}
	if !m.written.Load() {
		t.Error("Run returned before the background snapshot was written")
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}
