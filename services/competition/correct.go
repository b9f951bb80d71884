package competition

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// CorrectionResult is the answer of Correct: the correction recorded and,
// for a placement's, what became of its promotion entitlement.
type CorrectionResult struct {
	command.Result
	// Entitlement is what the correction did to the entitlement of the
	// placement it corrects (the same answer when replayed).
	Entitlement *EntitlementChange `json:"entitlement,omitempty"`
}

// StatusCode is 201 when the correction was written, 200 for a replay.
func (r CorrectionResult) StatusCode() int { return command.Response{Result: r.Result}.StatusCode() }

// What a correction of a placement does to its entitlement
// (EntitlementChange.Outcome).
const (
	// EntitlementKept: the corrected placement earns what it had (or the
	// correction changes nothing the grant rules look at).
	EntitlementKept = "kept"
	// EntitlementWithdrawn: it had an entitlement and earns none now.
	EntitlementWithdrawn = "withdrawn"
	// EntitlementGranted: it had none and earns one now.
	EntitlementGranted = "granted"
	// EntitlementReplaced: it earns another level (or trade) than it had:
	// the old one is withdrawn, a new one granted.
	EntitlementReplaced = "replaced"
	// EntitlementNone: it had none and earns none.
	EntitlementNone = "none"
)

// EntitlementChange is what a placement's correction did to its
// entitlement.
type EntitlementChange struct {
	Outcome string `json:"outcome"`
	// WithdrawnID is the entitlement withdrawn (withdrawn, replaced).
	WithdrawnID string `json:"withdrawnId,omitempty"`
	// Current is the entitlement the placement has after the correction
	// (kept, granted, replaced).
	Current *Entitlement `json:"current,omitempty"`
	// Reason is the grant rules' decision on the corrected placement
	// (empty when they were not run again).
	Reason string `json:"reason,omitempty"`
}

func (s *service) Correct(ctx context.Context, req servicekit.CorrectionRequest) (CorrectionResult, error) {
	var change *EntitlementChange
	c := s.corrector
	c.Follow = func(ctx context.Context, k servicekit.Correcting) ([]command.Event, error) {
		if err := s.checkReplacement(ctx, k); err != nil {
			return nil, err
		}
		evs, ch, err := s.regrant(ctx, k)
		change = ch
		return evs, err
	}
	res, err := c.Correct(ctx, req)
	if err != nil {
		return CorrectionResult{Result: res}, err
	}
	if res.Replayed {
		// Answer as the first time: decided again on the history before it.
		change, err = s.replayedChange(ctx, req.CraftsmanID, res)
		if err != nil {
			return CorrectionResult{}, err
		}
	}
	return CorrectionResult{Result: res, Entitlement: change}, nil
}

// replayedChange is what the recorded correction res.EventIDs[0] did to
// its placement's entitlement: regrant on the stream before it.
func (s *service) replayedChange(ctx context.Context, craftsmanID string, res command.Result) (*EntitlementChange, error) {
	if len(res.EventIDs) == 0 {
		return nil, nil
	}
	// The handler's copy of the stream: Correct just read it through the
	// same handler, so only what came after is read.
	h, err := s.h.Latest(ctx, events.CraftsmanStream(craftsmanID))
	if err != nil {
		return nil, err
	}
	k, ok, err := s.corrector.Recorded(ctx, h, res.EventIDs[0])
	if err != nil || !ok {
		return nil, err
	}
	_, ch, err := s.regrant(ctx, k)
	return ch, err
}

// checkReplacement refuses a placement's replacement that publication
// would not have recorded: dated before its competition (resultsDate: the
// date decides the year of the yearly cap), or in a trade or track the
// competition does not have (placements). Its trade and track also stay
// the original's: the placement's id names them
// (events.PlacementID(competition, craftsman, trade, track), the id every
// published placement has and a replacement keeps), so a placement
// recorded in the wrong trade or track is retracted and the right one
// published.
func (s *service) checkReplacement(ctx context.Context, k servicekit.Correcting) error {
	r := k.Event.Replacement
	if r == nil {
		return nil
	}
	rep, ok := r.Payload.(events.CompetitionPlaced)
	if !ok {
		return nil
	}
	comp, err := s.definition(ctx, rep.CompetitionID)
	if err != nil {
		return err
	}
	def := comp.def
	if r.OccurredAt != nil {
		if err := resultsDate("replacement.occurredAt", def, *r.OccurredAt); err != nil {
			return err
		}
	}
	if !slices.Contains(def.Tracks, rep.Track) {
		return kit.Invalid("replacement.data.track", "competition %s has no track %q (one of %v)", def.CompetitionID, rep.Track, def.Tracks)
	}
	if !slices.ContainsFunc(def.Trades, func(t events.Trade) bool { return t.Code == rep.Trade.Code }) {
		return kit.Invalid("replacement.data.trade.code", "competition %s has no trade %q", def.CompetitionID, rep.Trade.Code)
	}
	op, err := s.reg.Decode(k.Original.Type, k.Original.Data)
	if err != nil {
		return errs.E(errs.Internal, "decode %s@%d: %v", k.Original.Stream, k.Original.Revision, err)
	}
	orig, ok := op.(events.CompetitionPlaced)
	if !ok {
		return nil
	}
	const move = "must stay %s: placement %s names its trade and track; retract it and publish the placement in the right one"
	switch {
	case rep.Trade.Code != orig.Trade.Code:
		return kit.Invalid("replacement.data.trade.code", move, orig.Trade.Code, orig.PlacementID)
	case rep.Track != orig.Track:
		return kit.Invalid("replacement.data.track", move, orig.Track, orig.PlacementID)
	}
	return nil
}

