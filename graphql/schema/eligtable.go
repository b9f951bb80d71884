package schema

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
)

// EligEntries are the eligibility index's entries built ahead of any
// query: for every craftsman, every trade they hold a level in, every
// policy version in force now or from a later date, and every target
// above their level that the version has a rule for (without a training
// window), the entry the index would compute on first use (eligindex.go:
// the answer at the craftsman's last moment t0, under that version). Each
// craftsman is decoded and folded once (as of t0) for all of them.
//
// Sparse, per craftsman (by registration index, seq): a 12-byte head
// (events the entries are of, t0, where its items start) and 8 bytes per
// (policy, trade, target) item. A query reads an item when the
// craftsman's event count still equals the head's and its eligibleBy is
// not before t0 (as it reads a column entry); anything else falls to the
// column (eligindex.go), so the answers stay full evaluation's.
//
// The entries are a readmodel.Sidecar: written beside every snapshot and
// handed back by the load of that snapshot, so the first eligibleFor
// query after a restart reads them instead of folding its trade.
// BuildIndexes (run by the server once the projection has caught up,
// together with the as-of index's build) builds them — a build reuses
// the items of craftsmen whose ledger did not change — and the server
// writes the side file for the snapshot loaded.
type EligEntries struct {
	m    readmodel.Reader
	now  func() time.Time
	pols *policies

	tab      atomic.Pointer[eligTable]
	building sync.Mutex // one build at a time
	keys     sync.Map   // *policy.Policy -> its key (policyKey)
}

// NewEligEntries makes m's entries (none built yet); now is the clock
// (nil: time.Now). m must be the model the schema reads.
func NewEligEntries(m readmodel.Reader, now func() time.Time) (*EligEntries, error) {
	pols, err := newPolicies()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &EligEntries{m: m, now: now, pols: pols}, nil
}

// eligTable is one build's (or one load's) entries, never changed once
// published.
type eligTable struct {
	epoch  readmodel.Epoch
	pols   []string // policyKey of each policy version, by item.pol
	trades []string // by item.trade
	head   []eligHead
	items  []eligItem
}

// eligHead is a craftsman's: the events their items are of (0: none),
// t0 in Unix seconds rounded up, and where their items start (they end
// where the next seq's start; the last head is only that end).
type eligHead struct{ n, t0, off uint32 }

// eligItem is one (policy, trade, target) answer: eligEnt.earliest.
type eligItem struct {
	earliest int32
	trade    uint16
	pol      uint8
	target   uint8
}

// eligLookup is what a query reads of a table: its policy and trade.
type eligLookup struct {
	t     *eligTable
	pol   uint8
	trade uint16
}

// find answers the candidate seq with n events for target, at dSec, with
// the column entry the table holds; ok is false when it holds none.
func (l *eligLookup) find(seq, n int, target events.Level, dSec int64) (eligEnt, bool) {
	t := l.t
	if seq+1 >= len(t.head) {
		return eligEnt{}, false
	}
	h := t.head[seq]
	if int(h.n) != n || n == 0 || dSec < int64(h.t0) {
		return eligEnt{}, false
	}
	for _, it := range t.items[h.off:t.head[seq+1].off] {
		if it.pol == l.pol && it.trade == l.trade && events.Level(it.target) == target {
			return eligEnt{n: h.n, t0: h.t0, earliest: it.earliest}, true
		}
	}
	return eligEnt{}, false
}

// lookup is the table's view for pol and trade when it holds entries of
// the model's craftsmen at epoch; nil otherwise.
func (e *EligEntries) lookup(pol *policy.Policy, trade string, epoch readmodel.Epoch) *eligLookup {
	if e == nil {
		return nil
	}
	t := e.tab.Load()
	if t == nil || t.epoch != epoch {
		return nil
	}
	p, tr := slices.Index(t.pols, e.policyKey(pol)), slices.Index(t.trades, trade)
	if p < 0 || tr < 0 {
		return nil
	}
	return &eligLookup{t: t, pol: uint8(p), trade: uint16(tr)}
}

