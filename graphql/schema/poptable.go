package schema

import (
	"slices"
	"sync"
	"unsafe"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
)

// A population scan over a million craftsmen is bound by memory latency:
// each summary's Levels map, its buckets and its keys lie elsewhere on the
// heap. popTable keeps, per craftsman (by registration index), a compact
// row of what the filters, orders and counts read, strings replaced by
// small indexes. A scan reads only the summary's own fields (the map,
// list and string headers, not what they point to) to confirm that the
// row is current — the same map, lists and region as it was built from:
// summaries are read-only, a change replaces what changed — and rebuilds
// the rows that are not. Rows too big for their fixed arrays, and rows
// rebuilt during the scan, are answered from the summary itself, exactly
// as before.

// seqScanner is what a read model offers for popTable and the
// eligibility index (the in-memory one).
type seqScanner interface {
	ScanSeq(trade, org string, parts int, fn func(part, seq, n int, id string, s *readmodel.Summary), done func())
	Seqs() int
	Epoch() readmodel.Epoch
	recordsOnce
	asOfReader
}

type popTable struct {
	mu   sync.Mutex // one population scan at a time uses the rows
	rows []popRow
	dict popDict
	asOf asOfTable // rows as of past instants (popasof.go)
}

// popRow is one craftsman's compact copy. The pointers and lengths name
// the summary parts it was built from; summaries are read-only and a
// change replaces the parts that changed, so the same parts mean the same
// row (pointers: they keep those parts alive, so that an address cannot
// come back for other contents while a row names it).
type popRow struct {
	lv                  unsafe.Pointer // the Levels map
	regionP             *byte
	empsP, acadsP, issP *string
	regionN             uint16
	empsN, acadsN, issN uint16
	region              uint16
	trades              [3]uint16
	emps                [2]uint16
	acads               [2]uint16
	iss                 [4]uint16
	levels              [3]uint8
	max                 uint8
	nt                  uint8
	ne                  uint8
	na                  uint8
	ni                  uint8
	slow                bool // did not fit: answered from the summary
	never               bool // too long to name: rebuilt every scan
}

func levelsOf(s *readmodel.Summary) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&s.Levels))
}

// current reports whether r was built from s's parts.
func (r *popRow) current(s *readmodel.Summary) bool {
	return r.lv == levelsOf(s) && r.regionP == unsafe.StringData(s.Region) && int(r.regionN) == len(s.Region) &&
		r.empsP == unsafe.SliceData(s.Employers) && int(r.empsN) == len(s.Employers) &&
		r.acadsP == unsafe.SliceData(s.Academies) && int(r.acadsN) == len(s.Academies) &&
		r.issP == unsafe.SliceData(s.Linked) && int(r.issN) == len(s.Linked) && !r.never
}

// popDict numbers the summaries' strings (regions, organisations, trade
// codes: the data's own, never a query's).
type popDict struct {
	mu   sync.Mutex
	idx  map[string]uint16
	strs []string
}

const noIdx = 1<<16 - 1

// snapshot is the strings numbered so far: a scan reads it while rows
// rebuilt by other parts append (never overwriting these).
func (d *popDict) snapshot() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.strs
}

// find is the index of v among strs, or noIdx.
func (d *popDict) find(v string) uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.idx[v]; ok {
		return i
	}
	return noIdx
}

// buildCache is one scan part's memory while it builds rows: the numbers
// of the strings it has used (the dictionary's lock is taken only for
// others) and the converted level maps it has met (the model shares equal
// maps: after a snapshot load a million craftsmen hold a few dozen). Its
// levels may be nil: summaries built for the call (as-of rows) share no
// maps, so there is nothing to find.
type buildCache struct {
	strs   map[string]uint16
	levels map[unsafe.Pointer]levelsRow
}

type levelsRow struct {
	trades  [3]uint16
	levels  [3]uint8
	nt, max uint8
	ok      bool
}

func newBuildCache() *buildCache {
	return &buildCache{strs: map[string]uint16{}, levels: map[unsafe.Pointer]levelsRow{}}
}