// regrant runs the grant rules again on a corrected placement
// (servicekit.Corrector.Follow): when the placement in force after the
// correction differs from the one before in what the rules look at (track,
// team size, rank, award, trade, date) or is retracted, it decides the
// entitlement as place does (the competition's definition, the worker's
// levels as of the results' date, the stream's other entitlements for the
// yearly cap) and returns the events that make the stream agree: an
// EventCorrected retracting the entitlement the placement no longer earns
// (a retracted placement's goes with it: career.Fold), a
// PromotionEntitlementGranted for one it now earns. It refuses a
// correction that would withdraw an entitlement a certificate in force
// used.
func (s *service) regrant(ctx context.Context, k servicekit.Correcting) ([]command.Event, *EntitlementChange, error) {
	recs, err := s.decoded.Facts(s.reg, k.History)
	if err != nil {
		return nil, nil, err
	}
	oi := slices.IndexFunc(recs, func(r events.Recorded) bool { return r.ID == k.Original.ID })
	if oi < 0 {
		return nil, nil, nil
	}
	placed, ok := recs[oi].Payload.(events.CompetitionPlaced)
	if !ok {
		return nil, nil, nil
	}
	pid := placed.PlacementID
	// The stream with the correction recorded last.
	last := recs[len(recs)-1]
	id := k.ID
	if id == "" {
		id = "this-correction"
	}
	withCorr := append(slices.Clip(recs), events.Recorded{Stream: last.Stream, Revision: last.Revision + 1, ID: id,
		Type: events.TypeEventCorrected, RecordedAt: last.RecordedAt, Payload: k.Event})
	beforeP, beforeAt := inForce(recs, recs[oi])
	afterP, afterAt := inForce(withCorr, recs[oi])
	after := career.Fold(withCorr, endOfTime, career.AsOccurred)
	standing := entitlementsOf(after, pid) // those Fold does not withdraw
	if beforeP != nil && afterP != nil && sameForRules(*beforeP, beforeAt, *afterP, afterAt) {
		// Nothing the rules look at changed: the entitlement stays as is.
		ch := &EntitlementChange{Outcome: EntitlementNone}
		if len(standing) > 0 {
			ch.Outcome, ch.Current = EntitlementKept, entitlementOf(standing[0], afterP.Trade)
		}
		return nil, ch, nil
	}
	var d policy.GrantDecision
	if afterP != nil {
		comp, err := s.definition(ctx, afterP.CompetitionID)
		if err != nil {
			return nil, nil, err
		}
		others := slices.DeleteFunc(slices.Clone(after.Entitlements), func(e career.Entitlement) bool {
			return e.Origin.Kind == events.SourceCompetition && e.Origin.PlacementID == pid
		})
		d = policy.CompetitionGrant(policy.GrantInput{Competition: comp.def, Placement: *afterP,
			AsOf: career.Fold(withCorr, afterAt, career.AsOccurred), Entitlements: others, At: afterAt})
		if d.Reason == "" {
			d.Reason = fmt.Sprintf("no grant rule of %s", comp.def.CompetitionID)
		}
	} else {
		d.Reason = fmt.Sprintf("placement %s is retracted", pid)
	}
	ch := &EntitlementChange{Outcome: EntitlementNone, Reason: d.Reason}
	// The same level in the same trade and year (the cap counts the grant's
	// calendar year in China, its civil date's) is kept as it is, approval
	// included.
	if g := d.Entitlement; g != nil && len(standing) == 1 && standing[0].Trade == g.Trade.Code && standing[0].Level == g.Level &&
		career.CivilDate(standing[0].Granted).Year() == career.CivilDate(afterAt).Year() {
		ch.Outcome, ch.Current = EntitlementKept, entitlementOf(standing[0], afterP.Trade)
		return nil, ch, nil
	}
	// What the placement had before (folded only now: the paths above
	// need only what stands after).
	before := career.Fold(recs, endOfTime, career.AsOccurred)
	for _, e := range entitlementsOf(before, pid) {
		for _, c := range before.Certificates {
			if c.EntitlementID == e.ID {
				return nil, nil, kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition,
					"the correction withdraws entitlement %s of placement %s (%s), which certificate %s used: retract the certificate first", e.ID, pid, d.Reason, c.Number))
			}
		}
		ch.Outcome, ch.WithdrawnID = EntitlementWithdrawn, e.ID
	}
	var evs []command.Event
	for i, e := range standing {
		target := e.Ref.EventID
		if e.Supersedes != nil {
			target = e.Supersedes.EventID // the granting event, not a correction of it
		}
		w := events.EventCorrected{CraftsmanID: placed.CraftsmanID, SupersedesEventID: target,
			Reason: fmt.Sprintf("withdrawn with the correction of placement %s: %s", pid, d.Reason)}
		ev := command.Event{Type: w.EventType(), Data: w}
		if k.ID != "" {
			ev.ID = events.DeterministicID("entitlement withdrawal", k.ID, fmt.Sprint(i))
		}
		evs = append(evs, ev)
	}
	if g := d.Entitlement; g != nil {
		grant := *g
		if k.ID != "" {
			grant.EntitlementID = events.DeterministicID("entitlement", pid, k.ID)
		} else {
			grant.EntitlementID = events.DeterministicID("entitlement", pid, "key", k.Meta.Issuer, k.Meta.IdempotencyKey)
		}
		if err := grant.Validate(); err != nil {
			return nil, nil, errs.E(errs.Internal, "entitlement of %s: %v", pid, err)
		}
		ev := command.Event{Type: grant.EventType(), Data: grant, OccurredAt: afterAt}
		if k.ID != "" {
			ev.ID = grant.EntitlementID
		}
		evs = append(evs, ev)
		ch.Current = &Entitlement{EntitlementID: grant.EntitlementID, Trade: grant.Trade, Level: grant.Level, RuleID: d.RuleID, RequiresApproval: grant.RequiresApproval}
		ch.Outcome = EntitlementGranted
		if ch.WithdrawnID != "" {
			ch.Outcome = EntitlementReplaced
		}
	}
	return evs, ch, nil
}

