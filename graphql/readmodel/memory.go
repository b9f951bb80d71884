package readmodel

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/craftledger/craftledger/events"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Memory is the in-memory read model: the embedded default. It is safe for
// one writer (the projector) and many concurrent readers.
type Memory struct {
	mu       sync.RWMutex
	decodeMu sync.Mutex // serialises publishing lazily decoded records under the read lock
	cp       eventstore.Position
	hasCP    bool
	log      rawLog
	dom      *domain
	chains   *chains
	reg      *events.Registry // decoding needs no lock: never replaced
	// held lists, oldest first, the craftsmen whose records were decoded
	// for readers and are kept (under decodeMu); past maxHeld the oldest
	// are let go (evict).
	held     []*Craftsman
	maxHeld  int
	evicting atomic.Bool
}

// DefaultMaxHeld is how many craftsmen's decoded records a Memory keeps
// for readers (~10 KB each for a generated ledger): the most recently
// decoded; the others are decoded again from the log when read.
const DefaultMaxHeld = 1 << 16

// NewMemory returns an empty in-memory read model.
func NewMemory() *Memory {
	m := &Memory{log: newRawLog(), dom: newDomain(), chains: newChains(), reg: events.NewRegistry(), maxHeld: DefaultMaxHeld}
	m.dom.ensure = func(c *Craftsman) { m.decode(c, false) }
	return m
}

// A craftsman's decoded records are not kept for everyone: the projector
// decodes a craftsman's events to derive its summary and then lets them go
// (the raw log holds the bytes); the first query that reads the craftsman
// decodes them again from the log and keeps them, up to the DefaultMaxHeld
// most recently decoded craftsmen. Memory then grows with the craftsmen
// actually read, up to a bound, not with the population.

// ensure decodes a craftsman's records for a reader and keeps them.
// Callers hold m.mu (read or write); decodeMu makes concurrent readers
// decode once.
func (m *Memory) ensure(c *Craftsman) { m.decode(c, true) }

// decode fills c.Records from the raw log when they are not held; keep
// marks them as read by a query (settle does not let them go).
//
// The decoding itself runs under the caller's lock only, so readers of
// different craftsmen decode in parallel (a first read may fault the
// log's pages in from disk); decodeMu guards only the publication. Two
// readers of the same craftsman may both decode it: the first to publish
// wins, the other's copy is dropped.
func (m *Memory) decode(c *Craftsman, keep bool) {
	if c.ready.Load() {
		return
	}
	recs := m.decodeStream(c.ID)
	m.decodeMu.Lock()
	defer m.decodeMu.Unlock()
	if c.ready.Load() {
		return
	}
	c.Records, c.kept = recs, keep
	c.ready.Store(true)
	if keep {
		m.held = append(m.held, c)
		if len(m.held) > m.maxHeld+m.maxHeld/4 && m.evicting.CompareAndSwap(false, true) {
			go m.evict()
		}
	}
}

// evict lets the oldest held craftsmen's records go, down to maxHeld. It
// takes the write lock: a reader may be reading a craftsman's Records
// under the read lock.
func (m *Memory) evict() {
	m.mu.Lock()
	m.decodeMu.Lock()
	if n := len(m.held) - m.maxHeld; n > 0 {
		for _, c := range m.held[:n] {
			c.Records, c.kept = nil, false
			c.ready.Store(false)
		}
		m.held = append([]*Craftsman(nil), m.held[n:]...)
	}
	m.decodeMu.Unlock()
	m.mu.Unlock()
	m.evicting.Store(false)
}

// decodeStream decodes a craftsman stream's events from the raw log,
// each straight into its place in the one slice returned (sized for the
// stream: a first read allocates no intermediate copies of the events).
func (m *Memory) decodeStream(id string) []events.Recorded {
	idx := m.log.streamIdx(events.CraftsmanStream(id))
	recs := make([]events.Recorded, len(idx))
	n := 0
	for _, j := range idx {
		ev := m.log.at(int(j))
		if decodeOne(m.reg, &ev, &recs[n]) {
			n++
		}
	}
	clear(recs[n:]) // undecodable events leave nothing behind
	return recs[:n:n]
}

