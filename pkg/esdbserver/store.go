package esdbserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// formatMarker is the content of the FORMAT file in a data directory. A
// directory written by an incompatible layout is refused, not misread.
const formatMarker = "craftledger-esdb 1\n"

// maxGroup bounds how many queued writes share one batch and one fsync.
const maxGroup = 4096

// idCacheSize bounds the recent-event-id cache used for idempotent appends.
const idCacheSize = 1 << 17

// expectation is an append's, delete's or tombstone's expected revision.
type expectation struct {
	kind expKind
	rev  uint64
}

type expKind int

const (
	expAny expKind = iota
	expNoStream
	expExists
	expExact
)

// wireValue is the int64 KurrentDB uses for an expectation in trailers.
func (e expectation) wireValue() int64 {
	switch e.kind {
	case expNoStream:
		return -1
	case expExists:
		return -4
	case expExact:
		return int64(e.rev)
	}
	return -2
}

// proposed is one event of an append, validated by the transport.
type proposed struct {
	ID       [16]byte
	Type     string
	IsJSON   bool
	Metadata []byte
	Data     []byte
}

type opKind int

const (
	opAppend opKind = iota
	opDelete
	opTombstone
)

type writeOp struct {
	kind     opKind
	stream   string
	expected expectation
	events   []proposed
	done     chan writeResult
}

type writeResult struct {
	err  error
	last int64  // current revision after the write; -1 = no stream
	pos  uint64 // position of the last event written (or of the original write); 0 = none
}

// errStreamDeleted: the stream is tombstoned (or, for stream_exists, soft-deleted).
type streamDeletedError struct{ stream string }

func (e *streamDeletedError) Error() string {
	return fmt.Sprintf("event stream '%s' is deleted", e.stream)
}

// wrongVersionError: the expected revision did not hold. current is -1 for no stream.
type wrongVersionError struct {
	stream   string
	expected expectation
	current  int64
}

func (e *wrongVersionError) Error() string {
	return fmt.Sprintf("wrong expected version for %s: expected %d, actual %d", e.stream, e.expected.wireValue(), e.current)
}

var errStoreClosed = errors.New("store closed")

// streamInfo is the in-memory state of one stream. Values are immutable once
// published; the writer replaces them.
type streamInfo struct {
	streamState
	Meta streamMeta // from the latest event of $$stream
	// sid numbers the stream in the writer's id cache (0: none yet, the
	// stream has no events), so that the cache's keys hold no pointers
	// and the garbage collector never scans it.
	sid uint64
}

var emptyInfo = streamInfo{streamState: streamState{Last: -1}, Meta: noMeta}

// store is the durable event log on pebble with one group-committing writer.
type store struct {
	db  *pebble.DB
	log *slog.Logger
	now func() time.Time

	mu      sync.RWMutex
	streams *streamTable  // the committed state readers see
	head    atomic.Uint64 // last durable position: readers see nothing beyond it
	wpos    uint64        // writer only: last position applied to pebble

	nmu sync.Mutex
	nch chan struct{} // closed and replaced after every commit

	ops     chan *writeOp
	acks    chan *inflight
	ackDone chan struct{} // one token per batch the acker finished
	stop    chan struct{}
	stopped chan struct{}

	statBatches, statOps atomic.Int64 // synced batches and the writes they held

	bmu    sync.Mutex
	broken error // set when a commit fails; no write is accepted after

	space *spaceGuard // free-space check before each commit (diskspace.go)

	// Owned by the writer goroutine: the state including batches that are
	// applied but not yet synced.
	wstreams *streamTable
	ids      idCache
	lastSID  uint64 // the last streamInfo.sid handed out
}

// inflight is a batch applied to pebble whose WAL sync is pending.
type inflight struct {
	b       *pebble.Batch
	ops     []*writeOp
	results []writeResult
	pending map[string]*pendingInfo
	head    uint64
}

