package honour

import (
	"context"
	"encoding/json"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// honourStaysValid is the honour service's servicekit.Corrector.Follow: a
// correction of a conferral or a withdrawal must leave, on the stream as
// corrected, nothing ConferHonour and WithdrawHonour would refuse, with
// their status: the honour conferred twice (409: a conferral's retraction
// reversed after it was conferred again), withdrawn twice (422: likewise
// a withdrawal's), or withdrawn without its conferral (404: retract the
// withdrawal first — the fold would apply it to the honour conferred
// again on an earlier date, and a new withdrawal would be answered by it,
// as a replay or 409); a
// withdrawal dated before the conferral's day, or an honour a placement
// triggered before the placement's (400), counted in days of the
// ledger's calendar (career.BeforeDay) as the commands count them; and a
// placement a replacement newly links must be on the stream (404 on
// replacement.data.placementId, as the command answers on placementId).
// A date's refusal names replacement.occurredAt when the correction
// re-dates, else replacement.data.placementId when the replacement links
// another placement, else supersedesEventId. Only the corrected honour is
// checked, so a history recorded before a rule existed does not block the
// correction of another fact; an innovation has no rule to keep. A
// correction is recorded without going through those commands: without
// this each of these was 201. It appends nothing.
func (s *service) honourStaysValid(_ context.Context, k servicekit.Correcting) ([]command.Event, error) {
	typ := events.CurrentType(k.Original.Type)
	if typ != events.TypeHonourConferred && typ != events.TypeHonourWithdrawn {
		return nil, nil
	}
	var id struct {
		HonourID    string `json:"honourId"`
		PlacementID string `json:"placementId"`
	}
	if err := json.Unmarshal(k.Original.Data, &id); err != nil || id.HonourID == "" {
		return nil, errs.E(errs.Internal, "decode %s@%d: no honour id (%v)", k.Original.Stream, k.Original.Revision, err)
	}
	evs, err := k.AsCorrected()
	if err != nil {
		return nil, err
	}
	field := "supersedesEventId"
	relinked := false // the replacement links another placement
	if r := k.Event.Replacement; r != nil {
		var rep struct {
			PlacementID string `json:"placementId"`
		}
		if typ == events.TypeHonourConferred && json.Unmarshal(r.Data, &rep) == nil && rep.PlacementID != id.PlacementID {
			relinked, field = rep.PlacementID != "", "replacement.data.placementId"
		}
		if r.OccurredAt != nil {
			field = "replacement.occurredAt"
		}
	}
	var (
		conferred, withdrawn    *eventstore.RecordedEvent
		conferrals, withdrawals int
		placementID             string
		placements              = map[string]time.Time{}
	)
	for i, r := range evs {
		switch events.CurrentType(r.Type) {
		case events.TypeHonourConferred, events.TypeHonourWithdrawn, events.TypeCompetitionPlaced:
		default:
			continue
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
		}
		switch p := p.(type) {
		case events.HonourConferred:
			if p.HonourID == id.HonourID {
				if conferrals++; conferred == nil {
					conferred, placementID = &evs[i], p.PlacementID
				}
			}
		case events.HonourWithdrawn:
			if p.HonourID == id.HonourID {
				if withdrawals++; withdrawn == nil {
					withdrawn = &evs[i]
				}
			}
		case events.CompetitionPlaced:
			placements[p.PlacementID] = command.OccurredAt(r)
		}
	}
	switch {
	case conferrals > 1:
		return nil, kit.FieldErr("supersedesEventId", errs.E(errs.Conflict, "the correction would leave honour %s of craftsman %s conferred twice", id.HonourID, k.Event.CraftsmanID))
	case withdrawals > 0 && conferrals == 0:
		return nil, kit.FieldErr("supersedesEventId", errs.E(errs.NotFound, "the correction would leave the withdrawal of honour %s of craftsman %s without its conferral: retract the withdrawal first", id.HonourID, k.Event.CraftsmanID))
	case withdrawals > 1:
		return nil, kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition, "the correction would leave honour %s of craftsman %s withdrawn twice", id.HonourID, k.Event.CraftsmanID))
	case conferred == nil:
		return nil, nil // retracted: no date to keep
	}
	conferredAt := command.OccurredAt(*conferred)
	if withdrawn != nil && career.BeforeDay(command.OccurredAt(*withdrawn), conferredAt) {
		return nil, kit.Invalid(field, "the correction would leave the withdrawal of honour %s (%s) dated before its conferral (%s)",
			id.HonourID, career.CivilDay(command.OccurredAt(*withdrawn)), career.CivilDay(conferredAt))
	}
	if placementID == "" {
		return nil, nil
	}
	placed, ok := placements[placementID]
	switch {
	case !ok && relinked:
		return nil, kit.FieldErr("replacement.data.placementId", errs.E(errs.NotFound, "craftsman %s has no placement %s", k.Event.CraftsmanID, placementID))
	case ok && career.BeforeDay(conferredAt, placed):
		return nil, kit.Invalid(field, "the correction would leave honour %s (%s) dated before its placement %s (%s)",
			id.HonourID, career.CivilDay(conferredAt), placementID, career.CivilDay(placed))
	}
	return nil, nil
}