// inForce is the placement orig records as recs' corrections leave it,
// with its date (nil when retracted).
func inForce(recs []events.Recorded, orig events.Recorded) (*events.CompetitionPlaced, time.Time) {
	p, at := orig.Payload, orig.Meta.OccurredAt
	if d, ok := career.Decide(recs).Of[orig.ID]; ok {
		if d.Retracted() {
			return nil, time.Time{}
		}
		p = d.Replacement.Payload
		if d.Replacement.OccurredAt != nil {
			at = *d.Replacement.OccurredAt
		}
	}
	cp, ok := p.(events.CompetitionPlaced)
	if !ok {
		return nil, time.Time{}
	}
	return &cp, at
}

// sameForRules reports whether two versions of a placement are the same to
// the grant rules (policy.CompetitionGrant): band, trade and date.
func sameForRules(a events.CompetitionPlaced, aAt time.Time, b events.CompetitionPlaced, bAt time.Time) bool {
	return a.Track == b.Track && a.TeamSize == b.TeamSize && a.Rank == b.Rank && a.Award == b.Award &&
		a.Trade.Code == b.Trade.Code && a.CompetitionID == b.CompetitionID && aAt.Equal(bAt)
}

// entitlementsOf are the entitlements in st that placement pid granted.
func entitlementsOf(st *career.State, pid string) []career.Entitlement {
	var out []career.Entitlement
	for _, e := range st.Entitlements {
		if e.Origin.Kind == events.SourceCompetition && e.Origin.PlacementID == pid {
			out = append(out, e)
		}
	}
	return out
}

// entitlementOf answers e, of trade (its code and name).
func entitlementOf(e career.Entitlement, trade events.Trade) *Entitlement {
	if trade.Code != e.Trade {
		trade = events.Trade{Code: e.Trade}
	}
	return &Entitlement{EntitlementID: e.ID, Trade: trade, Level: e.Level, RuleID: e.Origin.RuleID, RequiresApproval: e.RequiresApproval}
}
