package command_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// pair decides two events, "First.v1" {"n": first} and "Second.v1" {"n": 0}.
func pair(first int) command.DecideFunc {
	return func(context.Context, command.History) ([]command.Event, error) {
		return []command.Event{{Type: "First.v1", Data: counted{N: first}}, {Type: "Second.v1", Data: counted{N: 0}}}, nil
	}
}

// TestFixedIDAppendIsReadBack: two handlers (replicas) on one store, no
// hash chain and one clock, so that two requests under one key differ
// only in the data of their first event. B, its cached copy stale, sends
// A's key with another first event: the store finds the ids at that
// revision and answers the append as a success. B must read back what is
// stored — all of it, the last events are equal — and answer as one
// handler would: FAILED_PRECONDITION for the other body, a replay for
// A's, with nothing of its own cached. The same through ExecuteBatch.
func TestFixedIDAppendIsReadBack(t *testing.T) {
	st := startStore(t)
	ctx := context.Background()
	for _, batch := range []bool{false, true} {
		stream := fmt.Sprintf("test-readback-%v", batch)
		a := command.New(st, command.Options{Clock: clock})
		b := command.New(st, command.Options{Clock: clock})
		run := func(h *command.Handler, key string, d command.DecideFunc) (command.Result, error) {
			c := command.Command{Name: "record", Stream: stream, Meta: command.Meta{Issuer: "academy-a", Actor: "u", IdempotencyKey: key}, Decide: d, RetryOnConflict: true}
			if batch {
				r := h.ExecuteBatch(ctx, stream, []command.Command{c})[0]
				return r.Result, r.Err
			}
			return h.Execute(ctx, c)
		}
		if _, err := run(b, "", appendOne); err != nil { // b caches the stream at revision 0
			t.Fatal(err)
		}
		first, err := run(a, "k", pair(1))
		if err != nil || first.Replayed {
			t.Fatalf("batch=%v: A: %+v %v", batch, first, err)
		}
		if res, err := run(b, "k", pair(2)); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("batch=%v: B, same key, other first event: %+v %v, want FAILED_PRECONDITION", batch, res, err)
		}
		// B's copy is A's events, not its own: the same request replays.
		again, err := run(b, "k", pair(1))
		if err != nil || !again.Replayed || again.Revision != first.Revision || again.Position != first.Position {
			t.Fatalf("batch=%v: B, A's request: %+v %v, want A's %+v replayed", batch, again, err, first)
		}
		// Both handlers decide the next command on the stored events.
		next, err := run(b, "", appendOne)
		if err != nil || next.Revision != 3 {
			t.Fatalf("batch=%v: B's next: %+v %v", batch, next, err)
		}
		evs, err := st.ReadStream(ctx, stream, eventstore.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 4 || string(evs[1].Data) != `{"n":1}` || string(evs[3].Data) != `{"n":3}` {
			t.Fatalf("batch=%v: stored %d events, first of the pair %s", batch, len(evs), evs[1].Data)
		}
	}
}
