package schema

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
)

// A craftsmen page over the whole population is chosen while scanning:
// each scan part keeps the best start+first matches in a bounded heap
// (worst on top) and counts every match, so that no match is allocated and
// nothing but the kept few is ever sorted. Every order ends on the id,
// which is unique: the order is total and the page the same as sorting
// every match would give.

// popOrder is a craftsmen sort order.
type popOrder uint8

const (
	byID popOrder = iota
	byLevelDesc
	byLevelAsc
	byRegion
)

func parseOrder(s string) (popOrder, error) {
	switch s {
	case "", "id":
		return byID, nil
	case "level_desc":
		return byLevelDesc, nil
	case "level_asc":
		return byLevelAsc, nil
	case "region":
		return byRegion, nil
	}
	return 0, errs.E(errs.InvalidArgument, "argument sort: unknown order %q (id, level_desc, level_asc, region)", s)
}

// popKey is what an order compares.
type popKey struct {
	id     string
	region string
	level  events.Level
}

// less is the order on (sort key, id).
func (o popOrder) less(a, b *popKey) bool {
	switch o {
	case byLevelDesc:
		if a.level != b.level {
			return a.level > b.level
		}
	case byLevelAsc:
		if a.level != b.level {
			return a.level < b.level
		}
	case byRegion:
		if a.region != b.region {
			return a.region < b.region
		}
	}
	return a.id < b.id
}

// topK keeps the k least matches offered under its order (and counts
// all of them). Not safe for concurrent use: one per scan part.
type topK struct {
	o     popOrder
	k     int
	n     int                  // matches offered
	keys  []popKey             // slots
	ptrs  []*readmodel.Summary // the summaries offered (a scan's live ones: valid under the model's lock only)
	heap  []int32              // slots, a max-heap under o.less: the worst kept on top
	limit bool                 // k > 0
	// all: k is large (a page deep in the list): every match is kept in
	// matches and the page selected at the merge, in linear time, instead
	// of paying a heap of k.
	all     bool
	matches []popMatch
}

// heapUpTo is the largest k kept in a heap; deeper pages collect.
const heapUpTo = 4096

func newTopK(o popOrder, k int) *topK {
	return &topK{o: o, k: k, limit: k > 0, all: k > heapUpTo}
}

func (t *topK) worse(i, j int) bool {
	return t.o.less(&t.keys[t.heap[j]], &t.keys[t.heap[i]])
}

// offer counts a match and keeps it when it is among the k least so far.
func (t *topK) offer(id, region string, s *readmodel.Summary, level events.Level) {
	t.n++
	if !t.limit {
		return
	}
	key := popKey{id: id, region: region, level: level}
	if t.all {
		t.matches = append(t.matches, popMatch{key: key, s: s})
		return
	}
	if len(t.heap) < t.k {
		slot := int32(len(t.keys))
		t.keys = append(t.keys, key)
		t.keep(-1, s)
		t.heap = append(t.heap, slot)
		// Sift up.
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !t.worse(i, p) {
				break
			}
			t.heap[i], t.heap[p] = t.heap[p], t.heap[i]
			i = p
		}
		return
	}
	top := t.heap[0]
	if !t.o.less(&key, &t.keys[top]) {
		return
	}
	t.keys[top] = key
	t.keep(int(top), s)
	// Sift down.
	for i, n := 0, len(t.heap); ; {
		w, l, r := i, 2*i+1, 2*i+2
		if l < n && t.worse(l, w) {
			w = l
		}
		if r < n && t.worse(r, w) {
			w = r
		}
		if w == i {
			break
		}
		t.heap[i], t.heap[w] = t.heap[w], t.heap[i]
		i = w
	}
}

// compare is less as a three-way comparison.
func (o popOrder) compare(a, b *popKey) int {
	switch {
	case o.less(a, b):
		return -1
	case o.less(b, a):
		return 1
	}
	return 0
}

func (o popOrder) cmp(a, b popMatch) int { return o.compare(&a.key, &b.key) }

// keep stores s in slot (-1: a new one).
func (t *topK) keep(slot int, s *readmodel.Summary) {
	if slot < 0 {
		t.ptrs = append(t.ptrs, s)
		return
	}
	t.ptrs[slot] = s
}

// popMatch is one kept match.
type popMatch struct {
	key popKey
	s   *readmodel.Summary
}

// mergeTopK merges the parts' kept matches: the total and the matches
// ranked start..start+n-1 in order.
func mergeTopK(o popOrder, parts []*topK, start, n int) (total int, page []popMatch) {
	// A part that kept every match first keeps only its start+n least
	// (the parts in parallel): the rest cannot be on the page.
	var wg sync.WaitGroup
	for _, t := range parts {
		if !t.all {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := min(t.k, len(t.matches))
			o.selectLeast(t.matches, k)
			t.matches = t.matches[:k]
		}()
	}
	wg.Wait()
	kept := 0
	for _, t := range parts {
		kept += len(t.heap) + len(t.matches)
	}
	all := make([]popMatch, 0, kept)
	for _, t := range parts {
		total += t.n
		all = append(all, t.matches...)
		for _, slot := range t.heap {
			all = append(all, popMatch{key: t.keys[slot], s: t.ptrs[slot]})
		}
	}
	if start >= len(all) {
		return total, nil
	}
	// The start least first (unordered), then the n least of the rest:
	// the page, sorted alone.
	o.selectLeast(all, start)
	page = all[start:]
	o.selectLeast(page, min(n, len(page)))
	page = page[:min(n, len(page))]
	slices.SortFunc(page, o.cmp)
	return total, page
}

