package schema

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
)

// A population query with asOf in the past is answered from the craftsmen's
// summaries as of then. Each is derived from the craftsman's events
// (decode and fold: ~40 µs of CPU, docs/graphql.md), and holds over a span of instants — from the
// latest moment (record, occurrence or replacement time) of their events
// at or before asOf to the next one after it (readmodel.SummaryAsOf). The
// as-of table keeps one compact row per craftsman (by seq) with its span
// and the number of events it was derived from: a query at another date
// inside the span, or at the same date again, reads the row; a craftsman
// whose ledger grew, or whose span does not hold the date, is derived
// again (alone). Who may be seen is still decided on today's links.
// When the model carries an as-of index (asofindex.go) built for its
// craftsmen, a craftsman's timeline there answers first, for any date;
// the table then holds only those the index cannot answer (changed since
// its build, or not built yet), and both name the index's strings.

// asOfTable is the as-of rows (the as-of index's compact rows: no
// pointers to the parts of a summary, nothing is kept alive), 48 bytes
// per craftsman (112 with a whole popRow: BenchmarkAsOfTableMemory).
type asOfTable struct {
	mu    sync.Mutex // one as-of query at a time
	epoch readmodel.Epoch
	ents  []asOfEnt                  // by seq
	slow  map[int]*readmodel.Summary // rows too big for a popRow: the summary as of the row's span
}

type asOfEnt struct {
	row         asOfRow
	from, until int64  // Unix ns: the row holds for from ≤ asOf < until
	n           uint32 // events it was derived from (0: no row)
	absent      bool   // nothing of theirs was recorded by then
	slow        bool   // too big for a row: the table's slow summary answers
}

// asOfQuery is one as-of scan over the table (and the as-of index's
// timelines, when the model has one built for its craftsmen).
type asOfQuery struct {
	t       *asOfTable
	dict    *popDict // the rows' strings: the index's when there is one
	tl      *asOfTimeline
	nstrs   int      // strings the scan's filter knows: rows naming more are not read
	rows    []popRow // per part: the row read, expanded (asOfRow.expand)
	misses  []int    // per part: craftsmen the timelines could not answer and a build would (the last run)
	asOf    time.Time
	at      int64
	pending popPendings
}

// get is seq's row when it holds for the query's instant (ok): its
// timeline's version, or the table's row; absent: nothing of theirs was
// recorded by then; slow: the table's slow summary answers.
func (q *asOfQuery) get(part, seq, n int, id string) (r *asOfRow, absent, slow, ok bool) {
	if q.tl != nil {
		r, present, ok, outdated := q.tl.lookup(seq, n, q.at, q.nstrs)
		if ok {
			return r, !present, false, true
		}
		if outdated {
			q.misses[part]++
		}
	}
	if seq < len(q.t.ents) {
		if e := &q.t.ents[seq]; int(e.n) == n && n > 0 && e.from <= q.at && q.at < e.until {
			return &e.row, e.absent, e.slow, true
		}
	}
	q.pending[part] = append(q.pending[part], popPending{seq: seq, id: id})
	return nil, false, false, false
}

// reset forgets every row (the model's craftsmen were replaced).
func (t *asOfTable) reset(epoch readmodel.Epoch) {
	t.epoch = epoch
	clear(t.ents)
	t.slow = nil
}

