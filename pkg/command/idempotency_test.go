package command_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// fact decides one event of type typ with data {"n": n}.
func fact(typ string, n int) command.DecideFunc {
	return func(context.Context, command.History) ([]command.Event, error) {
		return []command.Event{{Type: typ, Data: counted{N: n}}}, nil
	}
}

// TestIdempotencyKeyBelongsToCallerAndRequest: a key answers only for the
// organisation that used it and only for the same request.
func TestIdempotencyKeyBelongsToCallerAndRequest(t *testing.T) {
	st := startStore(t)
	ctx := context.Background()
	const stream = "test-keys"
	a := command.Meta{Issuer: "academy-a", Actor: "ua", IdempotencyKey: "paper-42"}
	b := command.Meta{Issuer: "academy-b", Actor: "ub", IdempotencyKey: "paper-42"}
	for _, batch := range []bool{false, true} {
		h := command.New(st, command.Options{Clock: clock, CacheStreams: -1})
		run := func(m command.Meta, name string, d command.DecideFunc) (command.Result, error) {
			c := command.Command{Name: name, Stream: stream, Meta: m, Decide: d, RetryOnConflict: true}
			if batch {
				r := h.ExecuteBatch(ctx, stream, []command.Command{c})[0]
				return r.Result, r.Err
			}
			return h.Execute(ctx, c)
		}
		count := func() int {
			evs, _ := st.ReadStream(ctx, stream, eventstore.ReadOptions{})
			return len(evs)
		}
		if batch {
			a.IdempotencyKey, b.IdempotencyKey = "paper-43", "paper-43"
		}
		first, err := run(a, "record", fact("Fact.v1", 1))
		if err != nil || first.Replayed {
			t.Fatalf("batch=%v: first %+v %v", batch, first, err)
		}
		// Another organisation's key of the same name is its own: it writes.
		other, err := run(b, "record", fact("Fact.v1", 1))
		if err != nil || other.Replayed || other.EventIDs[0] == first.EventIDs[0] {
			t.Fatalf("batch=%v: academy B reusing A's key: %+v %v (A's %+v)", batch, other, err, first)
		}
		// True repeats replay each caller's own result.
		againA, err := run(a, "record", fact("Fact.v1", 1))
		if err != nil || !againA.Replayed || againA.EventIDs[0] != first.EventIDs[0] || againA.Revision != first.Revision {
			t.Fatalf("batch=%v: A's repeat %+v %v, first %+v", batch, againA, err, first)
		}
		againB, err := run(b, "record", fact("Fact.v1", 1))
		if err != nil || !againB.Replayed || againB.EventIDs[0] != other.EventIDs[0] {
			t.Fatalf("batch=%v: B's repeat %+v %v, first %+v", batch, againB, err, other)
		}
		before := count()
		// The same key with another body, or for another command, is refused.
		if _, err := run(a, "record", fact("Fact.v1", 2)); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("batch=%v: same key, other body: %v, want FAILED_PRECONDITION", batch, err)
		}
		if _, err := run(b, "other command", fact("Other.v1", 1)); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("batch=%v: same key, other command: %v, want FAILED_PRECONDITION", batch, err)
		}
		dated := func(at time.Time) command.DecideFunc {
			return func(context.Context, command.History) ([]command.Event, error) {
				return []command.Event{{Type: "Fact.v1", Data: counted{N: 1}, OccurredAt: at}}, nil
			}
		}
		if _, err := run(a, "record", dated(fixed.AddDate(-1, 0, 0))); !errors.Is(err, errs.FailedPrecondition) {
			t.Fatalf("batch=%v: same key, another date: %v, want FAILED_PRECONDITION", batch, err)
		}
		if n := count(); n != before {
			t.Fatalf("batch=%v: refused repeats wrote %d events", batch, n-before)
		}
	}
}