// Checkpoint implements Writer.
func (m *Memory) Checkpoint() (eventstore.Position, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cp, m.hasCP
}

// Apply implements Writer. The batch is decoded before the model's lock is
// taken; only the apply holds it.
func (m *Memory) Apply(batch []eventstore.RecordedEvent, cp eventstore.Position) error {
	dec := batchPool.Get().(*batchDecoded)
	dec.decode(m.reg, batch)
	err := m.apply(batch, dec, cp)
	clear(dec.recs) // settled: the model holds none of them; the pool holds no pointers
	batchPool.Put(dec)
	return err
}

// apply applies a batch whose events dec holds decoded.
func (m *Memory) apply(batch []eventstore.RecordedEvent, dec *batchDecoded, cp eventstore.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var from *eventstore.Position
	if m.hasCP {
		c := m.cp
		from = &c
	}
	fresh, err := m.log.check(batch, from)
	if err != nil {
		return err
	}
	// Craftsmen whose decoded records were let go get them back before
	// this batch's events join the log (decoded once, below).
	for k, i := range fresh {
		if k > 0 && batch[i].Stream == batch[fresh[k-1]].Stream {
			continue // a stream's events come together: looked at once
		}
		if cat, id, ok := events.SplitStream(batch[i].Stream); ok && cat == events.CategoryCraftsman {
			if c := m.dom.craftsmen[id]; c != nil {
				m.decode(c, false)
			}
		}
	}
	run := 0 // events of this stream left in the batch, this one included
	var room []events.Recorded
	for k, i := range fresh {
		if run == 0 {
			run = 1
			for k+run < len(fresh) && batch[fresh[k+run]].Stream == batch[i].Stream {
				run++
			}
			room = dec.recs[i : i+run]
		}
		// The log's copy of the stream name: a craftsman's id shares it.
		m.dom.applyRec(m.log.add(&batch[i]), &batch[i], &dec.recs[i], dec.ok[i], run, room)
		run--
	}
	m.log.flush()
	m.dom.settle()
	if !m.hasCP || m.cp.Less(cp) {
		m.cp, m.hasCP = cp, true
	}
	return nil
}

// Undecodable is the number of applied events the catalogue could not
// decode (kept raw for audit, left out of the derived views).
func (m *Memory) Undecodable() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.dom.undecodable
}

// Len is the number of events held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.log.len()
}

// Log answers an audit query over the raw events (their bytes are the
// caller's copy: see detach).
func (m *Memory) Log(q LogQuery) LogPage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p := m.log.page(q)
	detach(p.Events)
	return p
}

// Stream returns the raw events of one stream in revision order (nil when
// the stream has no events; their bytes are the caller's copy).
func (m *Memory) Stream(name string) []eventstore.RecordedEvent {
	m.mu.RLock()
	defer m.mu.RUnlock()
	evs := m.log.stream(name)
	detach(evs)
	return evs
}

// detach copies the events' data and metadata, views into the log's
// chunks, onto the heap (one buffer for all): a view must not outlive the
// model's lock, since a load may unmap the chunks it points into once the
// lock is let go (spill.go).
func detach(evs []eventstore.RecordedEvent) {
	n := 0
	for i := range evs {
		n += len(evs[i].Data) + len(evs[i].Metadata)
	}
	buf := make([]byte, 0, n)
	own := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		at := len(buf)
		buf = append(buf, b...)
		return buf[at:len(buf):len(buf)]
	}
	for i := range evs {
		evs[i].Data, evs[i].Metadata = own(evs[i].Data), own(evs[i].Metadata)
	}
}

// Corrections implements Reader.
func (m *Memory) Corrections(stream string, revision uint64, recordedBy time.Time) (supersedes, supersededBy *EventRef) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.log.corrections(stream, revision, recordedBy)
}

