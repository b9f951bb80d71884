package audit_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// probeFaults is the real store with its chunk-boundary probes (reads of
// one event from a position past the start) spoiled from the after-th
// on: failing, or answering with the log's first event (out of order,
// as a store whose positions mean something else might). Every other read
// goes to the store unchanged.
type probeFaults struct {
	eventstore.Store
	after   int64
	reorder bool
	probes  atomic.Int64
	spoiled atomic.Int64
}

func (p *probeFaults) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if opts.Max != 1 || opts.From.IsStart() || p.probes.Add(1) <= p.after {
		return p.Store.ReadAll(ctx, opts)
	}
	p.spoiled.Add(1)
	if !p.reorder {
		return nil, errs.E(errs.Unavailable, "probe refused by the test")
	}
	return p.Store.ReadAll(ctx, eventstore.ReadAllOptions{Max: 1})
}

// A parallel scan whose probes fail or answer out of order stops
// splitting and reads the rest of the log as one chunk: verify and replay
// still see every event once, in order, exactly as a sequential read
// does — from the first probe on, and after some chunks were planned.
func TestParallelScanSurvivesBadProbes(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 12)
	longStreams(t, st, 2)
	want := replayAll(t, st, audit.ReplayOptions{}, nil)
	wantReport, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantReport.Elapsed, wantReport.Rate = 0, 0
	plan := audit.Plan{Parallel: 2, ChunkEvents: 5, PageSize: 3}
	for _, c := range []struct {
		name    string
		after   int64
		reorder bool
	}{
		{"first probe fails", 0, false},
		{"fifth probe fails", 4, false},
		{"first probe out of order", 0, true},
		{"fifth probe out of order", 4, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := &probeFaults{Store: st, after: c.after, reorder: c.reorder}
			var ck chunks
			got := replayAll(t, bad, audit.ReplayOptions{}, new(ck.plan(plan)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("replay (-sequential +parallel with bad probes):\n%s", diff)
			}
			if bad.spoiled.Load() == 0 {
				t.Fatalf("no probe was spoiled (%d probes): the test did not reach the fallback", bad.probes.Load())
			}
			// Splitting stops at the spoiled probe: the chunks planned are
			// those before it plus the one that reads the rest.
			if n := int64(len(ck.lo)); n != c.after+1 {
				t.Errorf("%d chunks planned, want %d (splitting stops at probe %d)", n, c.after+1, c.after+1)
			}
			bad = &probeFaults{Store: st, after: c.after, reorder: c.reorder}
			rep, err := audit.VerifyPlanned(ctx(t), bad, audit.VerifyOptions{}, ck.plan(plan))
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			rep.Elapsed, rep.Rate = 0, 0
			if diff := cmp.Diff(wantReport, rep); diff != "" {
				t.Errorf("verify (-sequential +parallel with bad probes):\n%s", diff)
			}
		})
	}
}
