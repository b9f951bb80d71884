package command_test

import (
	"context"
	"slices"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestLatestSeesEveryWriter: Latest answers what Load answers — a missing
// stream, then the events this handler appended, then events another
// writer appended behind the cache's back — and a command executed after
// it decides on the same history.
func TestLatestSeesEveryWriter(t *testing.T) {
	st := startStore(t)
	ctx := context.Background()
	reads := &readsFrom{Store: st}
	h := command.New(reads, command.Options{Clock: clock})
	other := command.New(st, command.Options{Clock: clock})
	same := func(step string) command.History {
		t.Helper()
		got, err := h.Latest(ctx, "test-1")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		want, err := command.Load(ctx, st, "test-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Exists != want.Exists || len(got.Events) != len(want.Events) {
			t.Fatalf("%s: Latest exists %v, %d events; Load exists %v, %d", step, got.Exists, len(got.Events), want.Exists, len(want.Events))
		}
		for i := range want.Events {
			g, w := got.Events[i], want.Events[i]
			if g.ID != w.ID || g.Revision != w.Revision || g.Type != w.Type || string(g.Data) != string(w.Data) || string(g.Metadata) != string(w.Metadata) {
				t.Fatalf("%s: event %d is %+v, the store has %+v", step, i, g, w)
			}
		}
		return got
	}
	same("missing stream")
	run := func(x *command.Handler) {
		t.Helper()
		if _, err := x.Execute(ctx, command.Command{Name: "count", Stream: "test-1", Decide: appendOne}); err != nil {
			t.Fatal(err)
		}
	}
	run(h)
	reads.from = nil
	same("after its own append") // cached: an empty read of the tail
	if want := []uint64{1}; !slices.Equal(reads.from, want) {
		t.Fatalf("Latest read the stream from %v, want only the tail %v", reads.from, want)
	}
	run(other)
	run(other)
	same("after another writer's two appends")
	run(h) // decides on the cached history Latest extended
	if got := same("after appending on it"); len(got.Events) != 4 {
		t.Fatalf("%d events, want 4", len(got.Events))
	}
	evs, err := st.ReadStream(ctx, "test-1", eventstore.ReadOptions{From: 3})
	if err != nil || len(evs) != 1 {
		t.Fatalf("read the last event: %v, %d events", err, len(evs))
	}
	if string(evs[0].Data) != `{"n":3}` {
		t.Fatalf("the last command decided on a stale history: %s", evs[0].Data)
	}
}

// readsFrom is the store, noting where each stream read starts.
type readsFrom struct {
	eventstore.Store
	from []uint64
}

func (r *readsFrom) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	r.from = append(r.from, opts.From)
	return r.Store.ReadStream(ctx, stream, opts)
}

// TestPrefetch: a stream the handler does not hold is read once into its
// cache, and a command on it then decides on that history without a read
// of its own; a held stream, or any stream of a handler without a cache,
// is not read.
func TestPrefetch(t *testing.T) {
	st := startStore(t)
	ctx := context.Background()
	reads := &readsFrom{Store: st}
	h := command.New(reads, command.Options{Clock: clock})
	other := command.New(st, command.Options{Clock: clock})
	for range 2 {
		if _, err := other.Execute(ctx, command.Command{Name: "count", Stream: "test-p", Decide: appendOne}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Prefetch(ctx, "test-p")(); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0}; !slices.Equal(reads.from, want) {
		t.Fatalf("Prefetch read from %v, want the whole stream once %v", reads.from, want)
	}
	reads.from = nil
	wait := h.Prefetch(ctx, "test-p")
	if err := wait(); err != nil || wait() != nil {
		t.Fatalf("Prefetch of a held stream: %v", err)
	}
	if _, err := h.Execute(ctx, command.Command{Name: "count", Stream: "test-p", Decide: appendOne}); err != nil {
		t.Fatal(err)
	}
	if len(reads.from) != 0 {
		t.Fatalf("read %v after the prefetch, want no read", reads.from)
	}
	evs, err := st.ReadStream(ctx, "test-p", eventstore.ReadOptions{From: 2})
	if err != nil || len(evs) != 1 || string(evs[0].Data) != `{"n":2}` {
		t.Fatalf("the command did not decide on the prefetched history: %v, %v", err, evs)
	}

	uncached := command.New(reads, command.Options{Clock: clock, CacheStreams: -1})
	if err := uncached.Prefetch(ctx, "test-p")(); err != nil || len(reads.from) != 0 {
		t.Fatalf("a handler without a cache prefetched (%v, reads %v)", err, reads.from)
	}
}
