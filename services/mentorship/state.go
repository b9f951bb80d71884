package mentorship

import (
	"sync"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// pairing is a mentorship's state, folded from its stream.
type pairing struct {
	started   bool
	start     events.MentorshipStarted
	startedAt time.Time
	status    string // career.MentorshipActive, MentorshipCompleted, MentorshipEndedEarly
	sessions  int
}

func (s *service) foldPairing(h command.History) (pairing, error) {
	var st pairing
	for _, r := range h.Events {
		if !s.reg.Known(r.Type) {
			continue
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return st, errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
		}
		switch p := p.(type) {
		case events.MentorshipStarted:
			m, err := command.DecodeMetadata(r.Metadata)
			if err != nil {
				return st, err
			}
			st.started, st.start, st.startedAt, st.status = true, p, m.OccurredAt, career.MentorshipActive
		case events.MentorshipSessionLogged:
			st.sessions++
		case events.MentorshipCompleted:
			st.status = career.MentorshipCompleted
		case events.MentorshipEndedEarly:
			st.status = career.MentorshipEndedEarly
		}
	}
	return st, nil
}

// endOfTime is the as-of instant of folds that must see every fact.
func (s *service) endOfTime() time.Time { return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }

// career folds a craftsman's stream with the events module's career fold
// (corrections applied) as of asOf.
func (s *service) career(h command.History, asOf time.Time) (*career.State, error) {
	recs, err := s.decoded.facts(s.reg, h)
	if err != nil {
		return nil, err
	}
	return career.Fold(recs, asOf, career.AsOccurred), nil
}

// careerNowAndAt folds a craftsman's stream twice: with every fact (now)
// and as of at (then; the caller reads only its levels from it). A fold as
// of a date drops the facts that occurred after it and nothing else, so
// when none did — and no correction, which may carry its own date, is in
// the stream — both folds see the same facts and one fold serves both.
func (s *service) careerNowAndAt(h command.History, at time.Time) (now, then *career.State, err error) {
	recs, err := s.decoded.facts(s.reg, h)
	if err != nil {
		return nil, nil, err
	}
	now = career.Fold(recs, s.endOfTime(), career.AsOccurred)
	for _, r := range recs {
		if _, corr := r.Payload.(events.EventCorrected); corr || r.Meta.OccurredAt.After(at) {
			return now, career.Fold(recs, at, career.AsOccurred), nil
		}
	}
	return now, now, nil
}

// Bounds of a decodedCache.
const (
	decodedStreams = 4096
	decodedFacts   = 200_000
)

// decodedCache keeps the decoded career facts of the craftsman streams the
// service folded last, so that folding a stream again decodes only the
// events appended since (a master's stream is folded at every start of a
// pairing, an apprentice's too). Decoding the JSON of every event was most
// of a fold's cost. An entry is used only for the events it was decoded
// from — same id, revision and record time at every position — so the
// facts are exactly those decoding the history would give. Entries are
// never mutated once stored.
type decodedCache struct {
	mu     sync.Mutex
	m      map[string]*decodedStream
	held   int // facts over all entries
	max    int // streams
	maxRec int // facts over all streams
}

type decodedStream struct {
	raw  []rawKey          // the events decoded, in stream order
	recs []events.Recorded // the career facts among them (known types)
}

// rawKey identifies a stored event.
type rawKey struct {
	id       string
	revision uint64
	created  time.Time
}

func newDecodedCache(streams, facts int) *decodedCache {
	return &decodedCache{m: map[string]*decodedStream{}, max: streams, maxRec: facts}
}

// facts returns the decoded career facts of h's events (known types only).
func (c *decodedCache) facts(reg *events.Registry, h command.History) ([]events.Recorded, error) {
	c.mu.Lock()
	old := c.m[h.Stream]
	c.mu.Unlock()
	n, k := 0, 0 // events and facts reused
	if old != nil && len(old.raw) <= len(h.Events) {
		n = len(old.raw)
		for i, r := range old.raw {
			if e := &h.Events[i]; e.ID != r.id || e.Revision != r.revision || !e.Created.Equal(r.created) {
				n = 0
				break
			}
		}
		if n > 0 {
			k = len(old.recs)
		}
	}
	if n == len(h.Events) && n > 0 {
		return old.recs, nil
	}
	raw := make([]rawKey, n, len(h.Events))
	recs := make([]events.Recorded, k, k+len(h.Events)-n)
	if n > 0 {
		copy(raw, old.raw)
		copy(recs, old.recs)
	}
	for _, r := range h.Events[n:] {
		raw = append(raw, rawKey{id: r.ID, revision: r.Revision, created: r.Created})
		if !reg.Known(r.Type) {
			continue // not a career fact
		}
		rec, err := reg.DecodeRecorded(events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type,
			Data: r.Data, Metadata: r.Metadata, Created: r.Created})
		if err != nil {
			return nil, errs.E(errs.Internal, "%v", err)
		}
		recs = append(recs, rec)
	}
	if len(raw) > 0 && len(recs) <= c.maxRec {
		c.put(h.Stream, &decodedStream{raw: raw, recs: recs})
	}
	return recs, nil
}

// put stores d for stream unless a longer entry is there already, then
// drops arbitrary other streams while the cache is over its bounds.
func (c *decodedCache) put(stream string, d *decodedStream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[stream]; old != nil {
		if len(old.raw) > len(d.raw) {
			return
		}
		c.held -= len(old.recs)
	}
	c.m[stream] = d
	c.held += len(d.recs)
	for other, e := range c.m {
		if len(c.m) <= c.max && c.held <= c.maxRec {
			break
		}
		if other != stream {
			delete(c.m, other)
			c.held -= len(e.recs)
		}
	}
}