// policyKey names a policy version by its name, version and content (a
// restart parses the versions anew: pointers do not survive it).
func (e *EligEntries) policyKey(p *policy.Policy) string {
	if k, ok := e.keys.Load(p); ok {
		return k.(string)
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return "" // never matched: a table's keys are not empty
	}
	sum := sha256.Sum256(doc)
	k := p.Name + "/" + strconv.Itoa(p.Version) + "/" + hex.EncodeToString(sum[:12])
	e.keys.Store(p, k)
	return k
}

// inForce are the versions in force at now or from a later effective
// date (the versions an eligibleBy from now on can be answered under).
func inForce(set *policy.Set, now time.Time) []*policy.Policy {
	var out []*policy.Policy
	for _, p := range set.Versions() {
		at := now
		if p.Effective().After(career.CivilDate(now)) { // in force from its civil date (policy.Set.At)
			at = p.Effective()
		}
		if q, ok := set.At(p.Name, at); ok && q == p {
			out = append(out, p)
		}
	}
	return out
}

// eligGoal is a policy version (by number) and a target it has a rule for.
type eligGoal struct {
	pol    uint8
	target events.Level
}

// eligBlock is the seqs a build evaluates as one unit of work (an as-of
// chunk's: a build of both indexes evaluates a unit of each at once,
// indexbuild.go); eligRelease the blocks between two releases of the
// mapped log's pages (32,768 craftsmen).
const (
	eligBlock   = asOfChunkSize
	eligRelease = 8
)

// Build builds the entries of every craftsman the model holds now,
// reusing those of the current table whose craftsman's ledger did not
// change (same epoch, same policy versions), and publishes them. The
// server builds them together with the as-of index (BuildIndexes).
func (e *EligEntries) Build(ctx context.Context) error {
	_, err := BuildIndexes(ctx, e, nil)
	return err
}

// eligBuild is one build of the entries under way: what it evaluates
// under, the table it may reuse items of, and the blocks evaluated so far.
type eligBuild struct {
	e       *EligEntries
	sc      seqScanner
	pols    []*policy.Policy
	goals   []eligGoal
	tradeNo map[string]uint16 // read-only once begun
	old, t  *eligTable
	ids     []string  // by seq ("" for none): the as-of step's too (BuildIndexes)
	all     []eligWho // by seq
	blocks  []eligOut // by block
	done    atomic.Int64
}

// eligWho is a craftsman as the build's scan found them (levels: the
// summary's read-only map).
type eligWho struct {
	n      int
	levels map[string]events.Level
}

// eligOut is one block's heads (off relative to the block's items) and
// items, joined in order once every block is done.
type eligOut struct {
	head  []eligHead
	items []eligItem
}

