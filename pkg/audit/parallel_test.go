package audit_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// plans are parallel reads with chunks and pages small enough to cut the
// tests' few hundred events many times: one event per chunk (every event
// starts a chunk), a few, and more than a page.
var plans = []audit.Plan{
	{Parallel: 2, ChunkEvents: 1, PageSize: 2},
	{Parallel: 2, ChunkEvents: 5, PageSize: 3},
	{Parallel: 3, ChunkEvents: 7, PageSize: 4},
	{Parallel: 4, ChunkEvents: 40, PageSize: 16},
}

// chunks records the chunk bounds a plan's read used.
type chunks struct{ lo []eventstore.Position }

func (c *chunks) plan(p audit.Plan) audit.Plan {
	c.lo = nil
	p.OnChunk = func(lo eventstore.Position, _ *eventstore.Position) { c.lo = append(c.lo, lo) }
	return p
}

// in returns the index of the chunk holding position p.
func (c *chunks) in(p eventstore.Position) int {
	i := -1
	for j, lo := range c.lo {
		if !p.Less(lo) {
			i = j
		}
	}
	return i
}

func (c *chunks) starts(p eventstore.Position) bool {
	for _, lo := range c.lo {
		if lo == p {
			return true
		}
	}
	return false
}

// longStreams writes n streams of three careers each (27 events), one
// career per append, interleaved with other streams' appends, so each
// long stream's events are spread over the log.
func longStreams(t *testing.T, st eventstore.Store, n int) []string {
	t.Helper()
	var names []string
	sealed := map[string][]audittest.Sealed{}
	for i := range n {
		id := fmt.Sprintf("long-%d", i)
		s := events.CraftsmanStream(id)
		var evs []audittest.Event
		for range 3 {
			evs = append(evs, audittest.Career(id)...)
		}
		names, sealed[s] = append(names, s), audittest.Seal(t, s, evs)
	}
	per := len(audittest.Career("x"))
	for part := range 3 {
		for _, s := range names {
			data := make([]eventstore.EventData, per)
			for j, e := range sealed[s][part*per : (part+1)*per] {
				data[j] = e.EventData()
			}
			exp := eventstore.NoStream()
			if part > 0 {
				exp = eventstore.At(uint64(part*per - 1))
			}
			if _, err := st.Append(ctx(t), s, exp, data...); err != nil {
				t.Fatalf("append %s: %v", s, err)
			}
		}
	}
	return names
}

func replayAll(t *testing.T, st eventstore.Store, opts audit.ReplayOptions, p *audit.Plan) []eventstore.RecordedEvent {
	t.Helper()
	var got []eventstore.RecordedEvent
	keep := func(e *eventstore.RecordedEvent) error { got = append(got, *e); return nil }
	var n int64
	var err error
	if p == nil {
		opts.Parallel = 1 // one sequential read: the reference
		n, err = audit.Replay(ctx(t), st, opts, keep)
	} else {
		n, err = audit.ReplayPlanned(ctx(t), st, opts, *p, keep)
	}
	if err != nil {
		t.Fatalf("replay %+v: %v", p, err)
	}
	if n != int64(len(got)) {
		t.Errorf("replay %+v: counted %d events, passed %d", p, n, len(got))
	}
	return got
}

// A parallel replay passes exactly the events of a sequential one, in the
// same order, whatever the chunks: all, a category, a position range, a
// record date — and a stream whose events lie in several chunks.
func TestParallelReplayEqualsSequential(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 12)
	long := longStreams(t, st, 3)
	all := replayAll(t, st, audit.ReplayOptions{}, nil)
	if len(all) != 1+12*9+3*27 {
		t.Fatalf("sequential replay: %d events", len(all))
	}
	from, to := all[17].Position, all[150].Position
	var ck chunks
	for _, p := range plans {
		for _, c := range []struct {
			name string
			opts audit.ReplayOptions
		}{
			{"all", audit.ReplayOptions{}},
			{"category", audit.ReplayOptions{Scope: audit.Scope{Category: "craftsman"}}},
			{"positions", audit.ReplayOptions{Range: audit.Range{FromPosition: &from, ToPosition: &to}}},
			{"from", audit.ReplayOptions{Range: audit.Range{FromPosition: &to}}},
			{"recorded by", audit.ReplayOptions{Range: audit.Range{RecordedBy: all[0].Created.Add(-1)}}},
		} {
			want := replayAll(t, st, c.opts, nil)
			got := replayAll(t, st, c.opts, new(ck.plan(p)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan %+v, %s (-sequential +parallel):\n%s", p, c.name, diff)
			}
			if c.name == "all" && len(ck.lo) < 3 {
				t.Errorf("plan %+v: the log of %d events was read in %d chunk(s); the test needs it split", p, len(all), len(ck.lo))
			}
		}
		replayAll(t, st, audit.ReplayOptions{}, new(ck.plan(p)))
		for _, s := range long {
			seen := map[int]bool{}
			for _, e := range all {
				if e.Stream == s {
					seen[ck.in(e.Position)] = true
				}
			}
			if p.ChunkEvents < 10 && len(seen) < 3 {
				t.Errorf("plan %+v: stream %s lies in %d chunk(s), want several", p, s, len(seen))
			}
		}
	}
	// Too few events to split: read sequentially, same answer.
	small, _ := audittest.Store(t)
	audittest.Population(t, small, 1)
	want := replayAll(t, small, audit.ReplayOptions{}, nil)
	if diff := cmp.Diff(want, replayAll(t, small, audit.ReplayOptions{}, &audit.Plan{Parallel: 2})); diff != "" {
		t.Errorf("small log (-sequential +parallel):\n%s", diff)
	}
}