// openStore opens (or creates) the store in dir and starts its writer.
func openStore(dir string, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	marker := filepath.Join(dir, "FORMAT")
	switch b, err := os.ReadFile(marker); {
	case err == nil:
		if string(b) != formatMarker {
			return nil, fmt.Errorf("data dir %s has format %q, want %q", dir, strings.TrimSpace(string(b)), strings.TrimSpace(formatMarker))
		}
	case errors.Is(err, os.ErrNotExist):
		if err := writeFileSync(marker, []byte(formatMarker)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("read format marker: %w", err)
	}
	// Pebble's own 8 MB block cache, of which the memtables' reservations
	// leave little: a larger one kept services' stream tails (a mentorship
	// start −4 % CPU) but cost $all scans 3–10 % more CPU per event
	// (docs/store.md, "Block cache").
	db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{
		FS:           prefilledWALFS{vfs.Default},
		MemTableSize: memTableSize,
		Logger:       pebbleLogger{log}, EventListener: pebbleEvents(log),
	})
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", dir, err)
	}
	s := &store{
		db: db, log: log, now: time.Now,
		streams: newStreamTable(),
		nch:     make(chan struct{}),
		ops:     make(chan *writeOp, maxGroup),
		acks:    make(chan *inflight, 64),
		ackDone: make(chan struct{}, 64),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		space:   newSpaceGuard(dir, log),
	}
	s.ids.init(idCacheSize)
	if err := s.recover(); err != nil {
		db.Close()
		return nil, err
	}
	s.wstreams = s.streams.clone()
	go s.writer()
	go s.acker()
	return s, nil
}

func writeFileSync(name string, b []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return f.Close()
}

// recover rebuilds the in-memory state from what pebble holds: stream
// states, parsed metadata, the head position and the recent-id cache.
func (s *store) recover() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixStream}, UpperBound: []byte{prefixStream + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		st, err := decodeStreamState(it.Value())
		if err != nil {
			it.Close()
			return fmt.Errorf("recover stream %q: %w", it.Key()[1:], err)
		}
		name := string(it.Key()[1:])
		cur, ok := s.streams.get(name)
		if !ok {
			s.lastSID++
			cur = streamInfo{Meta: noMeta, sid: s.lastSID}
		}
		cur.streamState = st
		s.streams.put(name, cur)
	}
	if err := it.Close(); err != nil {
		return err
	}
	// Metadata streams, by slot: put may add base streams as it goes,
	// which have no events and so no metadata of their own to apply.
	for i, n := int32(0), int32(s.streams.Len()); i < n; i++ {
		nb := s.streams.Key(i)
		if len(nb) <= 2 || nb[0] != '$' || nb[1] != '$' {
			continue
		}
		info := s.streams.at(i)
		if info.Last < 0 {
			continue
		}
		base := string(nb[2:]) // metaStreamOf's answer
		r, err := s.get(info.LastPos)
		if err != nil {
			return fmt.Errorf("recover metadata of %s: %w", base, err)
		}
		b, ok := s.streams.get(base)
		if !ok {
			b = streamInfo{streamState: streamState{Last: -1}}
		}
		b.Meta = parseStreamMeta(r.IsJSON, r.Data)
		s.streams.put(base, b)
	}
	// Head and the recent ids, newest first.
	it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	type recent struct {
		sid uint64
		id  [16]byte
		e   idEntry
	}
	var rs []recent
	for it.Last(); it.Valid() && len(rs) < idCacheSize; it.Prev() {
		pos := binary.BigEndian.Uint64(it.Key()[1:])
		if len(rs) == 0 {
			s.head.Store(pos)
			s.wpos = pos
		}
		r, err := decodeRecord(pos, it.Value(), false, nil)
		if err != nil {
			return fmt.Errorf("recover: %w", err)
		}
		// Every stream with an event has a stream state, so a sid.
		if info, ok := s.streams.get(r.Stream); ok && info.sid != 0 {
			rs = append(rs, recent{info.sid, r.ID, idEntry{rev: r.Revision, pos: pos}})
		}
	}
	for i := len(rs) - 1; i >= 0; i-- {
		s.ids.add(rs[i].sid, rs[i].id, rs[i].e)
	}
	if err := it.Error(); err != nil {
		return err
	}
	// An empty append's position has no record: the high-water key keeps
	// positions from going backwards across a restart.
	v, closer, err := s.db.Get(highKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return fmt.Errorf("recover high-water position: %w", err)
	default:
		if len(v) != 8 {
			closer.Close()
			return fmt.Errorf("recover high-water position: %w", errCorruptRecord)
		}
		if hw := binary.BigEndian.Uint64(v); hw > s.wpos {
			s.head.Store(hw)
			s.wpos = hw
		}
		closer.Close()
	}
	return nil
}

// close stops the writer (failing queued writes) and closes pebble.
func (s *store) close() error {
	close(s.stop)
	<-s.stopped
	return s.db.Close()
}

// info returns the committed state of stream (emptyInfo when it has none).
func (s *store) info(stream string) streamInfo {
	s.mu.RLock()
	i, ok := s.streams.get(stream)
	s.mu.RUnlock()
	if !ok {
		return emptyInfo
	}
	return i
}

