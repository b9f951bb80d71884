package schema

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// countAsOf counts the craftsmen whose summary as of a date is derived
// (SummaryAsOf): what the as-of index saves.
type countAsOf struct {
	fastOnly
	derived *atomic.Int64
}

func (m countAsOf) SummaryAsOf(id string, asOf time.Time) (readmodel.Summary, bool, time.Time, time.Time, int) {
	m.derived.Add(1)
	return m.Memory.SummaryAsOf(id, asOf)
}

// instants are every record, occurrence and replacement occurrence time
// of every craftsman's records (not only Moments': the index must hold
// across those too), each with the instants 1 ns before and after, and
// the midpoints between consecutive ones.
func instants(m *readmodel.Memory, ids []string) []time.Time {
	var ts []time.Time
	for _, id := range ids {
		for _, r := range m.Records(id) {
			ts = append(ts, r.RecordedAt, r.Meta.OccurredAt)
			if c, ok := r.Payload.(events.EventCorrected); ok && c.Replacement != nil && c.Replacement.OccurredAt != nil {
				ts = append(ts, *c.Replacement.OccurredAt)
			}
		}
	}
	slices.SortFunc(ts, time.Time.Compare)
	ts = slices.CompactFunc(ts, time.Time.Equal)
	out := make([]time.Time, 0, 4*len(ts))
	for i, t := range ts {
		out = append(out, t.Add(-1), t, t.Add(1))
		if i+1 < len(ts) {
			out = append(out, t.Add(ts[i+1].Sub(t)/2))
		}
	}
	return out
}

// rowKey is a row with its trades in order (a row lists them in the
// order of the summary's map).
func rowKey(r asOfRow) asOfRow {
	type tl struct {
		t uint16
		l uint8
	}
	l := make([]tl, r.nt)
	for i := range l {
		l[i] = tl{r.trades[i], r.levels[i]}
	}
	slices.SortFunc(l, func(a, b tl) int { return cmp.Compare(a.t, b.t) })
	for i, x := range l {
		r.trades[i], r.levels[i] = x.t, x.l
	}
	return r
}

// checkTimelines compares every craftsman's timeline with its summary as
// of each of their instants (SummaryAsOf: derived from the records
// recorded by then) and of far dates; it answers how many craftsmen the timelines held and how many
// instants changed their answer (a first record included).
func checkTimelines(t *testing.T, x *AsOfIndex, m *readmodel.Memory) (held, changes int) {
	t.Helper()
	tl := x.tl.Load()
	if tl == nil || tl.epoch != m.Epoch() {
		t.Fatal("no timelines for the model's craftsmen")
	}
	cache := &buildCache{strs: map[string]uint16{}}
	m.ScanSeq("", "", 1, func(_, seq, n int, id string, _ *readmodel.Summary) {
		if _, _, ok, _ := tl.lookup(seq, n, 0, len(x.dict.snapshot())); !ok {
			return // grown since the build, or too big for a row
		}
		held++
		var last *asOfRow // nil: absent
		ats := append(append([]time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, instants(m, []string{id})...), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
		for _, at := range ats {
			r, present, ok, _ := tl.lookup(seq, n, at.UnixNano(), len(x.dict.snapshot()))
			s, want, _, _, _ := m.SummaryAsOf(id, at)
			if !ok || present != want {
				t.Fatalf("%s as of %s: timeline present %v (ok %v), derived %v", id, at, present, ok, want)
			}
			if !present {
				if last != nil {
					t.Fatalf("%s as of %s: absent after present", id, at)
				}
				continue
			}
			s.Linked = nil
			built := x.dict.build(&s, cache)
			if got, want := rowKey(*r), rowKey(compactRow(&built)); got != want {
				t.Fatalf("%s as of %s: timeline %+v, derived %+v (%+v)", id, at, got, want, s)
			}
			if last == nil || *last != *r {
				changes++
			}
			last = r
		}
	}, nil)
	return held, changes
}

// TestAsOfIndexMatchesSummaryAsOf: the as-of index's row of every
// craftsman, at every record and occurrence time of theirs, 1 ns around
// each and between each pair, is the row of the summary derived as of then — for
// ledgers with late-recorded facts, facts recorded before they occur and
// corrections moving a certificate later (eligModel), and after ledgers
// changed (those are not answered from the index until it is built again).
func TestAsOfIndexMatchesSummaryAsOf(t *testing.T) {
	for i, g := range []*popGen{popModel(t, 300), eligModel(t, 400)} {
		// One craftsman moves 20 times (a timeline long enough to be
		// searched by halves).
		mover := "m00001"
		g.ids = append(g.ids, mover)
		at := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)
		g.add(mover, at, events.CraftsmanRegistered{CraftsmanID: mover, NationalIDHash: "ff", BirthDate: "1990-01-01", Region: "R1"}, "emp1")
		for k := range 20 {
			g.add(mover, at.AddDate(0, k+1, 0), events.CraftsmanProfileChanged{CraftsmanID: mover, Region: []string{"R2", "R3"}[k%2]}, "emp1")
		}
		g.flush()
		x := newAsOfIndex(g.m)
		if err := x.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		held, changes := checkTimelines(t, x, g.m)
		if held != len(g.ids) || changes < (i+1)*len(g.ids) { // popModel's happen at once, eligModel's over years
			t.Fatalf("%d of %d craftsmen held, %d changes", held, len(g.ids), changes)
		}
		z := x.Size()
		if z.Craftsmen != held || z.Versions < held+20 || z.Bytes <= 0 {
			t.Fatalf("size %+v", z)
		}
		g.change()
		if held, _ = checkTimelines(t, x, g.m); held >= len(g.ids) {
			t.Fatalf("%d of %d craftsmen held after changes", held, len(g.ids))
		}
		if err := x.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		if held, _ = checkTimelines(t, x, g.m); held != len(g.ids) {
			t.Fatalf("%d of %d craftsmen held after the new build", held, len(g.ids))
		}
	}
}

