package schema

import (
	"context"
	"runtime"

	"github.com/craftledger/craftledger/events"
)

// BuildIndexes builds the population indexes that the server builds once
// the projection has caught up: the eligibility entries e (always: a
// build reuses the items of craftsmen whose ledger did not change) and
// the as-of index x when a build of it is due (none for the model's
// craftsmen, or queries found it much outdated; nil: e alone). Both are
// built in one parallel pass over the craftsmen one scan found (the
// entries' scan: the as-of build takes its ids and epoch, so a unit's
// seqs are the same craftsmen for both) in units of asOfChunkSize
// seqs, each craftsman's two steps one right after the other, and the
// mapped log's pages are let go every eligRelease units for both —
// before, two passes ran at once and only the entries' let the pages
// go. A craftsman's records are decoded once for both steps: the
// as-of step (readmodel.Memory.SummaryVersions) hands them to the
// entries' step, which evaluates them under the model's read lock before
// the as-of versions are derived (docs/graphql.md: the figures); the
// entries' step reads them itself (RecordsOnce) only for a craftsman the
// as-of step does not derive. The answers are each build's own (Build and
// AsOfIndex.Build build them alone). ctx ends it early (nothing of e is
// published then; x's chunks built so far stay and answer, as with its
// Build, but are not written beside a snapshot).
func BuildIndexes(ctx context.Context, e *EligEntries, x *AsOfIndex) (IndexBuild, error) {
	var z IndexBuild
	e.building.Lock()
	defer e.building.Unlock()
	eb, eerr := e.begin()
	var xb *asOfBuild
	if x != nil && x.wanted() {
		x.building.Lock()
		defer x.building.Unlock()
		if eb != nil {
			xb = x.begin(eb.t.epoch, eb.ids) // the craftsmen the entries' scan found: seq for seq the same
		} else {
			xb = x.begin(x.scanIDs())
		}
	}
	units := 0
	if xb != nil {
		units = len(xb.tl.chunks)
	} else if eb != nil {
		units = len(eb.blocks)
	}
	// Decoding everyone touches every page of a mapped log: let them go
	// every eligRelease units (readmodel.Memory.ReleaseMapped).
	release := func() {}
	if r, ok := e.m.(interface{ ReleaseMapped() }); ok {
		release = r.ReleaseMapped
	}
	decoded := func() bool { return xb != nil || eb != nil && eb.done.Load() > 0 } // craftsmen were read from the log
	stripes(runtime.GOMAXPROCS(0), units, func(int) func(int) {
		cache := &buildCache{strs: map[string]uint16{}} // as-of summaries share no level maps
		// The entries' step of seq on the records the as-of step decoded
		// (one closure per worker).
		var blk, seq int
		var handed bool
		var recs func([]events.Recorded, int)
		if eb != nil {
			recs = func(r []events.Recorded, n int) {
				eb.addRecords(blk, seq, r, n)
				handed = true
			}
		}
		return func(k int) {
			if ctx.Err() != nil {
				return
			}
			if k%eligRelease == eligRelease-1 && decoded() {
				release()
			}
			var lo, hi int
			if eb != nil {
				lo, hi = eb.blockSeqs(k)
				eb.start(k)
			}
			var c *asOfChunkBuild
			var ids []string
			if xb != nil && xb.current() {
				c, ids = xb.chunk(), xb.chunkIDs(k)
			}
			for i := range max(hi-lo, len(ids)) {
				handed = false
				if c != nil {
					blk, seq = k, lo+i
					c.add(ids[i], cache, recs)
				}
				if eb != nil && !handed { // no records handed: none to derive
					eb.add(k, lo+i)
				}
			}
			if c != nil {
				xb.tl.chunks[k].Store(c.done())
			}
		}
	})
	if xb != nil {
		z.AsOfBuilt = xb.end(ctx) == nil
	}
	if err := ctx.Err(); err != nil {
		return IndexBuild{}, err
	}
	if eb != nil {
		z.EligEvaluated = eb.finish()
	}
	if decoded() {
		release()
	}
	return z, eerr
}

// IndexBuild is what BuildIndexes built.
type IndexBuild struct {
	EligEvaluated int  // craftsmen whose eligibility entries were evaluated (at least 1 for a new table): its side file is to be written when not 0
	AsOfBuilt     bool // the as-of index was built: its side file is to be written
}