// build makes s's row (slow when it does not fit); cache may be nil.
func (d *popDict) build(s *readmodel.Summary, cache *buildCache) popRow {
	src := popRow{lv: levelsOf(s), regionP: unsafe.StringData(s.Region), empsP: unsafe.SliceData(s.Employers),
		acadsP: unsafe.SliceData(s.Academies), issP: unsafe.SliceData(s.Linked)}
	if max(len(s.Region), len(s.Employers), len(s.Academies), len(s.Linked)) >= 1<<16 {
		src.slow, src.never = true, true
		return src
	}
	src.regionN, src.empsN, src.acadsN, src.issN = uint16(len(s.Region)), uint16(len(s.Employers)), uint16(len(s.Academies)), uint16(len(s.Linked))
	r := src
	ok := true
	num := func(v string) uint16 {
		if cache != nil {
			if i, hit := cache.strs[v]; hit {
				return i
			}
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		i, found := d.idx[v]
		if !found {
			if len(d.strs) >= noIdx {
				ok = false
				return noIdx
			}
			if d.idx == nil {
				d.idx = map[string]uint16{}
			}
			i = uint16(len(d.strs))
			d.idx[v] = i
			d.strs = append(d.strs, v)
		}
		if cache != nil {
			cache.strs[v] = i
		}
		return i
	}
	list := func(dst []uint16, src []string) uint8 {
		if len(src) > len(dst) {
			ok = false
			return 0
		}
		for i, v := range src {
			dst[i] = num(v)
		}
		return uint8(len(src))
	}
	r.region = num(s.Region)
	r.ne = list(r.emps[:], s.Employers)
	r.na = list(r.acads[:], s.Academies)
	r.ni = list(r.iss[:], s.Linked)
	lr, hit := levelsRow{}, false
	if cache != nil && cache.levels != nil {
		lr, hit = cache.levels[src.lv]
	}
	if !hit {
		lr.ok = len(s.Levels) <= len(lr.trades)
		for code, l := range s.Levels {
			if !lr.ok || l < 0 || l > 255 {
				lr.ok = false
				break
			}
			lr.trades[lr.nt], lr.levels[lr.nt] = num(code), uint8(l)
			lr.nt++
			lr.max = max(lr.max, uint8(l))
		}
		if cache != nil && cache.levels != nil && ok && len(cache.levels) < 1<<14 {
			cache.levels[src.lv] = lr
		}
	}
	ok = ok && lr.ok
	r.trades, r.levels, r.nt, r.max = lr.trades, lr.levels, lr.nt, lr.max
	if !ok {
		src.slow = true
		return src
	}
	return r
}

// rowFilter is a populationFilter in row indexes (noIdx: a string no row
// built before the scan holds, so no such row can match).
type rowFilter struct {
	trade, employer, academy, region, scoped uint16
	hasTrade, hasEmployer, hasAcademy        bool
	hasRegion, hasScope                      bool
	minLevel, exactLevel                     int // -1: none
}

func (d *popDict) filter(f *populationFilter) rowFilter {
	q := rowFilter{minLevel: -1, exactLevel: -1}
	q.trade, q.hasTrade = d.find(f.trade), f.trade != ""
	q.employer, q.hasEmployer = d.find(f.employer), f.employer != ""
	q.academy, q.hasAcademy = d.find(f.academy), f.academy != ""
	q.region, q.hasRegion = d.find(f.region), f.region != ""
	q.scoped, q.hasScope = d.find(f.scoped), f.scoped != ""
	if f.minLevel != nil {
		q.minLevel = int(*f.minLevel)
	}
	if f.exactLevel != nil {
		q.exactLevel = int(*f.exactLevel)
	}
	return q
}

// match is populationFilter.match and the scope on a row.
func (q *rowFilter) match(r *popRow) (events.Level, bool) {
	if q.hasScope && !slices.Contains(r.emps[:r.ne], q.scoped) && !slices.Contains(r.acads[:r.na], q.scoped) && !slices.Contains(r.iss[:r.ni], q.scoped) {
		return 0, false
	}
	if q.hasEmployer && !slices.Contains(r.emps[:r.ne], q.employer) {
		return 0, false
	}
	if q.hasAcademy && !slices.Contains(r.acads[:r.na], q.academy) {
		return 0, false
	}
	if q.hasRegion && r.region != q.region {
		return 0, false
	}
	lvl := int(r.max)
	if q.hasTrade {
		i := slices.Index(r.trades[:r.nt], q.trade)
		if i < 0 {
			return 0, false
		}
		lvl = int(r.levels[i])
	}
	if q.minLevel >= 0 && lvl < q.minLevel {
		return 0, false
	}
	if q.exactLevel >= 0 && lvl != q.exactLevel {
		return 0, false
	}
	return events.Level(lvl), true
}

// rowVisit gets a match: its summary (valid during the call only), its
// level and its row (nil when answered from the summary).
type rowVisit func(part int, id string, s *readmodel.Summary, r *popRow, lvl events.Level)

// scanRows visits the live matches of f that the caller may see (f.scoped)
// through the rows, having set *strs to the strings the visited rows'
// indexes name, then calls done (when not nil) still under the model's
// read lock (the summaries visit saw are valid until it returns). f asks
// no asOf (rowScan sends that elsewhere). With f.eligibleFor, el decides the
// candidates (matches below the target level): the eligible are visited,
// and those el cannot answer are left for el.resolve (see rowScan).
func (b *builder) scanRows(sc seqScanner, f *populationFilter, visible func(readmodel.Summary) bool, parts int, strs *[]string, el *eligQuery, visit rowVisit, done func()) {
	t := b.pop
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := sc.Seqs(); n > len(t.rows) {
		t.rows = slices.Grow(t.rows, n-len(t.rows))[:n]
	}
	rows := t.rows
	// Rows current before the scan name only these; rows rebuilt during
	// it are answered from their summaries.
	*strs = t.dict.snapshot()
	q := t.dict.filter(f)
	caches := make([]*buildCache, parts) // per part, made on its first stale row
	sc.ScanSeq(f.trade, f.org, parts, func(part, seq, n int, id string, s *readmodel.Summary) {
		if seq < len(rows) {
			r := &rows[seq]
			if r.current(s) {
				if !r.slow {
					if lvl, ok := q.match(r); ok && (el == nil || el.admit(part, seq, n, id, lvl)) {
						visit(part, id, s, r, lvl)
					}
					return
				}
			} else {
				// Numbered now: this scan's filter may not know its
				// strings; the next scan uses it.
				if caches[part] == nil {
					caches[part] = newBuildCache()
				}
				*r = t.dict.build(s, caches[part])
			}
		}
		if !visible(*s) {
			return
		}
		if lvl, ok := f.match(*s); ok && (el == nil || el.admit(part, seq, n, id, lvl)) {
			visit(part, id, s, nil, lvl)
		}
	}, done)
}

// rowScan is scanRows for any filter: with f.asOf, the as-of rows answer
// (asOfRowScan); with f.eligibleFor (live), the candidates are decided by
// the eligibility index; a scan that met
// candidates it could not answer is discarded, those are evaluated
// (resolve) and the scan runs again — reset, before each run, clears
// what visit and done produce. ok is false when the rows cannot answer
// (a model without ScanSeq, asOf with eligibleFor, an asOf outside int64
// nanoseconds, or candidates still changing under a busy projection after
// a few runs): nothing was produced and the caller answers otherwise.
func (b *builder) rowScan(f *populationFilter, visible func(readmodel.Summary) bool, parts int, strs *[]string, reset func(), visit rowVisit, done func()) (ok bool, err error) {
	sc, isSeq := b.d.Model.(seqScanner)
	switch {
	case !isSeq:
		return false, nil
	case !f.asOf.IsZero():
		// With eligibleFor as well: every candidate is folded as of then
		// (populationOf).
		if f.eligibleFor != nil {
			return false, nil
		}
		if err := b.waitAsOfBuild(f.ctx, sc); err != nil {
			return false, err
		}
		return b.asOfRowScan(sc, f, visible, parts, strs, reset, visit, done), nil
	case f.eligibleFor == nil:
		reset()
		b.scanRows(sc, f, visible, parts, strs, nil, visit, done)
		return true, nil
	}
	el, release, err := b.eligQueryFor(f, sc.Epoch(), parts)
	if err != nil {
		return false, err
	}
	defer release()
	return rescan(el.pending, reset, func(done func()) { b.scanRows(sc, f, visible, parts, strs, el, visit, done) }, done,
		func() bool {
			if now := sc.Epoch(); now != el.epoch {
				// A snapshot load replaced the craftsmen: their seqs name others.
				el.reset(now)
				return true
			}
			return false
		}, func() { el.resolve(sc) }), nil
}

// popPendings are, per scan part, the craftsmen a scan met and could not
// answer from what it keeps.
type popPendings [][]popPending

func (p popPendings) count() int {
	n := 0
	for _, l := range p {
		n += len(l)
	}
	return n
}

// take returns them all and empties each part's list.
func (p popPendings) take() []popPending {
	var all []popPending
	for i, l := range p {
		all = append(all, l...)
		p[i] = l[:0]
	}
	return all
}

// growFor extends s (with zero entries, by seq) to hold every one of todo.
func growFor[T any](s []T, todo []popPending) []T {
	top := 0
	for _, p := range todo {
		top = max(top, p.seq+1)
	}
	if top > len(s) {
		s = slices.Grow(s, top-len(s))[:top] // never shrunk: past len is zero
	}
	return s
}

// rescan runs a scan (after reset) until one meets nothing pending, and
// calls done at the end of that one (still inside the scan): between
// runs, resolve evaluates what the last run met; a run during which the
// model's craftsmen were replaced (stale says so, having forgotten their
// answers) is run again. false after 4 runs (a busy projection kept
// changing the craftsmen met): reset, nothing produced.
func rescan(pending popPendings, reset func(), run func(done func()), done func(), stale func() bool, resolve func()) bool {
	for range 4 {
		reset()
		run(func() {
			if done != nil && pending.count() == 0 {
				done()
			}
		})
		if stale() {
			pending.take()
			continue
		}
		if pending.count() == 0 {
			return true
		}
		resolve()
	}
	reset()
	return false
}
