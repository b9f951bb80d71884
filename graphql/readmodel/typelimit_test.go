package readmodel

import (
	"errors"
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestEventTypeLimit: the log numbers event types in 16 bits, so a model
// holds at most 65,536 distinct types; the next is refused (the
// projection stops) and nothing of its batch is applied. A batch that
// itself brought the 65,537th type used to be checked against the table
// as it was before the batch, and that event was recorded as type 0.
func TestEventTypeLimit(t *testing.T) {
	ev := func(rev int, typ string) eventstore.RecordedEvent {
		return eventstore.RecordedEvent{Stream: "craftsman-many", ID: fmt.Sprintf("e%d", rev), Type: typ, Revision: uint64(rev), Position: at(uint64(10 * (rev + 1))), Data: []byte(`{}`)}
	}
	many := func(k int) []eventstore.RecordedEvent {
		var evs []eventstore.RecordedEvent
		for i := 0; i < k; i++ {
			evs = append(evs, ev(i, fmt.Sprintf("Unknown%d.v1", i)))
		}
		return evs
	}
	refused := func(t *testing.T, m *Memory, batch []eventstore.RecordedEvent, held int) {
		t.Helper()
		if err := m.Apply(batch, batch[len(batch)-1].Position); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("a batch bringing the 65,537th type: %v, want FAILED_PRECONDITION", err)
		}
		if m.Len() != held {
			t.Fatalf("the refused batch left %d events, want %d", m.Len(), held)
		}
	}

	t.Run("in one batch", func(t *testing.T) {
		m := NewMemory()
		refused(t, m, many(1<<16+1), 0)
	})
	t.Run("the limit, then one more", func(t *testing.T) {
		m := NewMemory()
		evs := many(1 << 16)
		// The same type twice in one batch counts once.
		evs = append(evs, ev(len(evs), "Unknown0.v1"))
		if err := m.Apply(evs, evs[len(evs)-1].Position); err != nil {
			t.Fatal(err)
		}
		got := m.Stream("craftsman-many")
		for i, e := range got[:1<<16] {
			if want := fmt.Sprintf("Unknown%d.v1", i); e.Type != want {
				t.Fatalf("event %d recorded as %q, want %q", i, e.Type, want)
			}
		}
		refused(t, m, []eventstore.RecordedEvent{ev(len(evs), "Unknown0.v1"), ev(len(evs)+1, "Another.v1")}, len(evs))
		// A known type still goes on.
		k := ev(len(evs), "Unknown7.v1")
		if err := m.Apply([]eventstore.RecordedEvent{k}, k.Position); err != nil || m.Len() != len(evs)+1 {
			t.Fatalf("a known type after the limit: %v, %d events", err, m.Len())
		}
	})
}
