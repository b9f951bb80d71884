package projector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestSnapshotWakesWaiters: a WaitFor caller that arrived before the
// snapshot was loaded is woken by the load itself (not by the next event
// or a poll), and one that asks for a position the snapshot covers
// returns at once.
func TestSnapshotWakesWaiters(t *testing.T) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	res, err := st.Append(ctx, "craftsman-w1", eventstore.NoStream(),
		eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)},
		eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "readmodel.snap")

	// First life: project everything, write the final snapshot.
	p1, err := New(Config{Store: st, Model: readmodel.NewMemory(), SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p1.Run(rctx) }()
	if err := p1.WaitFor(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	rcancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Second life: a waiter's wake-up channel is taken before the load.
	p2, err := New(Config{Store: st, Model: readmodel.NewMemory(), SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	p2.mu.Lock()
	ch := p2.advance
	p2.mu.Unlock()
	if err := p2.LoadSnapshot(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("loading the snapshot moved the position but did not wake waiters")
	}
	if st := p2.Status(); !st.HasPosition || st.Position != res.Position {
		t.Fatalf("restored position %+v, want %+v", st.Position, res.Position)
	}
	// A waiter for a covered position returns without the projector
	// running at all (an expired context would make it fail otherwise).
	expired, ecancel := context.WithCancel(ctx)
	ecancel()
	if err := p2.WaitFor(expired, res.Position); err != nil {
		t.Fatalf("wait for a position the snapshot covers: %v", err)
	}
	// Covered is not ready: until the projector has looked at the log's
	// end, WaitReady does not return (here: the context has ended) …
	if err := p2.WaitReady(expired); err == nil {
		t.Fatal("WaitReady returned before the restored projector ever ran")
	}
	// … and once it runs and reaches the end, it does.
	rctx2, rcancel2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() { done2 <- p2.Run(rctx2) }()
	if err := p2.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady after Run: %v", err)
	}
	if !p2.Ready() {
		t.Error("WaitReady returned but the projector is not Ready")
	}
	rcancel2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
}

// storeWith starts an embedded store and appends n events to each of the
// streams named, in turn; it returns the client and the last position.
func storeWith(t *testing.T, ctx context.Context, n int, streams ...string) (*eventstore.Client, eventstore.Position) {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var last eventstore.Position
	for _, s := range streams {
		evs := make([]eventstore.EventData, n)
		for i := range evs {
			evs[i] = eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)}
		}
		res, err := st.Append(ctx, s, eventstore.NoStream(), evs...)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	return st, last
}

// runUntilReady runs a projector over st with the snapshot at path until
// it is ready and has applied up to want (when not the start); stop ends
// it and returns Run's error.
func runUntilReady(t *testing.T, ctx context.Context, st eventstore.Store, path string, want eventstore.Position) (*Projector, *readmodel.Memory, func() error) {
	t.Helper()
	m := readmodel.NewMemory()
	p, err := New(Config{Store: st, Model: m, SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(rctx) }()
	stop := func() error { cancel(); return <-done }
	if err := p.WaitReady(ctx); err != nil {
		stop()
		t.Fatal(err)
	}
	if !want.IsStart() {
		if err := p.WaitFor(ctx, want); err != nil {
			stop()
			t.Fatal(err)
		}
	}
	return p, m, stop
}

// TestSnapshotOfAnotherStoreIsRebuilt: a snapshot built on store A, then
// started over store B — empty, or holding other events, more of them
// than A — is discarded at start-up and the model rebuilt from B's log:
// it serves B's events and none of A's, and follows B's new writes. The
// same snapshot over A itself is kept.
func TestSnapshotOfAnotherStoreIsRebuilt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, aEnd := storeWith(t, ctx, 3, "craftsman-a1", "craftsman-a2")
	dir := t.TempDir()
	path := filepath.Join(dir, "readmodel.snap")
	_, _, stop := runUntilReady(t, ctx, a, path, aEnd)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// The same store: the snapshot is kept.
	p, m, stop := runUntilReady(t, ctx, a, path, aEnd)
	if st := p.Status(); st.Rebuilds != 0 || st.Applied != 0 || m.Len() != 6 {
		t.Errorf("restart over the same store: rebuilds %d, applied %d, %d events; want 0, 0, 6", st.Rebuilds, st.Applied, m.Len())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A model the caller loaded itself (no SnapshotPath: the restart
	// benchmark's way over an empty store) is the caller's: kept.
	t.Run("loaded by the caller", func(t *testing.T) {
		empty, _ := storeWith(t, ctx, 0)
		m := readmodel.NewMemory()
		if err := m.LoadSnapshot(path, Name); err != nil {
			t.Fatal(err)
		}
		p, err := New(Config{Store: empty, Model: m})
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(rctx) }()
		if err := p.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		rcancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := p.Status(); st.Rebuilds != 0 || m.Len() != 6 {
			t.Errorf("rebuilds %d, %d events; want the caller's model kept: 0, 6", st.Rebuilds, m.Len())
		}
	})

	for _, tc := range []struct {
		name    string
		streams []string // B's streams, 4 events each
	}{
		{name: "empty store"},
		{name: "other events", streams: []string{"craftsman-b1", "craftsman-b2", "craftsman-b3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A path of its own: no other model here maps its file.
			path := filepath.Join(t.TempDir(), "readmodel.snap")
			if err := os.WriteFile(path, snap, 0o644); err != nil {
				t.Fatal(err)
			}
			b, bEnd := storeWith(t, ctx, 4, tc.streams...)
			p, m, stop := runUntilReady(t, ctx, b, path, bEnd)
			defer func() {
				if err := stop(); err != nil {
					t.Error(err)
				}
			}()
			if st := p.Status(); st.Rebuilds != 1 {
				t.Errorf("rebuilds %d, want 1", st.Rebuilds)
			}
			// The discarded snapshot's file (renamed over by the empty
			// one) is no longer mapped: the load that replaced the model
			// let it go.
			if maps, err := os.ReadFile("/proc/self/maps"); err == nil && strings.Contains(string(maps), path+" (deleted)") {
				t.Errorf("the discarded snapshot is still mapped:\n%s", grepLines(string(maps), path))
			}
			if got := m.Stream("craftsman-a1"); len(got) != 0 {
				t.Errorf("store A's events still served: %d of craftsman-a1", len(got))
			}
			if got, want := m.Len(), 4*len(tc.streams); got != want {
				t.Errorf("model holds %d events, want store B's %d", got, want)
			}
			// B's new writes are followed (an emptied store writes at
			// positions before A's checkpoint).
			res, err := b.Append(ctx, "craftsman-new", eventstore.NoStream(), eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.WaitFor(ctx, res.Position); err != nil {
				t.Fatal(err)
			}
			if got := m.Stream("craftsman-new"); len(got) != 1 {
				t.Errorf("a new write to store B: the model holds %d of its events, want 1", len(got))
			}
		})
	}
}

// TestStoreReplacedUnderARunningProjection: the store is replaced by an
// empty one on the same address while the projection runs. Once it
// resubscribes, the projection stops with FailedPrecondition (it does not
// go on serving the old log as if it were the store's); the next start
// rebuilds it (TestSnapshotOfAnotherStoreIsRebuilt).
func TestStoreReplacedUnderARunningProjection(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	res, err := st.Append(ctx, "craftsman-r1", eventstore.NoStream(),
		eventstore.EventData{Type: "Unknown.v1", Data: []byte(`{}`), Metadata: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Store: st, Model: readmodel.NewMemory(), SnapshotPath: filepath.Join(t.TempDir(), "readmodel.snap"), Retry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := p.WaitFor(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv2, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: addr, Insecure: true})
	if err != nil {
		t.Fatalf("start another store on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = srv2.Close() })
	select {
	case err := <-done:
		if !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("Run over a replaced store = %v, want FAILED_PRECONDITION", err)
		}
	case <-ctx.Done():
		t.Fatal("the projection went on over a replaced store")
	}
	if p.Ready() {
		t.Error("a stopped projection reports ready")
	}
}

// grepLines are the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