// waitCh returns a channel closed at the next commit. Take it before reading
// so that no commit can be missed.
func (s *store) waitCh() <-chan struct{} {
	s.nmu.Lock()
	ch := s.nch
	s.nmu.Unlock()
	return ch
}

func (s *store) broadcast() {
	s.nmu.Lock()
	close(s.nch)
	s.nch = make(chan struct{})
	s.nmu.Unlock()
}

// submit queues op for the writer and waits for its result.
func (s *store) submit(op *writeOp) writeResult {
	op.done = resultChans.Get().(chan writeResult)
	defer resultChans.Put(op.done) // empty again: it carries exactly one result
	select {
	case s.ops <- op:
	case <-s.stop:
		return writeResult{err: errStoreClosed}
	}
	return <-op.done
}

// resultChans recycles the one-result channels of submitted writes.
var resultChans = sync.Pool{New: func() any { return make(chan writeResult, 1) }}

func (s *store) failed() error {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	return s.broken
}

func (s *store) fail(err error) {
	s.bmu.Lock()
	if s.broken == nil {
		s.broken = &commitError{err}
		s.log.Error("store write failed; refusing further writes", "err", err)
	}
	s.bmu.Unlock()
}

// writer is the single goroutine that orders, checks and applies writes.
//
// Group commit: while one batch's WAL fsync is in flight (the acker waits
// for it), every write that arrives is gathered into the next batch, which
// is applied once the fsync completes — one fsync per batch, however many
// writes it holds. The writers the completed fsync acknowledged usually send
// their next write a moment later; so that they join the next batch instead
// of waiting for another fsync (which would split a steady set of writers
// into two cohorts taking turns), the writer lingers until as many writes
// as are expected back have arrived on top of those already waiting — the
// fsync's writes times the share that lately came back within the window
// (back: near 1 for a steady set of writers, lower for commands whose
// last write is followed by none) — or for a window after the fsync
// completed: the longer of the fsync's own duration and twice the usual
// time acknowledged writers take to come back, within 200 µs – 2 ms. A
// lone writer never waits: its own write is the one expected. Each write
// is checked and staged in the batch as it arrives (gathering), so that
// once the last expected one is in, only the commit is left before the
// fsync can start.
func (s *store) writer() {
	defer close(s.acks)
	target := 1              // writes to gather before applying the next batch
	syncSize := 0            // writes in the batch whose fsync is in flight
	var window time.Duration // how long to linger after an fsync completes
	var appliedAt, syncedAt time.Time
	outstanding := 0           // batches applied whose fsync has not completed
	var comeback time.Duration // moving average: how long acknowledged writers take to return
	var scratch []byte         // the groups' key and value buffer, kept across batches
	var dirty []string         // the batch's changed streams, sorted
	// back is a moving average of the share of an fsync's writes that were
	// followed, within the linger window, by another write: near 1 for a
	// steady set of writers, lower when writers leave after a write (a
	// service's command that has made its last append). The linger expects
	// back × the fsync's writes (expect). A sample counts the writes that
	// arrive, from any writer, within the window after an fsync of two or
	// more writes, capped at that fsync's writes; it runs to its window's
	// end even when the next fsync completes first (that fsync is then not
	// sampled), so that a short cycle does not cut it short.
	back := 1.0
	expect := 0         // writes expected back after the last fsync
	var sample struct { // arrivals counted in the current linger window
		open      bool
		from      time.Time
		window    time.Duration
		want, got int
	}
	closeSample := func() {
		if sample.open {
			sample.open = false
			back += (min(float64(sample.got)/float64(sample.want), 1) - back) / 8
		}
	}
	arrive := func() {
		if sample.open {
			if time.Since(sample.from) <= sample.window {
				sample.got++
			} else {
				closeSample()
			}
		}
	}
	synced := func(waiting int) {
		outstanding--
		syncedAt = time.Now()
		window = min(max(syncedAt.Sub(appliedAt), 2*comeback, 200*time.Microsecond), 2*time.Millisecond)
		if sample.open && syncedAt.Sub(sample.from) > sample.window {
			closeSample()
		}
		if !sample.open && syncSize > 1 {
			sample.open, sample.from, sample.window, sample.want, sample.got = true, syncedAt, window, syncSize, 0
		}
		expect = int(back*float64(syncSize) + 0.5)
		target = waiting + expect
	}
	for {
		var bt *building
		select {
		case op := <-s.ops:
			arrive()
			bt = s.newBuilding(max(target, 16), scratch)
			bt.add(op)
		case <-s.ackDone:
			synced(0)
			continue
		case <-s.stop:
			for {
				select {
				case op := <-s.ops:
					op.done <- writeResult{err: errStoreClosed}
				default:
					return
				}
			}
		}
		var linger *time.Timer
		lingered := false
	gather:
		for bt.arrived < maxGroup {
			if outstanding == 0 {
				if bt.arrived >= target && target > 1 && expect > 0 {
					comeback += (time.Since(syncedAt) - comeback) / 8
				}
				if bt.arrived >= target || lingered {
					break
				}
				if linger == nil {
					left := window - time.Since(syncedAt)
					if left <= 0 {
						break // the expected writers are not coming back
					}
					linger = time.NewTimer(left)
				}
			}
			var lc <-chan time.Time
			if linger != nil {
				lc = linger.C
			}
			select {
			case op := <-s.ops:
				arrive()
				bt.add(op)
			case <-s.ackDone:
				synced(bt.arrived)
			case <-lc:
				lingered = true
			case <-s.stop:
				break gather
			}
		}
		if linger != nil {
			linger.Stop()
		}
		for outstanding > 0 { // only when the batch filled up to maxGroup
			<-s.ackDone
			outstanding--
		}
	drain:
		for bt.arrived < maxGroup {
			select {
			case op := <-s.ops:
				arrive()
				bt.add(op)
			default:
				break drain
			}
		}
		target = 1 // until the fsync completes and says how many to expect
		g, batchOps, results := bt.g, bt.ops, bt.results
		scratch = g.scratch
		if err := s.failed(); err != nil {
			g.b.Close()
			g.ix.Close()
			for _, op := range batchOps {
				op.done <- writeResult{err: err}
			}
			continue
		}
		if g.skipped {
			// Synced with the batch: an acknowledged empty append's
			// position is never taken again, even after a restart.
			var p [8]byte
			binary.BigEndian.PutUint64(p[:], g.pos)
			_ = g.b.Set(highKey, p[:], nil)
		}
		if g.b.Count() == 0 {
			g.b.Close()
			g.ix.Close()
			for i, op := range batchOps {
				op.done <- results[i]
			}
			continue
		}
		dirty = dirty[:0]
		for name, info := range g.pending {
			if info.dirty {
				dirty = append(dirty, name)
			}
		}
		slices.Sort(dirty) // in key order, as the memtable inserts them
		for _, name := range dirty {
			k := appendStreamKey(scratch[:0], name)
			scratch = appendStreamState(k, g.pending[name].streamState)
			_ = g.ix.Set(k, scratch[len(k):], nil)
		}
		err := g.b.Apply(g.ix, nil) // only copies ix's records behind b's
		g.ix.Close()
		if err != nil {
			g.b.Close() // never handed to pebble
		} else {
			err = s.db.ApplyNoSyncWait(g.b, pebble.Sync)
		}
		if err != nil {
			s.fail(err)
			for _, op := range batchOps {
				op.done <- writeResult{err: s.failed()}
			}
			continue
		}
		for name, info := range g.pending {
			s.wstreams.put(name, info.streamInfo)
		}
		s.wpos = g.pos
		outstanding++
		syncSize = len(batchOps)
		appliedAt = time.Now()
		s.acks <- &inflight{b: g.b, ops: batchOps, results: results, pending: g.pending, head: g.pos}
	}
}