// begin starts a build of the entries of every craftsman the model holds
// now (nil when the model cannot be scanned by seq). The caller holds
// e.building.
func (e *EligEntries) begin() (*eligBuild, error) {
	sc, ok := e.m.(seqScanner)
	if !ok {
		return nil, nil
	}
	set, err := (&builder{d: Deps{Model: e.m}, pol: e.pols}).policySet(time.Time{})
	if err != nil {
		return nil, err
	}
	b := &eligBuild{e: e, sc: sc, pols: inForce(set, e.now())}
	if len(b.pols) > math.MaxUint8+1 {
		b.pols = b.pols[:math.MaxUint8+1]
	}
	keys := make([]string, len(b.pols))
	for i, p := range b.pols {
		keys[i] = e.policyKey(p)
	}
	// Every (policy, target) with a rule without a window.
	for i, p := range b.pols {
		for _, r := range p.Levels {
			if r.Target <= math.MaxUint8 && !hasWindow(p, r.Target) {
				b.goals = append(b.goals, eligGoal{uint8(i), r.Target})
			}
		}
	}
	epoch := sc.Epoch()
	b.old = e.tab.Load()
	if b.old != nil && (b.old.epoch != epoch || !slices.Equal(b.old.pols, keys)) {
		b.old = nil
	}
	b.t = &eligTable{epoch: epoch, pols: keys}
	if b.old != nil {
		b.t.trades = slices.Clip(b.old.trades) // item trade numbers stay valid
	}
	b.tradeNo = map[string]uint16{}
	for i, tr := range b.t.trades {
		b.tradeNo[tr] = uint16(i)
	}
	// The craftsmen and their levels (read-only maps), under the model's
	// read lock for one quick pass. The folds run without it in a build of
	// the entries alone; in BuildIndexes' pass they run under it (the
	// records are handed over inside SummaryVersions: addRecords).
	seqs := sc.Seqs()
	b.ids, b.all = make([]string, seqs), make([]eligWho, seqs)
	sc.ScanSeq("", "", 1, func(_, seq, n int, id string, s *readmodel.Summary) {
		if seq < seqs {
			b.ids[seq], b.all[seq] = id, eligWho{n: n, levels: s.Levels}
		}
	}, nil)
	for _, w := range b.all {
		for tr := range w.levels {
			if _, ok := b.tradeNo[tr]; !ok && len(b.t.trades) <= math.MaxUint16 {
				b.tradeNo[tr] = uint16(len(b.t.trades))
				b.t.trades = append(b.t.trades, tr)
			}
		}
	}
	b.blocks = make([]eligOut, (seqs+eligBlock-1)/eligBlock)
	return b, nil
}

// blockSeqs is the seqs of block k.
func (b *eligBuild) blockSeqs(k int) (lo, hi int) {
	return k * eligBlock, min((k+1)*eligBlock, len(b.all))
}

// start readies block k for its seqs (in order, by one worker: add).
func (b *eligBuild) start(k int) {
	lo, hi := b.blockSeqs(k)
	b.blocks[k].head = make([]eligHead, 0, hi-lo)
}

// add appends seq's head and items to block k: the items of the table
// reused when their ledger did not change, else evaluated from the
// records the model's RecordsOnce reads.
func (b *eligBuild) add(k, seq int) {
	if b.reuse(k, seq) {
		return
	}
	recs, n := b.sc.RecordsOnce(b.ids[seq])
	b.evaluate(k, seq, recs, n)
}

// addRecords is add evaluating from recs, seq's records, and n, the
// number of their stream's events, as another step read them
// (BuildIndexes: the as-of step's readmodel.Memory.SummaryVersions),
// instead of reading them again. recs is only read during the call. It
// runs under the model's read lock: nothing it calls (evaluate, the fold
// and the policy) may call the model, and a slow craftsman holds back a
// catch-up's write (and, behind it, queries) for its fold's time.
func (b *eligBuild) addRecords(k, seq int, recs []events.Recorded, n int) {
	if !b.reuse(k, seq) {
		b.evaluate(k, seq, recs, n)
	}
}

// reuse appends seq's head and items to block k when they need no
// records: the items of the table reused when their ledger did not
// change, or none when they have no events or no level. false: they are
// to be evaluated (evaluate).
func (b *eligBuild) reuse(k, seq int) bool {
	bl := &b.blocks[k]
	off := uint32(len(bl.items))
	w, old := b.all[seq], b.old
	if old != nil && seq+1 < len(old.head) && w.n > 0 && int(old.head[seq].n) == w.n {
		h := old.head[seq]
		bl.items = append(bl.items, old.items[h.off:old.head[seq+1].off]...)
		bl.head = append(bl.head, eligHead{n: h.n, t0: h.t0, off: off})
		return true
	}
	if w.n == 0 || len(w.levels) == 0 {
		bl.head = append(bl.head, eligHead{off: off})
		return true
	}
	return false
}

