package competition

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// The small states the competition service's decisions need, folded from
// a stream. Corrections (EventCorrected) are honoured: a retracted event
// is skipped, a replaced one applies its replacement.

// where is where a fact was recorded (for answering replays).
type where struct {
	revision uint64
	position eventstore.Position
	eventIDs []string
}

type competition struct {
	defined    bool
	def        events.CompetitionDefined
	organiser  string // the organisation that may publish results
	placements *placementSet
}

// placementSet is a competition's placements by id, shared between the
// folds of successive histories: the fold of a longer history lays the
// placements its tail adds over the shorter one's instead of copying
// them (a competition's stream grows a publication at a time — one per
// line when results are back-filled — and copying every placement each
// time cost a tenth of a results back-fill's CPU), and merges its layers
// into one once there are maxPlacementLayers. A set is never changed once
// built; nil is the empty set.
type placementSet struct {
	m      map[string]events.Placement
	under  *placementSet
	layers int
}

const maxPlacementLayers = 16

// get finds a placement; a later layer's wins over an earlier one's.
func (s *placementSet) get(id string) (events.Placement, bool) {
	for l := s; l != nil; l = l.under {
		if p, ok := l.m[id]; ok {
			return p, true
		}
	}
	return events.Placement{}, false
}

// with returns the set with ps added (a later one wins for an id); s is
// not changed.
func (s *placementSet) with(ps []events.Placement) *placementSet {
	if len(ps) == 0 {
		return s
	}
	if s == nil || s.layers+1 < maxPlacementLayers {
		top := &placementSet{m: make(map[string]events.Placement, len(ps)), under: s, layers: 1}
		if s != nil {
			top.layers = s.layers + 1
		}
		for _, p := range ps {
			top.m[p.PlacementID] = p
		}
		return top
	}
	var stack []*placementSet
	n := len(ps)
	for l := s; l != nil; l = l.under {
		stack = append(stack, l)
		n += len(l.m)
	}
	merged := &placementSet{m: make(map[string]events.Placement, n), layers: 1}
	for i := len(stack) - 1; i >= 0; i-- {
		maps.Copy(merged.m, stack[i].m)
	}
	for _, p := range ps {
		merged.m[p.PlacementID] = p
	}
	return merged
}

type worker struct {
	st *career.State
	// where each event was recorded, by event id (career refs carry no position).
	at map[string]where
	// recs are the stream's facts as recorded (before corrections; shared
	// with the decoded-facts cache: read only).
	recs []events.Recorded
}

// placement finds a recorded placement and the events recording it (the
// placement and its entitlement, if any).
func (w worker) placement(id string) (where, *career.Entitlement, bool) {
	for _, p := range w.st.Competitions {
		if p.PlacementID != id {
			continue
		}
		wh := w.at[p.Ref.EventID]
		wh.eventIDs = []string{p.Ref.EventID}
		for i := range w.st.Entitlements {
			if e := &w.st.Entitlements[i]; e.Origin.PlacementID == id {
				if ew, ok := w.at[e.Ref.EventID]; ok && wh.position.Less(ew.position) {
					wh.revision, wh.position = ew.revision, ew.position
				}
				wh.eventIDs = append(wh.eventIDs, e.Ref.EventID)
				return wh, e, true
			}
		}
		return wh, nil, true
	}
	return where{}, nil, false
}

// entitlement finds an entitlement by id.
func (w worker) entitlement(id string) (*career.Entitlement, bool) {
	for i := range w.st.Entitlements {
		if w.st.Entitlements[i].ID == id {
			return &w.st.Entitlements[i], true
		}
	}
	return nil, false
}

// withdrawn reports whether the stream records entitlement id although the
// fold has none: a correction withdrew it, retracting the competition
// placement that granted it (career.Fold drops its entitlement) or the
// entitlement itself (a placement corrected to what earns no entitlement,
// or another one: Correct). It returns that placement.
func (w worker) withdrawn(id string) (string, bool) {
	for _, r := range w.recs {
		if g, ok := r.Payload.(events.PromotionEntitlementGranted); ok && g.EntitlementID == id {
			return g.Source.PlacementID, true
		}
	}
	return "", false
}

// registered reports whether a craftsman's stream opens with a registration
// (without folding the whole career).
func (s *service) registered(h command.History) bool {
	for _, r := range h.Events {
		if events.CurrentType(r.Type) == events.TypeCraftsmanRegistered {
			return true
		}
	}
	return false
}

// endOfTime is the as-of instant of folds that must see every fact.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// foldWorker folds a craftsman's stream with the events module's career
// fold (corrections applied), as of asOf (endOfTime: everything). Its
// facts are decoded once per event (servicekit.DecodedFacts): a placement
// folds its worker twice, and a worker's stream grows by a placement or
// two at a time.
func (s *service) foldWorker(h command.History, asOf time.Time) (worker, error) {
	w := worker{at: make(map[string]where, len(h.Events))}
	for _, r := range h.Events {
		w.at[r.ID] = where{revision: r.Revision, position: r.Position}
	}
	recs, err := s.decoded.Facts(s.reg, h)
	if err != nil {
		return w, err
	}
	w.st, w.recs = career.Fold(recs, asOf, career.AsOccurred), recs
	return w, nil
}

// applied is one decoded event after corrections.
type applied struct {
	rec     eventstore.RecordedEvent
	meta    command.Metadata
	payload events.Payload
}