// building is the batch the writer is gathering: its writes are checked
// and staged in one pebble batch as they arrive.
type building struct {
	g       *group
	ops     []*writeOp // the staged writes, in order
	results []writeResult
	arrived int        // writes received, staged or refused
	space   spaceProbe // the data directory's free space when the first write arrived
	bytes   uint64     // what the staged writes add to the log
}

// newBuilding starts a batch for about n writes; the group builds its keys
// and values in scratch.
func (s *store) newBuilding(n int, scratch []byte) *building {
	return &building{
		g:       &group{s: s, b: s.db.NewBatch(), ix: s.db.NewBatch(), pos: s.wpos, pending: map[string]*pendingInfo{}, created: s.now().UnixNano() / 100, scratch: scratch},
		ops:     make([]*writeOp, 0, n),
		results: make([]writeResult, 0, n),
		space:   s.space.probe(),
	}
}

// add checks op against the streams as the batch leaves them and stages
// it, or refuses it at once, writing nothing, when it would not fit in the
// free space with the writes staged before it (spaceGuard).
func (bt *building) add(op *writeOp) {
	bt.arrived++
	n := opBytes(op)
	if err := bt.g.s.space.admit(bt.space, bt.bytes+n); err != nil {
		op.done <- writeResult{err: err}
		return
	}
	bt.bytes += n
	bt.ops = append(bt.ops, op)
	bt.results = append(bt.results, bt.g.apply(op))
}

