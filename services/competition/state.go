package competition

import (
	"fmt"
	"time"

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
	placements map[string]events.Placement
}

type worker struct {
	st *career.State
	// where each event was recorded, by event id (career refs carry no position).
	at map[string]where
}

// held returns the highest level held in trade, or -1 for none.
func (w worker) held(trade string) events.Level {
	if l, ok := w.st.HighestLevel([]string{trade}); ok {
		return l.Level
	}
	return -1
}

// competitionGrantsIn counts the competition entitlements granted in a
// calendar year (the yearly cap counts grants from every competition).
func (w worker) competitionGrantsIn(year int) int {
	n := 0
	for _, e := range w.st.Entitlements {
		if e.Origin.Kind == events.SourceCompetition && e.Granted.Year() == year {
			n++
		}
	}
	return n
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

// endOfTime is the as-of instant of folds that must see every fact.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// foldWorker folds a craftsman's stream with the events module's career
// fold (corrections applied), as of asOf (endOfTime: everything).
func (s *service) foldWorker(h command.History, asOf time.Time) (worker, error) {
	w := worker{at: make(map[string]where, len(h.Events))}
	recs := make([]events.Recorded, 0, len(h.Events))
	for _, r := range h.Events {
		w.at[r.ID] = where{revision: r.Revision, position: r.Position}
		if !s.reg.Known(r.Type) {
			continue // not a career fact
		}
		rec, err := s.reg.DecodeRecorded(events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type,
			Data: r.Data, Metadata: r.Metadata, Created: r.Created})
		if err != nil {
			return w, errs.E(errs.Internal, "%v", err)
		}
		recs = append(recs, rec)
	}
	w.st = career.Fold(recs, asOf, career.AsOccurred)
	return w, nil
}

// applied is one decoded event after corrections.
type applied struct {
	rec     eventstore.RecordedEvent
	meta    command.Metadata
	payload events.Payload
}

// decodeAll decodes a stream, applying corrections: retracted events are
// dropped, replaced ones carry their replacement's payload (and date).
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
			if !ok {
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

func (s *service) foldCompetition(h command.History) (competition, error) {
	st := competition{placements: map[string]events.Placement{}}
	evs, err := s.decodeAll(h)
	if err != nil {
		return st, err
	}
	for _, e := range evs {
		switch p := e.payload.(type) {
		case events.CompetitionDefined:
			st.defined, st.def = true, p
			st.organiser = p.Organiser
			if st.organiser == "" {
				st.organiser = e.meta.IssuerOrgID
			}
		case events.CompetitionResultsPublished:
			for _, pl := range p.Placements {
				st.placements[pl.PlacementID] = pl
			}
		}
	}
	return st, nil
}

// Grant is the outcome of evaluating a competition's rules for one placement.
type Grant struct {
	// Granted: an entitlement to Level is granted under rule RuleID.
	Granted bool
	Level   events.Level
	RuleID  string
	// Withheld says why a matching rule granted nothing; empty when no
	// rule matched or a grant was made.
	Withheld string
}

// Evaluate applies a competition's grant rules to a placement: the first
// rule whose band matches grants its level; when the worker already holds
// that level (or more) in the trade, a rule with RaiseIfHeld grants the
// next level instead, and otherwise nothing is granted. Nothing is granted
// above senior technician (the upper grades are appointed, not granted),
// nor when the worker already holds the level to be granted, nor when the
// worker already received MaxPromotionsPerYear competition entitlements in
// the calendar year (grantsThisYear). held is -1 when the worker holds no
// level in the trade.
func Evaluate(r events.CompetitionRules, p events.Placement, held events.Level, grantsThisYear int) Grant {
	var rule *events.GrantRule
	for i := range r.Grants {
		if r.Grants[i].Band.Matches(p.Track, p.TeamSize, p.Rank, p.Award) {
			rule = &r.Grants[i]
			break
		}
	}
	if rule == nil {
		return Grant{}
	}
	level := rule.Level
	if held >= level {
		if !rule.RaiseIfHeld {
			return Grant{RuleID: rule.ID, Withheld: "already holds " + held.String() + " in " + p.Trade.Code}
		}
		level = rule.Level + 1
	}
	if held >= level {
		return Grant{RuleID: rule.ID, Withheld: "already holds " + held.String() + " in " + p.Trade.Code}
	}
	if !level.Certifiable() {
		return Grant{RuleID: rule.ID, Withheld: "no certifiable level above " + held.String()}
	}
	if r.MaxPromotionsPerYear > 0 && grantsThisYear >= r.MaxPromotionsPerYear {
		return Grant{RuleID: rule.ID, Withheld: fmt.Sprintf("yearly cap reached: at most %d competition promotion(s) per calendar year", r.MaxPromotionsPerYear)}
	}
	return Grant{Granted: true, Level: level, RuleID: rule.ID}
}

// triggeredHonours lists the honours a placement triggers.
func triggeredHonours(r events.CompetitionRules, p events.Placement) []TriggeredHonour {
	var out []TriggeredHonour
	for _, h := range r.Honours {
		if h.Band.Matches(p.Track, p.TeamSize, p.Rank, p.Award) {
			out = append(out, TriggeredHonour{HonourCode: h.HonourCode, HonourName: h.HonourName, Level: h.Level, ConferringBody: h.ConferringBody})
		}
	}
	return out
}
