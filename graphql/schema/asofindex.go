package schema

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
)

// The as-of index answers a population query as of any past instant
// without deriving anyone's summary at query time. Per craftsman (by
// seq) it keeps a timeline of compact rows: each version holds from one
// moment (readmodel.Moments: a record time, or an occurrence time later
// than its record) until the next version's, and a version is kept only
// where the row changes. A date is then a binary search in the
// craftsman's versions. It is built in one parallel pass, each
// craftsman's records decoded once and their summary derived as of each
// of their moments (readmodel.SummaryVersions), in the background once
// the projection has caught up — after a snapshot load or a catch-up from
// zero: first with the eligibility entries (BuildIndexes, from the
// server's keepElig), again when queries find it outdated (Follow). A version list names the number of events it was
// derived from: a craftsman whose ledger grew since is derived again
// alone, as without the index (the as-of table, popasof.go), and so is
// one whose summary did not fit a row at some moment; once queries meet
// more than one craftsman in 8 so, the index is built again (Follow). An
// as-of query during the first build for the model's craftsmen waits for
// it: deriving beside it, on the same cores, ends later (measured at
// 1 M: docs/graphql-performance.md). The index is kept beside the
// snapshot (asofsidecar.go): a restart loads it instead of building it.

// AsOfIndex is the as-of timelines of a model's craftsmen (see above).
// Make it with NewAsOfIndex; build it with Build or Follow.
type AsOfIndex struct {
	m        seqReader
	dict     popDict // the strings the as-of rows name (the timelines' and the as-of table's)
	tl       atomic.Pointer[asOfTimeline]
	building sync.Mutex                   // one build at a time
	stale    atomic.Pointer[asOfTimeline] // the build whose craftsmen queries found much changed since: build again while it is the current one
}

// seqReader is a read model with the scans the as-of index needs
// (readmodel.Memory).
type seqReader interface {
	readmodel.Reader
	seqScanner
	SummaryVersions(id string, recs func([]events.Recorded, int), fn func(from time.Time, s *readmodel.Summary)) int
}

// NewAsOfIndex returns an as-of index over m, to give the schema
// (Deps.AsOf) with m as its model.
func NewAsOfIndex(m *readmodel.Memory) *AsOfIndex { return newAsOfIndex(m) }

func newAsOfIndex(m seqReader) *AsOfIndex { return &AsOfIndex{m: m} }

const (
	asOfChunkShift = 12
	asOfChunkSize  = 1 << asOfChunkShift
)

// asOfTimeline is one build's timelines, for the craftsmen of one epoch.
type asOfTimeline struct {
	epoch    readmodel.Epoch
	chunks   []atomic.Pointer[asOfChunk] // seq>>asOfChunkShift; nil: not built yet
	done     chan struct{}               // closed once the build has ended
	complete atomic.Bool                 // the build ended with every chunk built (or came from a side file): only such a timeline is written beside a snapshot
}

// newTimeline is an empty timeline for n craftsmen of epoch.
func newTimeline(epoch readmodel.Epoch, n int) *asOfTimeline {
	return &asOfTimeline{epoch: epoch, chunks: make([]atomic.Pointer[asOfChunk], (n+asOfChunkSize-1)/asOfChunkSize), done: make(chan struct{})}
}

// asOfChunk is the timelines of asOfChunkSize craftsmen (no pointers but
// the two slices').
type asOfChunk struct {
	n    [asOfChunkSize]uint32     // events the versions were derived from (0: none kept)
	off  [asOfChunkSize + 1]uint32 // craftsman i's versions are from[off[i]:off[i+1]]
	from []int64                   // Unix ns from which a version holds, increasing per craftsman
	rows []asOfRow
	strs int // strings the dictionary held once the chunk was built (every row names fewer)
}

// asOfRow is a popRow without its pointers and its Linked list (today's scope
// decides who is seen): 24 bytes.
type asOfRow struct {
	region          uint16
	trades          [3]uint16
	emps            [2]uint16
	acads           [2]uint16
	levels          [3]uint8
	max, nt, ne, na uint8
}

func compactRow(r *popRow) asOfRow {
	return asOfRow{region: r.region, trades: r.trades, emps: r.emps, acads: r.acads, levels: r.levels, max: r.max, nt: r.nt, ne: r.ne, na: r.na}
}

// expand makes *r, a row without pointers or Linked list, the popRow a is
// the compact form of (field by field: r's pointers stay nil).
func (a *asOfRow) expand(r *popRow) {
	r.region, r.trades, r.emps, r.acads, r.levels = a.region, a.trades, a.emps, a.acads, a.levels
	r.max, r.nt, r.ne, r.na = a.max, a.nt, a.ne, a.na
}