// acker waits for each batch's WAL sync, in order, then makes the batch
// visible to readers and subscribers and acknowledges its writes. Nothing
// is acknowledged or delivered before it is on disk.
func (s *store) acker() {
	defer close(s.stopped)
	for f := range s.acks {
		if err := f.b.SyncWait(); err != nil {
			s.fail(err)
			for _, op := range f.ops {
				op.done <- writeResult{err: s.failed()}
			}
			s.ackDone <- struct{}{}
			continue
		}
		f.b.Close()
		// The readers' stream table before the acknowledgements: a forward
		// read from past a stream's last revision is answered from the
		// table alone (readStream), and must not miss an acknowledged event.
		s.mu.Lock()
		for name, info := range f.pending {
			s.streams.put(name, info.streamInfo)
		}
		s.mu.Unlock()
		s.head.Store(f.head)
		s.broadcast()
		s.ackDone <- struct{}{}
		s.statBatches.Add(1)
		s.statOps.Add(int64(len(f.ops)))
		for i, op := range f.ops {
			op.done <- f.results[i]
		}
	}
}

// pendingInfo is a stream's state as changed by the batch being built.
type pendingInfo struct {
	streamInfo
	dirty bool // streamState changed (not just metadata)
}

// group is the batch being gathered. Its log records go to b, in position
// order; the index entries, and at commit the stream states in name order,
// go to ix, which the writer appends to b before the commit. Pebble inserts
// a batch into its memtable (a skiplist) in batch order, each insert
// starting its search from the last one: log records one after the other,
// each next to the previous, took about a quarter less of the memtable's CPU
// than log and index keys alternating between two parts of the key space
// (BenchmarkGroupCommit, docs/store.md).
type group struct {
	s       *store
	b       *pebble.Batch // log records (and the high-water key)
	ix      *pebble.Batch // index entries, then stream states
	pos     uint64
	created int64
	pending map[string]*pendingInfo
	skipped bool   // an empty append took a position that holds no record
	scratch []byte // write's keys and values
}

func (g *group) get(stream string) streamInfo {
	if p := g.pending[stream]; p != nil {
		return p.streamInfo
	}
	if i, ok := g.s.wstreams.get(stream); ok {
		return i
	}
	return emptyInfo
}

// id looks up a recently written event id of the stream numbered sid
// (streamInfo.sid) in the id cache.
func (g *group) id(sid uint64, id [16]byte) (idEntry, bool) {
	if sid == 0 {
		return idEntry{}, false
	}
	return g.s.ids.get(sid, id)
}

func (g *group) edit(stream string) *pendingInfo {
	p := g.pending[stream]
	if p == nil {
		p = &pendingInfo{streamInfo: g.get(stream)}
		g.pending[stream] = p
	}
	return p
}

// write stages one event at the next position.
func (g *group) write(stream string, rev uint64, ev proposed) uint64 {
	g.pos++
	r := record{Stream: stream, Revision: rev, ID: ev.ID, Type: ev.Type, IsJSON: ev.IsJSON, Created: g.created, Metadata: ev.Metadata, Data: ev.Data}
	// Keys and values are built in one scratch buffer: the batch copies them.
	buf := appendLogKey(g.scratch[:0], g.pos)
	buf = encodeRecord(buf, &r)
	_ = g.b.Set(buf[:9], buf[9:], nil)
	buf = binary.BigEndian.AppendUint64(appendIndexPrefix(buf[:0], stream), rev)
	k := len(buf)
	buf = binary.BigEndian.AppendUint64(buf, g.pos)
	_ = g.ix.Set(buf[:k], buf[k:], nil)
	g.scratch = buf
	pi := g.edit(stream)
	if pi.sid == 0 {
		g.s.lastSID++
		pi.sid = g.s.lastSID
	}
	g.s.ids.add(pi.sid, ev.ID, idEntry{rev: rev, pos: g.pos})
	if rev != tombstoneRevision {
		pi.Last = int64(rev)
	}
	pi.LastPos = g.pos
	pi.dirty = true
	if base, ok := metaStreamOf(stream); ok {
		g.edit(base).Meta = parseStreamMeta(ev.IsJSON, ev.Data)
	}
	return g.pos
}

// deleted reports whether stream is tombstoned; a metadata stream counts as
// deleted when its base stream is.
func (g *group) deleted(stream string) bool {
	if g.get(stream).Tombstoned {
		return true
	}
	if base, ok := metaStreamOf(stream); ok {
		return g.get(base).Tombstoned
	}
	return false
}