// TestAsOfIndexMatchesFullEvaluation: craftsmen(asOf) and
// populationStats(asOf) answered from the as-of index equal full
// evaluation (SummariesAsOf) at dates between moments, around
// corrections and late records, and deriving nobody's summary but the
// page's members; after ledgers change the changed craftsmen are derived
// (alone) until the index is built again.
func TestAsOfIndexMatchesFullEvaluation(t *testing.T) {
	for _, g := range []*popGen{popModel(t, 1100), eligModel(t, 1100)} {
		derived := new(atomic.Int64)
		x := newAsOfIndex(countAsOf{fastOnly{g.m, t, new(atomic.Int64)}, derived})
		model := x.m
		fast := mustSchema(t, Deps{Model: model, AsOf: x, Waiter: nopWaiter{}, MaxPageSize: 100})
		full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100})
		if err := x.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Dates spread over the instants (between moments, 1 ns off them).
		ats := instants(g.m, g.ids)
		var dates []string
		for i := 0; i < len(ats); i += len(ats)/9 + 1 {
			dates = append(dates, ats[i].Format(time.RFC3339Nano))
		}
		dates = append(dates, ats[len(ats)-1].Format(time.RFC3339Nano), "2004-01-01", "2031-01-01")
		compare := func(round string, maxDerived int64) map[string]int {
			last := derived.Load()
			return compareAsOf(t, fast, full, round+": the as-of index", dates, func(vars map[string]any) {
				if n := derived.Load() - last; n > maxDerived {
					t.Fatalf("%s %v: %d summaries derived, the index answers all but the page (%d)", round, vars, n, maxDerived)
				}
				last = derived.Load()
			})
		}
		totals := compare("built", 30)
		if totals["2004-01-01"] != 0 || totals[dates[1]] == 0 || totals[dates[1]] >= totals["2031-01-01"] {
			t.Fatalf("the population does not grow with the date: %v", totals)
		}
		g.change()
		dates = append(dates, "2025-06-01", "2030-01-01")
		compare("after the change", 1<<30)
		if err := x.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		compare("built again", 30)
	}
}