// lookup is seq's row as of at (present false: nothing of theirs was
// recorded by then); ok is false when the timeline cannot say: not built
// yet, derived from other than n events, or naming strings past nstrs.
// outdated says that a build now would answer where this one cannot: the
// craftsman registered or their ledger grew since (not one whose rows
// never fit, nor a chunk still being built).
func (tl *asOfTimeline) lookup(seq, n int, at int64, nstrs int) (r *asOfRow, present, ok, outdated bool) {
	k := seq >> asOfChunkShift
	if n <= 0 {
		return nil, false, false, false
	}
	if k >= len(tl.chunks) {
		return nil, false, false, true
	}
	ch := tl.chunks[k].Load()
	if ch == nil {
		return nil, false, false, false
	}
	i := seq & (asOfChunkSize - 1)
	if built := int(ch.n[i]); built != n || ch.strs > nstrs {
		return nil, false, false, built != 0 && built != n
	}
	lo, hi := int(ch.off[i]), int(ch.off[i+1])
	from := ch.from[lo:hi]
	j := len(from) // from[:j] hold from at or before at
	if j > 8 {
		var found bool
		if j, found = slices.BinarySearch(from, at); found {
			j++
		}
	} else {
		for j > 0 && from[j-1] > at { // a few: the latest first
			j--
		}
	}
	if j == 0 {
		return nil, false, true, false
	}
	return &ch.rows[lo+j-1], true, true, false
}

// Build derives every craftsman's timeline (replacing the last build's),
// in parallel; it returns early, with ctx's error, when ctx ends. A build
// interrupted by a snapshot load is not used (it names the craftsmen of
// before). The first build for a model's craftsmen publishes its chunks
// as they are done (an as-of query waits for its end); a build again for
// the same craftsmen replaces the last one once done. After a start
// without the side files the server builds it together with the
// eligibility entries (BuildIndexes).
func (x *AsOfIndex) Build(ctx context.Context) error {
	x.building.Lock()
	defer x.building.Unlock()
	b := x.begin(x.scanIDs())
	stripes(runtime.GOMAXPROCS(0), len(b.tl.chunks), func(int) func(int) {
		cache := &buildCache{strs: map[string]uint16{}} // as-of summaries share no level maps
		return func(k int) {
			if ctx.Err() != nil || !b.current() {
				return
			}
			c := b.chunk()
			for _, id := range b.chunkIDs(k) {
				c.add(id, cache, nil)
			}
			b.tl.chunks[k].Store(c.done())
		}
	})
	return b.end(ctx)
}

// asOfBuild is one build of the index under way.
type asOfBuild struct {
	x       *AsOfIndex
	epoch   readmodel.Epoch
	ids     []string // by seq
	tl      *asOfTimeline
	replace bool // built again for the same craftsmen: tl replaces the last build once done
}

// scanIDs is the model's epoch and the ids of its craftsmen by seq (""
// for none) as a scan finds them now: the craftsmen a build is of.
func (x *AsOfIndex) scanIDs() (readmodel.Epoch, []string) {
	epoch := x.m.Epoch()
	ids := make([]string, x.m.Seqs())
	x.m.ScanSeq("", "", runtime.GOMAXPROCS(0), func(_, seq, _ int, id string, _ *readmodel.Summary) {
		if seq < len(ids) {
			ids[seq] = id // craftsmen registered since are left to the as-of table
		}
	}, nil)
	return epoch, ids
}

// begin starts a build of the timelines of ids, the craftsmen of epoch by
// seq (scanIDs, or the eligibility entries' scan: BuildIndexes),
// publishing it at once when it is the first for the model's craftsmen.
// The caller holds x.building, and ends the build with end.
func (x *AsOfIndex) begin(epoch readmodel.Epoch, ids []string) *asOfBuild {
	b := &asOfBuild{x: x, epoch: epoch, ids: ids}
	b.tl = newTimeline(b.epoch, len(b.ids))
	if old := x.tl.Load(); old != nil && old.epoch == b.epoch && isClosed(old.done) {
		b.replace = true // the last build answers until this one is done
	} else {
		x.tl.Store(b.tl) // chunks answer as they are done
	}
	return b
}

// current reports whether the model's craftsmen are still those the
// build is of (a snapshot load replaces them: the rest is not built).
func (b *asOfBuild) current() bool { return b.x.m.Epoch() == b.epoch }

// chunkIDs is the craftsmen of chunk k (seqs in order; "" for none).
func (b *asOfBuild) chunkIDs(k int) []string {
	return b.ids[min(k*asOfChunkSize, len(b.ids)):min((k+1)*asOfChunkSize, len(b.ids))]
}

// end ends the build: it is done (queries waiting for it go on), and a
// build again for the same craftsmen replaces the last one unless ctx
// ended or a load replaced them. It answers ctx's error.
func (b *asOfBuild) end(ctx context.Context) error {
	if ctx.Err() == nil && b.current() {
		b.tl.complete.Store(true)
	}
	close(b.tl.done)
	if b.replace && ctx.Err() == nil && b.current() {
		b.x.tl.Store(b.tl)
	}
	return ctx.Err()
}