// skip takes a fresh position that holds no record: KurrentDB's empty
// prepare, which $all reads and subscriptions never show.
func (g *group) skip() uint64 {
	g.pos++
	g.skipped = true
	return g.pos
}

// emptyAppend is an append of no events as KurrentDB treats it
// (IndexWriter.CheckCommit, StorageWriterService.WritePrepares): the
// expected revision is checked as for any write, except that a tombstoned
// stream passes for any, no stream or int64 max and a soft-deleted one
// passes for no stream; a passing write takes a fresh position (its empty
// prepare), answers the current revision, and undeletes a soft-deleted
// stream, as writing to it or to its metadata stream would.
func (g *group) emptyAppend(op *writeOp) writeResult {
	if g.deleted(op.stream) {
		switch e := op.expected; {
		case e.kind == expAny, e.kind == expNoStream, e.kind == expExact && e.rev == tombstoneRevision:
			return writeResult{last: tombstoneRevision, pos: g.skip()}
		}
		return writeResult{err: &streamDeletedError{op.stream}}
	}
	info := g.get(op.stream)
	cur := info.Last
	soft := info.Meta.SoftDeleted()
	wev := writeResult{err: &wrongVersionError{stream: op.stream, expected: op.expected, current: cur}}
	switch op.expected.kind {
	case expExists:
		if soft {
			return writeResult{err: &streamDeletedError{op.stream}}
		}
		if cur < 0 && g.get("$$"+op.stream).Last < 0 {
			return wev
		}
	case expNoStream:
		if cur >= 0 && !soft {
			return wev
		}
	case expExact:
		if int64(op.expected.rev) != cur {
			return wev
		}
	}
	pos := g.skip()
	if soft {
		g.undelete(op.stream, info.Meta.raw, cur+1)
	}
	if base, ok := metaStreamOf(op.stream); ok {
		if b := g.get(base); b.Meta.SoftDeleted() {
			g.undelete(base, b.Meta.raw, b.Last+1)
		}
	}
	return writeResult{last: cur, pos: pos}
}

func (g *group) apply(op *writeOp) writeResult {
	if op.kind == opAppend && len(op.events) == 0 {
		return g.emptyAppend(op)
	}
	if g.deleted(op.stream) {
		return writeResult{err: &streamDeletedError{op.stream}}
	}
	info := g.get(op.stream)
	cur := info.Last
	soft := info.Meta.SoftDeleted()
	wev := func() writeResult {
		return writeResult{err: &wrongVersionError{stream: op.stream, expected: op.expected, current: cur}}
	}
	metaExists := func() bool { return g.get("$$"+op.stream).Last >= 0 }
	switch op.kind {
	case opDelete, opTombstone:
		switch op.expected.kind {
		case expExists:
			if soft {
				return writeResult{err: &streamDeletedError{op.stream}}
			}
			if cur < 0 {
				return wev()
			}
		case expNoStream:
			if cur >= 0 {
				return wev()
			}
		case expExact:
			if int64(op.expected.rev) != cur {
				return wev()
			}
		}
		if op.kind == opDelete {
			if cur < 0 && !metaExists() {
				return wev()
			}
			pos := g.write("$$"+op.stream, uint64(g.get("$$"+op.stream).Last+1), proposed{
				ID: newUUID(), Type: "$metadata", IsJSON: true,
				Data: []byte(fmt.Sprintf(`{"$tb":%d}`, int64(math.MaxInt64))),
			})
			return writeResult{last: cur, pos: pos}
		}
		pos := g.write(op.stream, tombstoneRevision, proposed{ID: newUUID(), Type: "$streamDeleted"}) // no JSON flag, no data: LogRecord.cs 109-116
		pi := g.edit(op.stream)
		pi.Tombstoned = true
		return writeResult{last: cur, pos: pos}
	}

	evs := op.events
	switch op.expected.kind {
	case expAny, expExists:
		if op.expected.kind == expExists {
			if soft {
				return writeResult{err: &streamDeletedError{op.stream}}
			}
			if cur < 0 && !metaExists() {
				return wev()
			}
		}
		if _, ok := g.id(info.sid, evs[0].ID); ok { // evs is not empty: apply took empty appends
			var last idEntry
			for _, ev := range evs {
				e, ok := g.id(info.sid, ev.ID)
				if !ok {
					return wev()
				}
				last = e
			}
			return writeResult{last: int64(last.rev), pos: last.pos}
		}
	case expNoStream, expExact:
		n := int64(-1)
		if op.expected.kind == expExact {
			n = int64(op.expected.rev)
		}
		if n > cur {
			return wev()
		}
		if n < cur {
			match, first := g.sameIDs(op.stream, n+1, evs)
			switch {
			case match:
				return writeResult{last: n + int64(len(evs)), pos: g.posOf(op.stream, uint64(n+int64(len(evs))), evs[len(evs)-1].ID)}
			case !first && op.expected.kind == expNoStream && soft:
				// re-creating a soft-deleted stream
			default:
				return wev()
			}
		}
	}
	// Writing the metadata stream of a soft-deleted stream undeletes that
	// stream (checked before the write, StorageWriterService.cs 327-328).
	metaOfSoft := ""
	if base, ok := metaStreamOf(op.stream); ok && g.get(base).Meta.SoftDeleted() {
		metaOfSoft = base
	}
	var pos uint64
	for i, ev := range evs {
		pos = g.write(op.stream, uint64(cur+1+int64(i)), ev)
	}
	if soft {
		// Undelete: only the new events stay visible.
		g.undelete(op.stream, info.Meta.raw, cur+1)
	}
	if metaOfSoft != "" {
		// The events are stored as sent; then the metadata they leave
		// (the last one's data) is written again with $tb after the
		// stream's last event (SoftUndeleteMetastream, 469-474): only
		// events after the deletion stay hidden. The answer is the
		// client's own last event, not the undelete's.
		b := g.get(metaOfSoft)
		g.undelete(metaOfSoft, b.Meta.raw, b.Last+1)
	}
	return writeResult{last: cur + int64(len(evs)), pos: pos}
}

