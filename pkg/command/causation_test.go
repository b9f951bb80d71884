package command_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestCausationDefaultsToASafeKey: an event's causation id defaults to the
// idempotency key only when the key is a ValidRequestID; a key holding a
// spreadsheet formula (a client's, or a back-fill file's) is not copied
// into the metadata, the first event id is used instead. Alone and batched.
func TestCausationDefaultsToASafeKey(t *testing.T) {
	st := startStore(t)
	ctx := context.Background()
	h := command.New(st, command.Options{Clock: clock, CacheStreams: -1})
	for _, batch := range []bool{false, true} {
		for i, key := range []string{"paper-42", `=HYPERLINK("http://evil.example","x")`, "two words"} {
			stream := "test-causation-" + string(rune('a'+i))
			if batch {
				stream += "-batch"
			}
			c := command.Command{Name: "record", Stream: stream, Meta: command.Meta{Issuer: "academy-a", Actor: "ua", IdempotencyKey: key},
				Decide: fact("Fact.v1", 1)}
			var res command.Result
			var err error
			if batch {
				r := h.ExecuteBatch(ctx, stream, []command.Command{c})[0]
				res, err = r.Result, r.Err
			} else {
				res, err = h.Execute(ctx, c)
			}
			if err != nil {
				t.Fatalf("batch=%v key %q: %v", batch, key, err)
			}
			evs, err := st.ReadStream(ctx, stream, eventstore.ReadOptions{})
			if err != nil || len(evs) != 1 {
				t.Fatalf("batch=%v key %q: %d events, %v", batch, key, len(evs), err)
			}
			var m command.Metadata
			if err := json.Unmarshal(evs[0].Metadata, &m); err != nil {
				t.Fatal(err)
			}
			want := key
			if command.ValidRequestID(key) != nil {
				want = res.EventIDs[0]
			}
			if m.CausationID != want || m.CorrelationID != want {
				t.Errorf("batch=%v key %q: causation %q correlation %q, want %q", batch, key, m.CausationID, m.CorrelationID, want)
			}
		}
	}
}