// TestAsOfIndexFollow: Follow builds once the projection is ready, again
// when a snapshot load replaced the craftsmen, and again once a query met
// many craftsmen changed since the build.
func TestAsOfIndexFollow(t *testing.T) {
	g := popModel(t, 200)
	x := newAsOfIndex(g.m)
	model := x.m
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ready atomic.Bool
	built := make(chan struct{}, 4)
	go x.Follow(ctx, ready.Load, time.Millisecond, func() { built <- struct{}{} })
	time.Sleep(20 * time.Millisecond)
	if x.tl.Load() != nil {
		t.Fatal("built before the projection was ready")
	}
	ready.Store(true)
	waitBuilt := func() {
		<-built
		if tl := x.tl.Load(); tl == nil || tl.epoch != g.m.Epoch() || x.Size().Craftsmen != len(g.ids) {
			t.Fatalf("built: %+v", x.Size())
		}
	}
	waitBuilt()
	snap := t.TempDir() + "/readmodel.snap"
	if err := g.m.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	if err := g.m.LoadSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	waitBuilt()
	if held, _ := checkTimelines(t, x, g.m); held != len(g.ids) {
		t.Fatalf("%d of %d held after the load", held, len(g.ids))
	}
	s := mustSchema(t, Deps{Model: model, AsOf: x, Waiter: nopWaiter{}})
	const q = `{ populationStats(asOf: "2030-01-01") { total } }`
	runPopulation(t, s, auth.Claims{Subject: "a", Role: auth.RoleAuditor}, q, nil)
	if tl := x.tl.Load(); x.stale.Load() == tl {
		t.Fatal("a query with nothing changed marked the build stale")
	}
	select {
	case <-built:
		t.Fatal("built again with nothing changed")
	default:
	}
	g.change()
	runPopulation(t, s, auth.Claims{Subject: "a", Role: auth.RoleAuditor}, q, nil)
	waitBuilt()
	if held, _ := checkTimelines(t, x, g.m); held != len(g.ids) {
		t.Fatalf("%d of %d held after the changes", held, len(g.ids))
	}
}

// TestAsOfIndexSidecar: the timelines written beside a snapshot come back
// with it into another model and index (whose dictionary already numbers
// other strings), for every craftsman whose ledger the snapshot holds as
// it was built from; those changed since the build are not taken; a side
// file of another snapshot is not loaded.
func TestAsOfIndexSidecar(t *testing.T) {
	g := eligModel(t, 500)
	x := newAsOfIndex(g.m)
	if err := x.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	snap := dir + "/readmodel.snap"
	sc := readmodel.WithSidecars(g.m)
	sc.Add(x)
	if err := sc.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	load := func() (*AsOfIndex, *readmodel.Memory) {
		m := readmodel.NewMemory()
		y := newAsOfIndex(m)
		for _, s := range []string{"zz", "R9", "acad7"} {
			if _, ok := y.dict.number(s); !ok {
				t.Fatal("dictionary full")
			}
		}
		sc := readmodel.WithSidecars(m)
		sc.Add(y)
		if err := sc.LoadSnapshot(snap, "test"); err != nil {
			t.Fatal(err)
		}
		return y, m
	}
	y, m := load()
	if held, _ := checkTimelines(t, y, m); held != len(g.ids) {
		t.Fatalf("%d of %d held after the load", held, len(g.ids))
	}
	if a, b := x.Size(), y.Size(); a != b {
		t.Fatalf("built %+v, loaded %+v", a, b)
	}
	// Ledgers change after the build; the next snapshot's side file holds
	// the timelines of before: the changed craftsmen's are not taken.
	g.change()
	if err := sc.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	y, m = load()
	if held, _ := checkTimelines(t, y, m); held == 0 || held >= len(g.ids) {
		t.Fatalf("%d of %d held after changes", held, len(g.ids))
	}
	// Another snapshot written without the index: its side file (of the
	// snapshot before) is not loaded.
	g.add(g.ids[0], time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), events.CraftsmanProfileChanged{CraftsmanID: g.ids[0], Region: "R2"}, g.home[g.ids[0]])
	g.flush()
	if err := g.m.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	if y, _ = load(); y.tl.Load() != nil {
		t.Fatal("a side file of another snapshot was loaded")
	}
}

// TestAsOfIndexQueriesDuringBuilds: as-of queries asked while the index is
// built (the first build, then again for the same craftsmen) equal full
// evaluation.
func TestAsOfIndexQueriesDuringBuilds(t *testing.T) {
	g := eligModel(t, 500)
	x := newAsOfIndex(g.m)
	model := x.m
	fast := mustSchema(t, Deps{Model: model, AsOf: x, Waiter: nopWaiter{}, MaxPageSize: 100})
	full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100})
	built := make(chan error, 1)
	go func() {
		for range 3 {
			if err := x.Build(context.Background()); err != nil {
				built <- err
				return
			}
		}
		built <- nil
	}()
	const q = `query($asOf: String) { craftsmen(asOf: $asOf, sort: "level_desc", first: 20) { totalCount nodes { id level { rank } } }
		populationStats(asOf: $asOf) { total byLevel { key count } byRegion { key count } } }`
	aud := auth.Claims{Subject: "a", Role: auth.RoleAuditor}
	// The first build has begun (published its timeline) before the first
	// query, which then waits for it: on a busy machine the goroutine may
	// not have run yet, and a query before any build is answered without
	// the index (right, but not what this test is about).
	for x.tl.Load() == nil {
		runtime.Gosched()
	}
	for i := 0; ; i++ {
		samePopulation(t, fast, full, aud, q, map[string]any{"asOf": fmt.Sprintf("%d-06-30", 2008+i%20)}, "during builds: the as-of index")
		// The query waited for the first build; a build again for the same
		// craftsmen replaces it only once done.
		if tl := x.tl.Load(); tl == nil || !isClosed(tl.done) {
			t.Fatal("after a query the index holds an unfinished build")
		}
		select {
		case err := <-built:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
	}
}