// undelete writes a soft-deleted stream's metadata (raw) again with
// truncate-before tb, so that only its events from tb on are visible;
// metadata that is not a JSON object is left as it is, as KurrentDB's
// SoftUndeleteStream does (StorageWriterService.cs 483-516).
func (g *group) undelete(stream string, raw []byte, tb int64) {
	data, ok := withTB(raw, tb)
	if !ok {
		return
	}
	meta := g.get("$$" + stream)
	g.write("$$"+stream, uint64(meta.Last+1), proposed{
		ID: newUUID(), Type: "$metadata", IsJSON: true, Data: data,
	})
}

// sameIDs compares the proposed ids with the events at from, from+1, … of
// stream. match: all equal; first: the first one is equal.
func (g *group) sameIDs(stream string, from int64, evs []proposed) (match, first bool) {
	sid := g.get(stream).sid
	for i, ev := range evs {
		rev := uint64(from + int64(i))
		e, ok := g.id(sid, ev.ID)
		if !ok || e.rev != rev {
			r, err := g.s.readRev(stream, rev)
			if err != nil || r == nil || r.ID != ev.ID {
				return false, i > 0
			}
		}
	}
	return true, true
}

func (g *group) posOf(stream string, rev uint64, id [16]byte) uint64 {
	if e, ok := g.id(g.get(stream).sid, id); ok && e.rev == rev {
		return e.pos
	}
	r, err := g.s.readRev(stream, rev)
	if err != nil || r == nil {
		return 0
	}
	return r.Position
}

// get reads the record at pos.
func (s *store) get(pos uint64) (*record, error) {
	v, closer, err := s.db.Get(logKey(pos))
	if err != nil {
		return nil, fmt.Errorf("read position %d: %w", pos, err)
	}
	defer closer.Close()
	return decodeRecord(pos, v, true, nil)
}

// readDurable reads stream's event at rev as readers may see it: nil
// when there is none or it is not yet on disk.
func (s *store) readDurable(stream string, rev uint64) (*record, error) {
	r, err := s.readRev(stream, rev)
	if err != nil || r == nil || r.Position > s.head.Load() {
		return nil, err
	}
	return r, nil
}

// readRev reads stream's event at rev, synced or not (for the writer);
// nil when there is none.
func (s *store) readRev(stream string, rev uint64) (*record, error) {
	v, closer, err := s.db.Get(indexKey(stream, rev))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pos := binary.BigEndian.Uint64(v)
	closer.Close()
	return s.get(pos)
}