// decodeAll decodes a stream, applying corrections: retracted events are
// dropped, replaced ones carry their replacement's payload (and date). A
// correction of a correction, or of an event not before it, is not
// applied; nor is one replacing its fact with a fact of another type
// (events.ForeignReplacement: the career fold ignores it too).
func (s *service) decodeAll(h command.History) ([]applied, error) {
	out := make([]applied, 0, len(h.Events))
	index := map[string]int{}
	for _, r := range h.Events {
		m, err := command.DecodeMetadata(r.Metadata)
		if err != nil {
			return nil, err
		}
		if !s.reg.Known(r.Type) {
			continue // a type this service does not know is no fact it decides on
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
		}
		if c, ok := p.(events.EventCorrected); ok {
			i, ok := index[c.SupersedesEventID]
			if !ok || c.Replacement != nil && events.ForeignReplacement(c.Replacement.Type, c.SupersedesEventID, func(id string) (string, string, bool) {
				j, ok := index[id] // a fact: a correction is not indexed
				if !ok {
					return "", "", false
				}
				return out[j].rec.Type, "", true
			}) {
				continue
			}
			if c.Replacement == nil {
				out[i].payload = nil
			} else {
				out[i].payload = c.Replacement.Payload
				if c.Replacement.OccurredAt != nil {
					out[i].meta.OccurredAt = *c.Replacement.OccurredAt
				}
			}
			continue
		}
		index[r.ID] = len(out)
		out = append(out, applied{rec: r, meta: m, payload: p})
	}
	return out, nil
}

// foldCache keeps the last fold of each competition stream, so that a
// decision folds only the events appended since (a competition published
// placement by placement would otherwise re-decode its whole stream each
// time). Folded states are never mutated once cached.
type foldCache struct {
	mu sync.Mutex
	m  map[string]folded
}

type folded struct {
	n      int    // events folded: h.Events[:n]
	lastID string // id of h.Events[n-1]
	// pending is h.Events[n-1] itself when it was not appended yet (a
	// decision of a batch, command.Handler.ExecuteBatch, folds the events
	// of the commands before it): the fold then serves only a history
	// holding that very event — its data and metadata the same bytes in
	// memory, not equal copies — that is, the later decisions of the same
	// batch, and the stream once that batch's append succeeded. Should the
	// append fail, the event decided again in its place (the same id at
	// the same revision, perhaps other data) is a new one, and the fold
	// does not answer for it.
	pending *eventstore.RecordedEvent
	st      competition
}

// matches says whether f folds a prefix of h.
func (f folded) matches(h command.History) bool {
	if f.n <= 0 || f.n > len(h.Events) {
		return false
	}
	last := h.Events[f.n-1]
	if last.ID != f.lastID {
		return false
	}
	return f.pending == nil || sameBytes(last.Data, f.pending.Data) && sameBytes(last.Metadata, f.pending.Metadata)
}

// sameBytes says whether a and b are the same bytes in memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

const maxFolds = 1024

func (s *service) foldCompetition(h command.History) (competition, error) {
	s.folds.mu.Lock()
	f, ok := s.folds.m[h.Stream]
	s.folds.mu.Unlock()
	var st competition
	var tail []eventstore.RecordedEvent
	if ok && f.matches(h) &&
		!slices.ContainsFunc(h.Events[f.n:], func(r eventstore.RecordedEvent) bool { return r.Type == events.TypeEventCorrected }) {
		st, tail = f.st, h.Events[f.n:]
	} else {
		// Corrections are applied by decodeAll over the whole history.
		st, tail = competition{}, h.Events
	}
	evs, err := s.decodeAll(command.History{Stream: h.Stream, Exists: h.Exists, Events: tail})
	if err != nil {
		return st, err
	}
	var added []events.Placement
	for _, e := range evs {
		switch p := e.payload.(type) {
		case events.CompetitionDefined:
			st.defined, st.def = true, p
			st.organiser = p.Organiser
			if st.organiser == "" {
				st.organiser = e.meta.IssuerOrgID
			}
		case events.CompetitionResultsPublished:
			added = append(added, p.Placements...)
		}
	}
	st.placements = st.placements.with(added)
	// A batch's decisions (command.Handler.ExecuteBatch) fold events not
	// yet appended (no position): cached as pending, for the batch's next
	// decision (else each of a batch of k publications decodes the ones
	// before it: k²/2 decodings for a combined back-fill queue).
	if n := len(h.Events); n > 0 {
		f := folded{n: n, lastID: h.Events[n-1].ID, st: st}
		if h.Events[n-1].Position.IsStart() {
			last := h.Events[n-1]
			f.pending = &last
		}
		s.folds.mu.Lock()
		if s.folds.m == nil || len(s.folds.m) >= maxFolds {
			s.folds.m = map[string]folded{}
		}
		if old, ok := s.folds.m[h.Stream]; !ok || old.n <= n || old.pending != nil {
			s.folds.m[h.Stream] = f
		}
		s.folds.mu.Unlock()
	}
	return st, nil
}

// definition reads a competition's definition (its stream's first event)
// for the checks made before a publication's decision.
func (s *service) definition(ctx context.Context, id string) (competition, error) {
	if c, ok := s.defined.get(id); ok {
		return c, nil
	}
	c, err := s.readDefinition(ctx, id)
	if err == nil {
		s.defined.put(id, c)
	}
	return c, err
}

// readDefinition is definition from the store.
func (s *service) readDefinition(ctx context.Context, id string) (competition, error) {
	stream := events.CompetitionStream(id)
	evs, err := s.store.ReadStream(ctx, stream, eventstore.ReadOptions{Max: 1})
	if err != nil && !errors.Is(err, errs.NotFound) {
		return competition{}, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) == 0 || evs[0].Type != events.TypeCompetitionDefined {
		return competition{}, errs.E(errs.NotFound, "competition %s is not defined", id)
	}
	return s.foldCompetition(command.History{Stream: stream, Exists: true, Events: evs[:1]})
}