// selectLeast rearranges a so that a[:k] are its k least matches, in no
// particular order (quickselect, random pivots; keys are unique).
func (o popOrder) selectLeast(a []popMatch, k int) {
	lo, hi := 0, len(a)
	for hi-lo > 12 {
		if k <= lo || k >= hi {
			return
		}
		p := lo + rand.IntN(hi-lo)
		a[p], a[hi-1] = a[hi-1], a[p]
		pivot := &a[hi-1].key
		m := lo
		for i := lo; i < hi-1; i++ {
			if o.less(&a[i].key, pivot) {
				a[i], a[m] = a[m], a[i]
				m++
			}
		}
		a[m], a[hi-1] = a[hi-1], a[m]
		switch {
		case m == k:
			return
		case k < m:
			hi = m
		default:
			lo = m + 1
		}
	}
	// A few left: order them.
	slices.SortFunc(a[lo:hi], o.cmp)
}

// sortItems sorts collected population items in order o (the eligibleFor
// answers the rows cannot give: populationOf).
func sortItems(o popOrder, items []*populationItem) {
	slices.SortFunc(items, func(a, b *populationItem) int {
		ka := popKey{id: a.id, region: a.s.Region, level: a.level}
		kb := popKey{id: b.id, region: b.s.Region, level: b.level}
		return o.compare(&ka, &kb)
	})
}

// craftsmenPage answers a craftsmen query: one scan counting every match
// and keeping, per part, the best start+first (with eligibleFor, the
// eligible candidates; see rowScan).
func (b *builder) craftsmenPage(p graphql.ResolveParams, f *populationFilter, visible func(readmodel.Summary) bool, o popOrder) (*Connection, error) {
	n, err := pageSize(p, b.d.MaxPageSize)
	if err != nil {
		return nil, err
	}
	start, err := afterOffset(p)
	if err != nil {
		return nil, err
	}
	k := 0 // past any population: count only
	if start < math.MaxInt32-n {
		k = start + n
	}
	var explain func(id string) func() *policy.Result
	var from func(id string) func() eligibleFrom
	if f.eligibleFor != nil {
		if explain, from, err = b.eligAnswers(f); err != nil {
			return nil, err
		}
	}
	tops := make([]*topK, runtime.GOMAXPROCS(0))
	hint := 0
	if sc, ok := b.d.Model.(seqScanner); ok && k > heapUpTo && f.trade == "" && f.org == "" && f.asOf.IsZero() {
		// A deep page over everyone: room for every craftsman's match
		// up front rather than copies as the lists grow.
		hint = sc.Seqs()/len(tops) + 1024
	}
	var c *Connection
	reset := func() {
		for i := range tops {
			tops[i] = newTopK(o, k) // the page is copied under the model's lock
			if hint > 0 {
				tops[i].matches = make([]popMatch, 0, hint)
			}
		}
		c = &Connection{HasPrevious: start > 0}
	}
	var asOfMembers []*populationItem // members visited by an as-of row: their summary is read after the scan
	page := func() {
		total, page := mergeTopK(o, tops, start, n)
		c.Total = total
		asOfMembers = asOfMembers[:0]
		for i, m := range page {
			it := &populationItem{id: m.key.id, level: m.key.level, trade: f.trade}
			if m.s != nil {
				it.s = *m.s
			} else {
				asOfMembers = append(asOfMembers, it)
			}
			if explain != nil {
				it.lazy, it.from = explain(it.id), from(it.id)
			}
			c.Edges = append(c.Edges, Edge{Cursor: offsetCursor(start + i), Node: it})
		}
		c.HasNext = start+len(c.Edges) < total
	}
	var strs []string
	ok, err := b.rowScan(f, visible, len(tops), &strs, reset, func(part int, id string, s *readmodel.Summary, r *popRow, lvl events.Level) {
		if r != nil {
			tops[part].offer(id, strs[r.region], s, lvl) // the row's copy: no read of the summary
			return
		}
		tops[part].offer(id, s.Region, s, lvl)
	}, page)
	if err != nil {
		return nil, err
	}
	if ok {
		if sc, isSeq := b.d.Model.(seqScanner); isSeq {
			for _, it := range asOfMembers {
				it.s, _, _, _, _ = sc.SummaryAsOf(it.id, f.asOf)
			}
		}
		return c, nil
	}
	if f.eligibleFor != nil {
		items, err := b.populationOf(f, visible)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			it.from = from(it.id) // computed only for the page's members asked
		}
		sortItems(o, items)
		return sliceConnection(p, b.d.MaxPageSize, items)
	}
	hint = 0
	reset()
	b.scan(f, visible, len(tops), func(part int, id string, s readmodel.Summary, lvl events.Level) {
		tops[part].offer(id, s.Region, &s, lvl) // s: this call's own copy, kept by reference
	})
	page()
	return c, nil
}

// stripes runs item(i) for every i in [0, n) on workers goroutines, item i
// on worker i % workers, each worker's items in order; worker(w) is called
// once on worker w's goroutine and returns its item function (state kept
// per worker lives in that closure). It returns when every item is done.
func stripes(workers, n int, worker func(w int) func(i int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			item := worker(w)
			for i := w; i < n; i += workers {
				item(i)
			}
		}()
	}
	wg.Wait()
}