// TestAsOfQueryWaitIsBounded: an as-of query that meets the first build of
// the index under way waits for it only within its request's time, then
// fails with UNAVAILABLE (graphql-go answers a request whose context ended
// without waiting for its resolvers, so an unbounded wait was a goroutine
// left blocked until the build ended); once the build is done the wait
// ends and the query answers as full evaluation does.
func TestAsOfQueryWaitIsBounded(t *testing.T) {
	g := eligModel(t, 50)
	x := newAsOfIndex(g.m)
	model := x.m
	fast := mustSchema(t, Deps{Model: model, AsOf: x, Waiter: nopWaiter{}, MaxPageSize: 100})
	full := mustSchema(t, Deps{Model: plainReader{g.m}, Waiter: nopWaiter{}, MaxPageSize: 100})
	tl := newTimeline(g.m.Epoch(), 0) // a first build that has not finished
	x.tl.Store(tl)
	b := &builder{d: Deps{Model: model, AsOf: x}}
	sc := model.(seqScanner)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.waitAsOfBuild(ctx, sc); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("a wait whose time ran out during the first build: %v, want UNAVAILABLE", err)
	}
	close(tl.done)
	if err := b.waitAsOfBuild(context.Background(), sc); err != nil {
		t.Fatalf("a wait after the build: %v", err)
	}
	if err := x.Build(context.Background()); err != nil { // a real build: the index answers below
		t.Fatal(err)
	}
	const q = `{ populationStats(asOf: "2015-06-30") { total byLevel { key count } } }`
	samePopulation(t, fast, full, auth.Claims{Subject: "a", Role: auth.RoleAuditor}, q, nil, "after the build: the as-of index")
}

// TestAsOfIndexSidecarOnlyWhenComplete: a snapshot written while the first
// build has not ended with every chunk built (a periodic snapshot during
// it, or the last one as a stop cancels it) gets no as-of side file, so a
// restart builds the index instead of taking a part of it as built.
func TestAsOfIndexSidecarOnlyWhenComplete(t *testing.T) {
	g := eligModel(t, 300)
	x := newAsOfIndex(g.m)
	dir := t.TempDir()
	snap := dir + "/readmodel.snap"
	sc := readmodel.WithSidecars(g.m)
	sc.Add(x)
	loaded := func() *asOfTimeline {
		m := readmodel.NewMemory()
		y := newAsOfIndex(m)
		sc := readmodel.WithSidecars(m)
		sc.Add(y)
		if err := sc.LoadSnapshot(snap, "test"); err != nil {
			t.Fatal(err)
		}
		return y.tl.Load()
	}
	// A first build begun (its timeline published, no chunk built yet),
	// then one ended by its context.
	x.building.Lock()
	b := x.begin(x.scanIDs())
	if err := sc.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	if tl := loaded(); tl != nil {
		t.Fatal("a snapshot written during the first build kept its unfinished timeline")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = b.end(ctx)
	x.building.Unlock()
	if err := sc.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	if tl := loaded(); tl != nil {
		t.Fatal("a snapshot written after a cancelled build kept its unfinished timeline")
	}
	// Built to the end, it is written and loaded whole.
	if err := x.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sc.WriteSnapshot(snap, "test"); err != nil {
		t.Fatal(err)
	}
	tl := loaded()
	if tl == nil || !tl.complete.Load() {
		t.Fatal("a finished build was not written beside the snapshot")
	}
	for k := range tl.chunks {
		if tl.chunks[k].Load() == nil {
			t.Fatalf("chunk %d missing from a finished build's side file", k)
		}
	}
}
