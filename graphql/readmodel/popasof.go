package readmodel

import (
	"time"

	"github.com/craftledger/craftledger/events"
)

// SummaryAsOf is one craftsman's summary as SummariesAsOf gives it (ok
// false when nothing of theirs was recorded by asOf, and for an unknown
// craftsman), with the span [from, until) of instants over which that
// answer is the same — no record, occurrence or replacement time of the
// craftsman's events lies inside it (zero from or until: unbounded) —
// and the number of events of the stream it was derived from (ScanSeq's
// n). A summary as of T depends on T only through which events were
// recorded and which facts had occurred by T (the career fold uses its
// instant for nothing else that a summary holds), so within the span it
// is the same. The records are decoded for the call only when not held.
func (m *Memory) SummaryAsOf(id string, asOf time.Time) (s Summary, ok bool, from, until time.Time, n int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil || c.count == 0 {
		return Summary{}, false, time.Time{}, time.Time{}, 0
	}
	cc := c
	if !c.ready.Load() {
		// Nothing recorded by asOf, read from the raw log's record times
		// without decoding: none of it until the first of them (the
		// decodable records are among these events).
		// (The entries' own times: at() would format every id.)
		var first *entry
		for _, j := range m.log.streamIdx(events.CraftsmanStream(id)) {
			if e := m.log.entries.at(int(j)); first == nil || e.recorded().Before(first.recorded()) {
				first = e
			}
		}
		if first != nil {
			if t := first.recorded(); t.After(asOf) {
				return Summary{}, false, time.Time{}, t, c.count
			}
		}
		cc = m.forCall(c)
	}
	moment := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if !t.After(asOf) && t.After(from) {
			from = t
		}
		if t.After(asOf) && (until.IsZero() || t.Before(until)) {
			until = t
		}
	}
	Moments(cc.Records, moment)
	if !anyRecordedBy(cc, asOf) {
		return Summary{}, false, from, until, c.count
	}
	return summaryOf(cc, asOf), true, from, until, c.count
}

// Moments calls fn with every instant at which recs can change what a fold
// of them answers: each record time, occurrence time and occurrence time of
// a correction's replacement (in record order, repeats included).
func Moments(recs []events.Recorded, fn func(time.Time)) {
	for _, r := range recs {
		fn(r.RecordedAt)
		fn(r.Meta.OccurredAt)
		if c, ok := r.Payload.(events.EventCorrected); ok && c.Replacement != nil && c.Replacement.OccurredAt != nil {
			fn(*c.Replacement.OccurredAt)
		}
	}
}