// finish joins the blocks into the table and publishes it, answering how
// many craftsmen were evaluated (at least 1 for a new table: its side
// file is written even if empty).
func (b *eligBuild) finish() (evaluated int) {
	total := 0
	for _, bl := range b.blocks {
		total += len(bl.items)
	}
	if total > math.MaxUint32 {
		return 0
	}
	t := b.t
	t.head = make([]eligHead, 0, len(b.all)+1)
	t.items = make([]eligItem, 0, total)
	for _, bl := range b.blocks {
		base := uint32(len(t.items))
		for _, h := range bl.head {
			h.off += base
			t.head = append(t.head, h)
		}
		t.items = append(t.items, bl.items...)
	}
	t.head = append(t.head, eligHead{off: uint32(len(t.items))})
	b.e.tab.Store(t)
	evaluated = int(b.done.Load())
	if b.old == nil {
		evaluated = max(evaluated, 1)
	}
	return evaluated
}

// evaluate appends to block k seq's head and items evaluated from recs,
// their records (folded once, as of their last moment), and cnt, their
// stream's events: for each of their trades and each goal above their
// level there; the head's n = 0 when they cannot be held (as
// eligQuery.entry).
func (b *eligBuild) evaluate(k, seq int, recs []events.Recorded, cnt int) {
	bl := &b.blocks[k]
	off := uint32(len(bl.items))
	b.done.Add(1)
	at, sec, ok := entryTime(recs, cnt)
	if !ok {
		bl.head = append(bl.head, eligHead{off: off})
		return
	}
	st := career.Fold(recs, at, career.AsRecorded)
	for tr, lvl := range b.all[seq].levels {
		no, known := b.tradeNo[tr]
		if !known {
			continue
		}
		for _, g := range b.goals {
			p := b.pols[g.pol]
			if g.target <= lvl || !p.Covers(tr) {
				continue
			}
			ent := entryOf(policy.EvaluateBrief(st, p, tr, g.target, at), cnt, sec)
			if ent.n == 0 {
				continue
			}
			bl.items = append(bl.items, eligItem{earliest: ent.earliest, trade: no, pol: g.pol, target: uint8(g.target)})
		}
	}
	bl.head = append(bl.head, eligHead{n: uint32(cnt), t0: uint32(sec), off: off})
}

// The side file's body (version eligSideVersion): the policy keys and the
// trades (uvarint counts, uvarint-length strings), the number of seqs,
// then every head (n, t0, off: little-endian uint32s) and the end, then
// every item (earliest int32, trade uint16, pol, target).
//
// The version also names the rules the items were evaluated under: the
// items are answers, keyed by policy version and content but not by the
// evaluation code, so a change of what policy.Evaluate answers for the
// same events and policy must bump it, or a restart after the upgrade
// would serve the old answers from the side file the old server wrote.
// Version 2: dates counted in China civil days (the anniversary of a start
// at China midnight, the training window, the version in force);
// version 1's items may be a day early or late, and are not loaded.
const (
	eligSideName    = "elig"
	eligSideVersion = 2
)

// SidecarName implements readmodel.Sidecar.
func (e *EligEntries) SidecarName() string { return eligSideName }

// SidecarVersion implements readmodel.Sidecar.
func (e *EligEntries) SidecarVersion() uint64 { return eligSideVersion }

