package projector

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
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
