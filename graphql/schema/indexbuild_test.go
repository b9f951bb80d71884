package schema

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/craftledger/craftledger/graphql/readmodel"
)

// eligItems is what a table says of each seq: its head's count and t0 and
// its items by policy key, trade name and target (trades are numbered in
// the order a build met them).
func eligItems(t *eligTable) []string {
	out := make([]string, len(t.head)-1)
	for seq := range out {
		h := t.head[seq]
		var items []string
		for _, it := range t.items[h.off:t.head[seq+1].off] {
			items = append(items, fmt.Sprintf("%s/%s/%d:%d", t.pols[it.pol], t.trades[it.trade], it.target, it.earliest))
		}
		slices.Sort(items)
		out[seq] = fmt.Sprint(h.n, " ", h.t0, " ", items)
	}
	return out
}

// TestBuildIndexesEqualsEachBuild: the one pass that builds both
// population indexes (BuildIndexes: the server's, once caught up) builds
// the eligibility entries each build alone builds and as-of timelines
// that hold every craftsman's summary as of each of their instants (as
// AsOfIndex.Build's do), over more than one unit of work; a second pass
// evaluates nobody and leaves the as-of index built as it is; one after
// queries found the as-of index outdated builds it again.
func TestBuildIndexesEqualsEachBuild(t *testing.T) {
	g := eligModel(t, asOfChunkSize+300)
	g.publishTimed()
	g.flush()
	ctx := context.Background()
	e := newElig(t, g.m)
	x := newAsOfIndex(g.m)
	got, err := BuildIndexes(ctx, e, x)
	if err != nil {
		t.Fatal(err)
	}
	alone := eligAlone(t, g.m)
	xAlone := newAsOfIndex(g.m)
	if err := xAlone.Build(ctx); err != nil {
		t.Fatal(err)
	}

	both, one := eligItems(e.tab.Load()), eligItems(alone.tab.Load())
	if len(both) != len(g.ids) || !slices.Equal(both, one) {
		t.Fatalf("entries built with the as-of index differ from those built alone (%d and %d seqs)", len(both), len(one))
	}
	if sz := e.Size(); got.EligEvaluated != sz.Craftsmen || sz.Craftsmen < len(g.ids)/2 || sz != alone.Size() {
		t.Fatalf("evaluated %d; entries %+v, alone %+v", got.EligEvaluated, sz, alone.Size())
	}
	if !got.AsOfBuilt || !x.Built() {
		t.Fatalf("as-of index built %v (Built %v)", got.AsOfBuilt, x.Built())
	}
	held, changes := checkTimelines(t, x, g.m)
	heldAlone, changesAlone := checkTimelines(t, xAlone, g.m)
	if held != len(g.ids) || held != heldAlone || changes != changesAlone || x.Size() != xAlone.Size() {
		t.Fatalf("timelines of %d craftsmen (%d changes, %+v); built alone %d (%d, %+v)", held, changes, x.Size(), heldAlone, changesAlone, xAlone.Size())
	}

	// Nothing changed: nobody evaluated, the as-of index left as built.
	tl := x.tl.Load()
	if again, err := BuildIndexes(ctx, e, x); err != nil || again.EligEvaluated != 0 || again.AsOfBuilt || x.tl.Load() != tl {
		t.Fatalf("a pass again: %+v, %v; as-of index replaced %v", again, err, x.tl.Load() != tl)
	}
	// Queries found the as-of index outdated: the pass builds it again.
	x.noteMisses(tl, 1, 1)
	if again, err := BuildIndexes(ctx, e, x); err != nil || !again.AsOfBuilt || x.tl.Load() == tl || !x.Built() {
		t.Fatalf("a pass after the index was found outdated: %+v, %v; replaced %v", again, err, x.tl.Load() != tl)
	}
	if held, _ := checkTimelines(t, x, g.m); held != len(g.ids) {
		t.Fatalf("the index built again holds %d of %d craftsmen", held, len(g.ids))
	}
}

// TestBuildIndexesDecodesOnce: in the one pass the entries' step
// evaluates the records the as-of step decoded (SummaryVersions)
// and reads none itself, where the entries built alone read those of
// every craftsman they evaluate; the entries are the same.
func TestBuildIndexesDecodesOnce(t *testing.T) {
	g := eligModel(t, 400)
	g.publishTimed()
	g.flush()
	// The model as the catch-up leaves it (every craftsman's records held)
	// and as a restart from its snapshot does (records decoded per call,
	// from the mapped log): the pass must hand the as-of step's records to
	// the entries' step in both.
	snap := t.TempDir() + "/readmodel.snap"
	if err := g.m.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	restored := readmodel.NewMemory()
	if err := restored.LoadSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	for name, model := range map[string]*readmodel.Memory{"applied": g.m, "restored": restored} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			reads := new(atomic.Int64)
			m := fastOnly{model, t, reads}
			e := newElig(t, m)
			got, err := BuildIndexes(ctx, e, newAsOfIndex(m))
			if err != nil || !got.AsOfBuilt || got.EligEvaluated < len(g.ids)/2 {
				t.Fatalf("the pass: %+v, %v (%d craftsmen)", got, err, len(g.ids))
			}
			if n := reads.Load(); n != 0 {
				t.Fatalf("the pass read the records of %d craftsmen again (RecordsOnce)", n)
			}
			alone := eligAlone(t, m)
			if n := reads.Load(); n != int64(got.EligEvaluated) {
				t.Fatalf("the entries built alone read %d craftsmen's records, evaluated %d", n, got.EligEvaluated)
			}
			if both, one := eligItems(e.tab.Load()), eligItems(alone.tab.Load()); len(both) != len(g.ids) || !slices.Equal(both, one) {
				t.Fatalf("entries built in the pass differ from those built alone (%d and %d seqs)", len(both), len(one))
			}
		})
	}
}

// TestBuildIndexesCancelled: a pass whose context has ended publishes no
// eligibility table, reports no as-of build, and leaves the as-of index
// unwritable beside a snapshot (its timeline is not complete).
func TestBuildIndexesCancelled(t *testing.T) {
	g := eligModel(t, 300)
	e := newElig(t, g.m)
	x := newAsOfIndex(g.m)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := BuildIndexes(ctx, e, x)
	if err == nil || got.AsOfBuilt || got.EligEvaluated != 0 {
		t.Fatalf("a cancelled pass: %+v, %v", got, err)
	}
	if e.tab.Load() != nil {
		t.Fatal("a cancelled pass published eligibility entries")
	}
	if tl := x.tl.Load(); tl != nil && tl.complete.Load() {
		t.Fatal("a cancelled pass left a complete as-of timeline")
	}
}