// scanStream calls fn for stream's durable events from rev in the given
// direction until fn returns false. Only the index and the log are read:
// callers apply visibility rules.
func (s *store) scanStream(stream string, from uint64, backwards bool, fn func(*record) bool) error {
	prefix := indexPrefix(stream)
	upper := append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	var ok bool
	if backwards {
		ok = it.SeekLT(indexKey(stream, from+1))
		if from == math.MaxUint64 {
			ok = it.Last()
		}
	} else {
		ok = it.SeekGE(indexKey(stream, from))
	}
	head := s.head.Load()
	var logIt *pebble.Iterator
	// One stream, usually a few event types: their strings are shared
	// (records keep them; strings are immutable).
	names := new(nameCache)
	for ; ok; ok = step(it, backwards) {
		pos := binary.BigEndian.Uint64(it.Value())
		if pos > head {
			if backwards {
				continue
			}
			break
		}
		if logIt == nil {
			// One log iterator for the whole scan: a db.Get per event
			// builds and closes an iterator each time, which was most
			// of a short stream read's server CPU.
			if logIt, err = s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}}); err != nil {
				return err
			}
			defer logIt.Close()
		}
		r, err := getAt(logIt, pos, names)
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return it.Error()
}

// getAt is get through an open log iterator; names (may be nil) shares
// stream and type strings between records.
func getAt(it *pebble.Iterator, pos uint64, names *nameCache) (*record, error) {
	k := logKey(pos)
	if !it.SeekGE(k) || !bytes.Equal(it.Key(), k) {
		if err := it.Error(); err != nil {
			return nil, fmt.Errorf("read position %d: %w", pos, err)
		}
		return nil, fmt.Errorf("read position %d: %w", pos, pebble.ErrNotFound)
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, fmt.Errorf("read position %d: %w", pos, err)
	}
	return decodeRecord(pos, v, true, names)
}

func step(it *pebble.Iterator, backwards bool) bool {
	if backwards {
		return it.Prev()
	}
	return it.Next()
}

// scanAll calls fn for the log's durable records starting at from (inclusive
// forwards, exclusive backwards) until fn returns false.
func (s *store) scanAll(from uint64, backwards bool, fn func(*record) bool) error {
	return s.scanAllRecords(from, backwards, true, fn)
}

// scanAllRecords is scanAll; with copyBytes false the record passed to fn
// is reused for the next one and its data and metadata alias pebble's
// memory: all of it is valid only during fn.
func (s *store) scanAllRecords(from uint64, backwards, copyBytes bool, fn func(*record) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var ok bool
	if backwards {
		if from == math.MaxUint64 {
			ok = it.Last()
		} else {
			ok = it.SeekLT(logKey(from))
		}
	} else {
		ok = it.SeekGE(logKey(from))
	}
	head := s.head.Load()
	var reused record
	var names *nameCache
	if !copyBytes {
		names = new(nameCache)
	}
	for ; ok; ok = step(it, backwards) {
		pos := binary.BigEndian.Uint64(it.Key()[1:])
		if pos > head {
			if backwards {
				continue
			}
			break
		}
		r := &reused
		if copyBytes {
			r = new(record) // fn may keep it
		}
		if err := decodeRecordTo(r, pos, it.Value(), copyBytes, names); err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return it.Error()
}

// idCache remembers recent (stream, event id) pairs for idempotent appends.
// It is a bounded FIFO: old ids fall out, as in KurrentDB. Streams are
// named by their streamInfo.sid, so neither the map nor the ring holds a
// pointer: at its full size (~12 MB) the cache was most of the live heap,
// which the garbage collector scanned on every cycle.
type idCache struct {
	m    map[idKey]idEntry
	ring []ringSlot
	next int
}

type ringSlot struct {
	k   idKey
	pos uint64
}

type idKey struct {
	sid uint64 // streamInfo.sid
	id  [16]byte
}

type idEntry struct {
	rev uint64
	pos uint64
}

func (c *idCache) init(n int) {
	c.m = make(map[idKey]idEntry, n)
	c.ring = make([]ringSlot, n)
}

func (c *idCache) get(sid uint64, id [16]byte) (idEntry, bool) {
	e, ok := c.m[idKey{sid, id}]
	return e, ok
}

// add records an entry; entries must come in position order.
func (c *idCache) add(sid uint64, id [16]byte, e idEntry) {
	k := idKey{sid, id}
	old := c.ring[c.next]
	if old.pos != 0 {
		if cur, ok := c.m[old.k]; ok && cur.pos == old.pos {
			delete(c.m, old.k)
		}
	}
	c.m[k] = e
	c.ring[c.next] = ringSlot{k, e.pos}
	c.next = (c.next + 1) % len(c.ring)
}

// pebbleLogger keeps pebble's informational chatter out of the server log
// and reports its fatal errors there.
type pebbleLogger struct{ log *slog.Logger }

func (pebbleLogger) Infof(string, ...interface{}) {}
func (l pebbleLogger) Fatalf(format string, args ...interface{}) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
	os.Exit(2)
}