// nanos is t in Unix ns, clamped to what int64 holds (zero: unbounded,
// below or above).
func nanos(t time.Time, below bool) int64 {
	switch {
	case t.IsZero() && below, !t.IsZero() && t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.IsZero(), t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// asOfReader is what resolve reads (readmodel.Memory).
type asOfReader interface {
	SummaryAsOf(id string, asOf time.Time) (s readmodel.Summary, ok bool, from, until time.Time, n int)
}

// resolve derives the pending craftsmen's rows (in parallel) and forgets them.
func (q *asOfQuery) resolve(m asOfReader, dict *popDict) {
	todo := q.pending.take()
	q.t.ents = growFor(q.t.ents, todo)
	var mu sync.Mutex // guards slow
	stripes(runtime.GOMAXPROCS(0), len(todo), func(int) func(int) {
		cache := &buildCache{strs: map[string]uint16{}} // as-of summaries share no level maps
		return func(i int) {
			p := todo[i]
			s, ok, from, until, n := m.SummaryAsOf(p.id, q.asOf)
			e := asOfEnt{from: nanos(from, true), until: nanos(until, false), n: uint32(n), absent: !ok}
			if n <= 0 || n > math.MaxUint32 {
				e.n = 0
			}
			if ok {
				// Today's scope decides who is seen: the row needs no Linked list.
				rs := s
				rs.Linked = nil
				r := dict.build(&rs, cache)
				e.row, e.slow = compactRow(&r), r.slow
				mu.Lock()
				if e.slow {
					if q.t.slow == nil {
						q.t.slow = map[int]*readmodel.Summary{}
					}
					q.t.slow[p.seq] = &s
				} else {
					delete(q.t.slow, p.seq)
				}
				mu.Unlock()
			}
			q.t.ents[p.seq] = e // each seq once: no other worker writes it
		}
	})
}

// waitAsOfBuild waits, within ctx (the request's time), for the first
// build of the as-of index over the model's craftsmen when one is under
// way: it answers sooner than deriving beside it, on the same cores. When
// ctx ends first the query fails (UNAVAILABLE: retry once the build is
// done) rather than outliving its request.
func (b *builder) waitAsOfBuild(ctx context.Context, sc seqScanner) error {
	x := b.d.AsOf
	if x == nil {
		return nil
	}
	tl := x.tl.Load()
	if tl == nil || tl.epoch != sc.Epoch() {
		return nil
	}
	select {
	case <-tl.done:
		return nil
	case <-ctx.Done():
		return errs.E(errs.Unavailable, "the as-of index is being built after a restart; retry shortly: %v", ctx.Err())
	}
}

// asOfRowScan is rowScan for f.asOf (without eligibleFor): the as-of
// rows, derived for the craftsmen that have none holding at f.asOf, then
// scanned again.
func (b *builder) asOfRowScan(sc seqScanner, f *populationFilter, visible func(readmodel.Summary) bool, parts int, strs *[]string, reset func(), visit rowVisit, done func()) bool {
	if f.asOf.Before(time.Unix(0, math.MinInt64+1)) || f.asOf.After(time.Unix(0, math.MaxInt64-1)) {
		return false
	}
	x := b.d.AsOf
	t := &b.pop.asOf
	t.mu.Lock()
	defer t.mu.Unlock()
	stale := func() bool { // a snapshot load replaced the craftsmen: their seqs name others
		if now := sc.Epoch(); now != t.epoch {
			t.reset(now)
			return true
		}
		return false
	}
	stale()
	q := &asOfQuery{t: t, dict: &b.pop.dict, rows: make([]popRow, parts), misses: make([]int, parts),
		asOf: f.asOf, at: f.asOf.UnixNano(), pending: make(popPendings, parts)}
	if x != nil {
		q.dict = &x.dict // every as-of row of this schema names the index's strings
	}
	ok := rescan(q.pending, reset, func(done func()) { b.scanAsOf(sc, f, visible, parts, strs, q, visit, done) }, done,
		stale, func() { q.resolve(sc, q.dict) })
	if x != nil && q.tl != nil {
		misses := 0
		for _, n := range q.misses {
			misses += n
		}
		x.noteMisses(q.tl, misses, sc.Seqs())
	}
	return ok
}

// scanAsOf visits the matches of f as of f.asOf among the craftsmen the
// caller may see today, from the as-of rows (visit's summary is nil for
// a row, the as-of summary for a row too big); craftsmen without a row
// holding at f.asOf are left pending.
func (b *builder) scanAsOf(sc seqScanner, f *populationFilter, visible func(readmodel.Summary) bool, parts int, strs *[]string, q *asOfQuery, visit rowVisit, done func()) {
	q.tl = nil
	clear(q.misses)
	if x := b.d.AsOf; x != nil {
		if tl := x.tl.Load(); tl != nil && tl.epoch == sc.Epoch() {
			q.tl = tl // (a run whose craftsmen a load replaced is discarded: stale)
		}
	}
	*strs = q.dict.snapshot()
	q.nstrs = len(*strs)
	rf := q.dict.filter(f)
	rf.hasScope = false // today's links decide (visible, on the live summary)
	// The trade and employer filters are about the past: only the scope
	// (today's links) narrows the list.
	sc.ScanSeq("", f.scoped, parts, func(part, seq, n int, id string, live *readmodel.Summary) {
		if f.scoped != "" && !visible(*live) {
			return
		}
		a, absent, slow, ok := q.get(part, seq, n, id)
		if !ok || absent {
			return
		}
		if slow {
			s := q.t.slow[seq]
			if lvl, ok := f.match(*s); ok {
				visit(part, id, s, nil, lvl)
			}
			return
		}
		r := &q.rows[part]
		a.expand(r)
		if lvl, ok := rf.match(r); ok {
			visit(part, id, nil, r, lvl)
		}
	}, done)
}
