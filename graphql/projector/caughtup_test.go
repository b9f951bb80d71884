package projector

import (
	"context"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestCaughtUpKeptAcrossBatches: the subscription says it caught up once,
// and live events may already be queued behind that message when the
// projector drains it into a batch (a small BatchSize, a projector busy
// applying while the store sends). The signal waits for the batch that
// leaves nothing queued. It was dropped with the full batch it arrived
// in, so the projection never caught up (Ready false, /readyz 503, the
// population indexes never built) and, after a drop, CaughtUp stayed
// false (read-your-writes waits on unfollowed streams timed out). The
// channel is filled ahead, as the projector's reader fills it while a
// batch is applied, so the test does not depend on scheduling.
func TestCaughtUpKeptAcrossBatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, _ := storeWith(t, ctx, 6, "craftsman-q")
	evs, err := st.ReadAll(ctx, eventstore.ReadAllOptions{Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}})
	if err != nil || len(evs) != 6 {
		t.Fatalf("read the store's events: %d, %v", len(evs), err)
	}
	for _, tc := range []struct {
		name  string
		batch int
		at    int // the CaughtUp message comes after this many events
	}{
		{"in a full batch with events queued behind it", 2, 2},
		{"first of a batch", 2, 4},
		{"one event per batch", 1, 3},
		{"last event", 2, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := make(chan eventstore.Message, len(evs)+1)
			for i := range evs {
				if i == tc.at {
					msgs <- eventstore.Message{CaughtUp: true}
				}
				msgs <- eventstore.Message{Event: &evs[i]}
			}
			if tc.at == len(evs) {
				msgs <- eventstore.Message{CaughtUp: true}
			}
			close(msgs)
			m := readmodel.NewMemory()
			p, err := New(Config{Store: st, Model: m, BatchSize: tc.batch})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.applyAll(msgs); err != nil {
				t.Fatal(err)
			}
			s := p.Status()
			if m.Len() != len(evs) || !s.CaughtUp || !s.EverCaughtUp || !p.Ready() {
				t.Errorf("%d events applied in %d batches: CaughtUp %v, EverCaughtUp %v; want all %d, caught up", m.Len(), s.Batches, s.CaughtUp, s.EverCaughtUp, len(evs))
			}
		})
	}
}