// asOfChunkBuild derives the timelines of one chunk, craftsman by
// craftsman in seq order.
type asOfChunkBuild struct {
	x    *AsOfIndex
	ch   *asOfChunk
	last int // the chunk's seqs added so far (the next one's index)
}

// chunk starts a chunk.
func (b *asOfBuild) chunk() *asOfChunkBuild {
	return &asOfChunkBuild{x: b.x, ch: &asOfChunk{}}
}

// add derives the timeline of the chunk's next craftsman (the one after
// the last added), id ("" for none). recs (when not nil) is handed the
// records the timeline is derived from and their count, before it is
// derived and under the model's read lock (SummaryVersions: not
// called for an unknown craftsman or one without events).
func (c *asOfChunkBuild) add(id string, cache *buildCache, recs func([]events.Recorded, int)) {
	ch, x, i := c.ch, c.x, c.last
	start := len(ch.from)
	if id != "" {
		fits := true
		n := x.m.SummaryVersions(id, recs, func(from time.Time, s *readmodel.Summary) {
			if !fits {
				return
			}
			rs := *s
			rs.Linked = nil
			r := x.dict.build(&rs, cache)
			if r.slow {
				fits = false // the as-of table answers this craftsman
				return
			}
			a, at := compactRow(&r), nanos(from, true)
			if k := len(ch.from); k > start {
				switch {
				case ch.rows[k-1] == a:
					return // no change: the version before holds on
				case ch.from[k-1] == at:
					ch.rows[k-1] = a // instants int64 cannot tell apart: the later holds
					return
				}
			}
			ch.from, ch.rows = append(ch.from, at), append(ch.rows, a)
		})
		if fits && n > 0 && n <= math.MaxUint32 {
			ch.n[i] = uint32(n)
		} else {
			ch.from, ch.rows = ch.from[:start], ch.rows[:start]
		}
	}
	ch.off[i+1] = uint32(len(ch.from))
	c.last = i + 1
}

// done is the chunk built (past the last craftsman added: none).
func (c *asOfChunkBuild) done() *asOfChunk {
	ch := c.ch
	for i := c.last + 1; i < len(ch.off); i++ {
		ch.off[i] = uint32(len(ch.from))
	}
	ch.from, ch.rows = slices.Clip(ch.from), slices.Clip(ch.rows)
	ch.strs = len(c.x.dict.snapshot())
	return ch
}

// Follow builds the index whenever ready (the projection has caught up)
// and the model's craftsmen are not those of the last build or side file
// (a snapshot load replaced them, or none was built) or queries found
// many of them changed since (noteMisses), checking every
// interval until ctx ends; built (when not nil) is called after each
// build (to write the side file: readmodel.Sidecars.WriteSidecars).
func (x *AsOfIndex) Follow(ctx context.Context, ready func() bool, every time.Duration, built func()) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if ready() && x.wanted() {
			if x.Build(ctx) == nil && built != nil { // only ctx's end stops a build
				built()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// wanted reports whether a build is due: the model's craftsmen are not
// those of the last build or side file, or queries found many of them
// changed since (noteMisses).
func (x *AsOfIndex) wanted() bool {
	tl := x.tl.Load()
	return tl == nil || tl.epoch != x.m.Epoch() || x.stale.Load() == tl
}

// Built reports whether the index holds a finished build (or side file)
// for the model's craftsmen as they are now loaded.
func (x *AsOfIndex) Built() bool {
	tl := x.tl.Load()
	return tl != nil && tl.epoch == x.m.Epoch() && isClosed(tl.done)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// noteMisses records that an as-of scan over seqs craftsmen with tl found
// misses of them that a build would answer (changed or registered since
// tl was built): past one in 8, Follow builds again — once: a build
// replaces tl, and misses noted against tl meanwhile no longer count.
func (x *AsOfIndex) noteMisses(tl *asOfTimeline, misses, seqs int) {
	if misses*8 > seqs {
		x.stale.Store(tl)
	}
}

// AsOfIndexSize is what a build holds.
type AsOfIndexSize struct {
	Craftsmen int   // craftsmen with a timeline
	Versions  int   // rows over all timelines
	Bytes     int64 // memory of the timelines
}

// Size is what the last build holds (the chunks built so far).
func (x *AsOfIndex) Size() AsOfIndexSize {
	var z AsOfIndexSize
	tl := x.tl.Load()
	if tl == nil {
		return z
	}
	for k := range tl.chunks {
		ch := tl.chunks[k].Load()
		if ch == nil {
			continue
		}
		for _, n := range ch.n {
			if n > 0 {
				z.Craftsmen++
			}
		}
		z.Versions += len(ch.from)
		z.Bytes += int64(len(ch.n)*4+len(ch.off)*4+cap(ch.from)*8+cap(ch.rows)*24) + 64
	}
	return z
}
