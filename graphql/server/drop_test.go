package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestResumeAfterTheStoreRestarts kills the store under a live projection:
// the subscription drops, the projector resubscribes from its checkpoint
// once the store is back, and every event is applied exactly once.
func TestResumeAfterTheStoreRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs := startRestartable(ctx, t, 4)
	st, l := rs.store, rs.l
	h := startServer(t, l, "", server.Limits{})
	h.caughtUp()
	before := h.srv.Model().Len()

	rs.stop()
	rs.restart()

	// Appends retry until the client has reconnected.
	added := 0
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("d%d", i)
		p := events.TradeEntered{CraftsmanID: id, Trade: events.Trade{Code: fmt.Sprintf("6-0%d-01-01", i)}}
		for {
			ok := func() (ok bool) {
				defer func() { _ = recover() }()
				typ, data, _ := events.Encode(p)
				meta, _ := events.EncodeMetadata(events.NewMetadata(typ, day("2024-01-01"), "emp1", "u"))
				res, err := st.Append(ctx, "craftsman-"+id, eventstore.Any(), eventstore.EventData{Type: typ, Data: data, Metadata: meta})
				if err != nil {
					return false
				}
				l.last = res.Position
				return true
			}()
			if ok {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("store did not come back: %v", ctx.Err())
			}
			time.Sleep(100 * time.Millisecond)
		}
		added++
	}
	h.caughtUp()
	if got, want := h.srv.Model().Len(), before+added; got != want {
		t.Errorf("model holds %d events, want %d (no gap, no double counting)", got, want)
	}
	if st := h.srv.Projector().Status(); st.Drops == 0 || st.Err != nil {
		t.Errorf("status %+v: want at least one drop and no error", st)
	}
}

// restartable is an embedded store a test stops and starts again on the
// same directory and address, a client of it and a ledger seeded on it.
type restartable struct {
	t         *testing.T
	srv       *esdbserver.Server
	dir, addr string
	store     eventstore.Store
	l         *ledger
}

// startRestartable starts the store, connects (2 s per call, so that calls
// fail fast while it is down) and seeds n craftsmen.
func startRestartable(ctx context.Context, t *testing.T, n int) *restartable {
	t.Helper()
	dir := t.TempDir()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: dir, Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL(), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	l := &ledger{t: t, store: st, heads: map[string]string{}}
	seed(l, n)
	return &restartable{t: t, srv: srv, dir: dir, addr: srv.Addr(), store: st, l: l}
}

// stop stops the store.
func (r *restartable) stop() {
	r.t.Helper()
	if err := r.srv.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// restart starts the store again on its directory and address.
func (r *restartable) restart() {
	r.t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: r.dir, Addr: r.addr, Insecure: true})
	if err != nil {
		r.t.Fatalf("restart the store on %s: %v", r.addr, err)
	}
	r.srv = srv
	r.t.Cleanup(func() { _ = srv.Close() })
}