// WriteSidecar writes the entries of the snapshot's craftsmen (nothing
// when none were built for the craftsmen it holds).
func (e *EligEntries) WriteSidecar(w io.Writer, tag readmodel.SnapshotTag) error {
	t := e.tab.Load()
	if t == nil || t.epoch != tag.Epoch {
		return nil
	}
	seqs := min(len(t.head)-1, tag.Craftsmen)
	b := appendStrings(nil, t.pols)
	b = appendStrings(b, t.trades)
	b = binary.AppendUvarint(b, uint64(seqs))
	flush := func(force bool) error {
		if len(b) < 1<<16 && !force {
			return nil
		}
		_, err := w.Write(b)
		b = b[:0]
		return err
	}
	for _, h := range t.head[:seqs] {
		b = binary.LittleEndian.AppendUint32(b, h.n)
		b = binary.LittleEndian.AppendUint32(b, h.t0)
		b = binary.LittleEndian.AppendUint32(b, h.off)
		if err := flush(false); err != nil {
			return err
		}
	}
	end := t.head[seqs].off
	b = binary.LittleEndian.AppendUint32(b, end)
	for _, it := range t.items[:end] {
		b = binary.LittleEndian.AppendUint32(b, uint32(it.earliest))
		b = binary.LittleEndian.AppendUint16(b, it.trade)
		b = append(b, it.pol, it.target)
		if err := flush(false); err != nil {
			return err
		}
	}
	return flush(true)
}

// LoadSidecar implements readmodel.Sidecar: the entries written with the
// snapshot just loaded become the table (none: the table is dropped; its
// craftsmen were replaced).
func (e *EligEntries) LoadSidecar(body []byte, tag readmodel.SnapshotTag) {
	e.tab.Store(parseEligTable(body, tag))
}

// parseEligTable reads a side file's body; nil when it does not parse.
func parseEligTable(body []byte, tag readmodel.SnapshotTag) *eligTable {
	if body == nil {
		return nil
	}
	t := &eligTable{epoch: tag.Epoch}
	r := body
	uv := func() uint64 {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			r = nil
			return math.MaxUint64
		}
		r = r[n:]
		return v
	}
	var ok1, ok2 bool
	t.pols, r, ok1 = readStrings(r, math.MaxUint8+1)
	t.trades, r, ok2 = readStrings(r, math.MaxUint16+1)
	seqs := uv()
	if !ok1 || !ok2 || seqs > uint64(tag.Craftsmen) || uint64(len(r)) < seqs*12+4 {
		return nil
	}
	t.head = make([]eligHead, seqs+1)
	for i := range seqs {
		t.head[i] = eligHead{n: binary.LittleEndian.Uint32(r), t0: binary.LittleEndian.Uint32(r[4:]), off: binary.LittleEndian.Uint32(r[8:])}
		r = r[12:]
	}
	t.head[seqs].off = binary.LittleEndian.Uint32(r)
	r = r[4:]
	end := t.head[seqs].off
	if uint64(len(r)) != uint64(end)*8 {
		return nil
	}
	for i := range seqs {
		if t.head[i].off > t.head[i+1].off {
			return nil
		}
	}
	t.items = make([]eligItem, end)
	for i := range t.items {
		it := eligItem{earliest: int32(binary.LittleEndian.Uint32(r)), trade: binary.LittleEndian.Uint16(r[4:]), pol: r[6], target: r[7]}
		if int(it.pol) >= len(t.pols) || int(it.trade) >= len(t.trades) {
			return nil
		}
		t.items[i] = it
		r = r[8:]
	}
	// Craftsmen the load derived again (a rule of the fold changed since
	// the side file was written, readmodel.SnapshotTag.Rederived): their
	// items were evaluated under it, so they are evaluated again (a count
	// of 0 never matches the model's).
	for _, i := range tag.Rederived {
		if i >= 0 && uint64(i) < seqs {
			t.head[i].n = 0
		}
	}
	return t
}

// EligSize is what the entries hold: craftsmen with entries, items, and
// the bytes of both arrays.
type EligSize struct {
	Craftsmen, Items int
	Bytes            int64
}

// Size reports the current entries (zero: none built or loaded).
func (e *EligEntries) Size() EligSize {
	t := e.tab.Load()
	if t == nil {
		return EligSize{}
	}
	n := 0
	for _, h := range t.head[:len(t.head)-1] {
		if h.n > 0 {
			n++
		}
	}
	return EligSize{Craftsmen: n, Items: len(t.items), Bytes: int64(len(t.head))*12 + int64(len(t.items))*8}
}
