package readmodel

import (
	"weak"

	"github.com/craftledger/craftledger/events"
)

// wholeScanShare: ScanSeq walks everyone instead of an index list longer
// than 1/wholeScanShare of the craftsmen. Only one point was measured: at
// 1,000,000, a trade of 200,000 (1/5) cost ~140 ns of CPU per listed
// craftsman, everyone ~12 ns each — break-even by those figures is near
// 1/12; 8 is a choice between them, not a measured optimum.
const wholeScanShare = 8

// ScanSeq is ScanBy for a reader that keeps its own compact copy of what
// it needs of each summary (and, like ScanBy's, filters what it is given:
// the craftsmen visited are a superset of those of trade and org): fn
// gets each craftsman's registration index (seq: dense, 0..n-1, stable
// while the model lives; a snapshot load replaces every craftsman and
// summary: see Epoch), the number of events of its stream (n: it grows
// with every event the craftsman's ledger gets, undecodable ones
// included, so that equal n means the same records) and a pointer to the
// live summary (read it, never modify it;
// its address identifies the craftsman, not its state). Summaries are read-only and a change
// replaces the parts that changed (the Levels map, a list, the region
// string), so a reader may tell that its copy of a summary is current by
// the identity of the parts it copied. done, when not nil, is called once
// every part has finished, still under the read lock: the summaries fn
// saw may be read until it returns, never after.
func (m *Memory) ScanSeq(trade, org string, parts int, fn func(part, seq, n int, id string, s *Summary), done func()) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	list := m.dom.listFor(trade, org)
	if len(list)*wholeScanShare > len(m.dom.order) {
		// A long index list is walked at a stride through memory; the
		// whole population in order, streamed, costs less per craftsman
		// (fn's reader filters anyway: ScanSeq visits a superset).
		list = m.dom.order
	}
	scanParts(len(list), parts, func(part, i int) {
		if c := list[i]; c.count > 0 {
			fn(part, c.seq, c.count, c.ID, &c.Summary)
		}
	})
	if done != nil {
		done()
	}
}

// Seqs is the number of registration indexes handed out (every seq a
// scan gives is below it, unless craftsmen were registered since).
func (m *Memory) Seqs() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.dom.order)
}

// Epoch names the craftsmen a model's registration indexes (seq) refer
// to: it changes when a snapshot load replaces them, and never comes back
// (it is a weak reference to the model's decoded state, which a load
// replaces by a new one). A reader keeping something per seq compares the
// epoch before and after a scan: equal, the scan saw the craftsmen its
// copies were made of.
type Epoch struct{ w weak.Pointer[domain] }

// Epoch is the model's current epoch.
func (m *Memory) Epoch() Epoch {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return Epoch{weak.Make(m.dom)}
}

// RecordsOnce is Records for a reader that reads many craftsmen once (a
// population scan): records not held are decoded for the caller only,
// not kept (so the craftsmen held for queries are not pushed out). n is
// the number of events of the stream they are of (ScanSeq's n).
func (m *Memory) RecordsOnce(id string) (recs []events.Recorded, n int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil {
		return nil, 0
	}
	if c.ready.Load() {
		return c.Records[:len(c.Records):len(c.Records)], c.count
	}
	return m.decodeStream(id), c.count
}