// Reader is what the GraphQL schema reads. A PostgreSQL implementation
// answers the same methods from tables (see docs/graphql.md).
type Reader interface {
	// Log pages the raw events for the audit view.
	Log(q LogQuery) LogPage
	// Stream returns one stream's raw events in revision order.
	Stream(name string) []eventstore.RecordedEvent
	// ChainStatus is the hash-chain status of one event: "ok", "broken"
	// or "unchained".
	ChainStatus(stream string, revision uint64) string
	// Corrections links the event at (stream, revision) to the event it
	// supersedes (when it is an EventCorrected) and to the latest
	// correction that superseded it recorded by recordedBy (zero: any);
	// nil when there is none.
	Corrections(stream string, revision uint64, recordedBy time.Time) (supersedes, supersededBy *EventRef)
	DomainReader
}

// DomainReader is the decoded side of Reader.
type DomainReader interface {
	// Craftsman returns a craftsman's view as of asOf (zero = live; only
	// events recorded by then) restricted to events that occurred by
	// occurredBy (zero = no restriction), with the live summary used for
	// authorization. ok is false for an unknown craftsman.
	Craftsman(id string, asOf, occurredBy time.Time) (v *View, s Summary, ok bool)
	// Summaries calls fn for every craftsman's live summary in
	// registration order until fn returns false.
	Summaries(fn func(id string, s Summary) bool)
	// ScanSummaries calls fn for every craftsman's live summary, the
	// registration order split into parts scanned in parallel (one
	// goroutine per part; parts are contiguous and in order).
	ScanSummaries(parts int, fn func(part int, id string, s Summary))
	// ScanBy is ScanSummaries over a superset of the craftsmen that hold a
	// level in trade (when not "") and are linked to org (when not ""): the
	// smaller of the two index lists; the caller still filters.
	ScanBy(trade, org string, parts int, fn func(part int, id string, s Summary))
	// SummariesAsOf is Summaries rebuilt from the events recorded by asOf
	// (craftsmen with nothing recorded by then are left out). It costs a
	// fold of every craftsman.
	SummariesAsOf(asOf time.Time, fn func(id string, s Summary) bool)
	// Summary returns a craftsman's live summary; ok is false for an
	// unknown craftsman.
	Summary(id string) (s Summary, ok bool)
	// Records returns a craftsman stream's decoded events in revision
	// order (nil for an unknown craftsman); the caller must not modify them.
	Records(id string) []events.Recorded
	// Academies, Competitions and Mentorship return decoded streams.
	Academies() []*Academy
	Competitions() []*Competition
	Mentorship(id string) (*Mentorship, bool)
	// Policies returns every policy's versions, by name.
	Policies() map[string][]events.Recorded
	// Integrity is the hash-chain verdict on one stream: on its events
	// recorded by recordedBy (zero: all of them; "unknown" when none).
	Integrity(stream string, recordedBy time.Time) StreamIntegrity
}

// Craftsman implements DomainReader.
func (m *Memory) Craftsman(id string, asOf, occurredBy time.Time) (*View, Summary, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil || c.count == 0 {
		return nil, Summary{}, false
	}
	m.ensure(c)
	ms := make([]*Mentorship, 0, len(c.Mentorships))
	for _, mid := range c.Mentorships {
		if mm := m.dom.mentorships[mid]; mm != nil {
			ms = append(ms, mm)
		}
	}
	return buildView(c, ms, asOf, occurredBy), c.Summary, true
}

// Summary implements DomainReader.
func (m *Memory) Summary(id string) (Summary, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil || c.count == 0 {
		return Summary{}, false
	}
	return c.Summary, true
}

// Records implements DomainReader.
func (m *Memory) Records(id string) []events.Recorded {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil {
		return nil
	}
	m.ensure(c)
	return c.Records[:len(c.Records):len(c.Records)]
}

