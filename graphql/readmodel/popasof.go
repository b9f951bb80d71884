package readmodel

import (
	"slices"
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
// of them as of an instant answers (in record order, repeats included):
// each record time; an occurrence time only when it is later than its
// record's record time, and a correction's replacement's only when later
// than the correction's record time. Before its record time an event is
// not seen at all, and from it on a fact that had occurred by then is
// seen whatever the instant: only a fact recorded before it occurred
// (dated in the future, or a replacement moving it there) enters a fold
// later than its record. A fold depends on its instant for nothing else
// that a summary holds (the years of work it derives are not in one);
// the latest moment is the latest record or occurrence time.
func Moments(recs []events.Recorded, fn func(time.Time)) {
	for _, r := range recs {
		fn(r.RecordedAt)
		if r.Meta.OccurredAt.After(r.RecordedAt) {
			fn(r.Meta.OccurredAt)
		}
		if c, ok := r.Payload.(events.EventCorrected); ok && c.Replacement != nil && c.Replacement.OccurredAt != nil && c.Replacement.OccurredAt.After(r.RecordedAt) {
			fn(*c.Replacement.OccurredAt)
		}
	}
}

// SummaryVersions calls fn, in time order, for each moment (Moments) from
// which a craftsman's summary as of an instant (SummaryAsOf) may differ
// from the one before it, with that summary (valid during the call only):
// the summary as of any instant t is fn's for the last moment at or
// before t, and nothing (ok false) before the first call. The records are
// decoded once for all of them (not kept). n is the number of events
// they were derived from (ScanSeq's n); 0 for an unknown craftsman. fn
// runs under the model's read lock: it must not call the model.
//
// recs, when not nil, is handed the records the versions are derived
// from, before the first version: the craftsman's records in order, as
// Records would answer them, and n. recs is called once, and not at all
// for an unknown craftsman or one without events (n 0). The records are
// valid during the call only (they may be decoded for this call alone):
// recs must not keep them, modify them or call the model (it runs under
// the model's read lock, as fn does). A reader that needs both the
// records and the versions decodes them once.
func (m *Memory) SummaryVersions(id string, recs func(r []events.Recorded, n int), fn func(from time.Time, s *Summary)) (n int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.dom.craftsmen[id]
	if c == nil || c.count == 0 {
		return 0
	}
	cc := m.forCall(c)
	if recs != nil {
		recs(cc.Records[:len(cc.Records):len(cc.Records)], c.count)
	}
	var at []time.Time
	Moments(cc.Records, func(t time.Time) { at = append(at, t) })
	slices.SortFunc(at, time.Time.Compare)
	at = slices.CompactFunc(at, time.Time.Equal)
	for _, t := range at {
		if !anyRecordedBy(cc, t) {
			continue
		}
		s := summaryOf(cc, t)
		fn(t, &s)
	}
	return c.count
}