// Summaries implements DomainReader.
func (m *Memory) Summaries(fn func(id string, s Summary) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, c := range m.dom.order {
		if c.count == 0 {
			continue
		}
		if !fn(c.ID, c.Summary) {
			return
		}
	}
}

// ScanSummaries implements DomainReader.
func (m *Memory) ScanSummaries(parts int, fn func(part int, id string, s Summary)) {
	m.ScanBy("", "", parts, fn)
}

// ScanBy implements DomainReader.
func (m *Memory) ScanBy(trade, org string, parts int, fn func(part int, id string, s Summary)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	list := m.dom.listFor(trade, org)
	scanParts(len(list), parts, func(part, i int) {
		if c := list[i]; c.count > 0 {
			fn(part, c.ID, c.Summary)
		}
	})
}

// listFor is the shortest list of craftsmen that holds every craftsman of
// trade and org (either may be empty): the trade's or the organisation's
// index, or everyone in registration order when neither is given. A scan
// over it still filters by the other.
func (d *domain) listFor(trade, org string) []*Craftsman {
	switch {
	case trade != "" && org != "":
		list := d.byTrade[trade]
		if o := d.byOrg[org]; len(o) < len(list) {
			list = o
		}
		return list
	case trade != "":
		return d.byTrade[trade]
	case org != "":
		return d.byOrg[org]
	}
	return d.order
}

// scanParts splits 0..n-1 into up to parts contiguous ranges visited in
// parallel (small scans stay on one goroutine).
func scanParts(n, parts int, visit func(part, i int)) {
	parts = max(1, min(parts, n/1024+1))
	chunk := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for part := 0; part < parts; part++ {
		lo, hi := part*chunk, min((part+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				visit(part, i)
			}
		}()
	}
	wg.Wait()
}

// SummariesAsOf implements DomainReader.
func (m *Memory) SummariesAsOf(asOf time.Time, fn func(id string, s Summary) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, c := range m.dom.order {
		id := c.ID
		if c.count == 0 {
			continue
		}
		// Decoded for this scan only: an as-of scan over everyone must
		// not leave the whole population decoded.
		cc := m.forCall(c)
		if !anyRecordedBy(cc, asOf) {
			continue
		}
		if !fn(id, summaryOf(cc, asOf)) {
			return
		}
	}
}

// forCall is c with its records: c itself when they are held, otherwise a
// copy with them decoded for the caller only (not kept). Read lock held.
func (m *Memory) forCall(c *Craftsman) *Craftsman {
	if c.ready.Load() {
		return c
	}
	return &Craftsman{ID: c.ID, erased: c.erased, Records: m.decodeStream(c.ID)}
}

// anyRecordedBy reports whether any of c's records was recorded by asOf (the
// first is recorded first).
func anyRecordedBy(c *Craftsman, asOf time.Time) bool {
	return len(c.Records) > 0 && !c.Records[0].RecordedAt.After(asOf)
}

// Academies implements DomainReader.
func (m *Memory) Academies() []*Academy {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Academy, 0, len(m.dom.academies))
	for _, a := range m.dom.academies {
		out = append(out, &Academy{ID: a.ID, Records: a.Records[:len(a.Records):len(a.Records)]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Competitions implements DomainReader.
func (m *Memory) Competitions() []*Competition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Competition, 0, len(m.dom.competitions))
	for _, c := range m.dom.competitions {
		out = append(out, &Competition{ID: c.ID, Records: c.Records[:len(c.Records):len(c.Records)]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Mentorship implements DomainReader.
func (m *Memory) Mentorship(id string) (*Mentorship, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mm := m.dom.mentorships[id]
	if mm == nil {
		return nil, false
	}
	cp := *mm
	cp.Records = mm.Records[:len(mm.Records):len(mm.Records)]
	return &cp, true
}

// Policies implements DomainReader.
func (m *Memory) Policies() map[string][]events.Recorded {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string][]events.Recorded, len(m.dom.policies))
	for k, v := range m.dom.policies {
		out[k] = v[:len(v):len(v)]
	}
	return out
}
