package honour

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// datesStayOrdered is the honour service's servicekit.Corrector.Follow: a
// correction of a conferral or a withdrawal must leave, on the stream as
// corrected, the dates ConferHonour and WithdrawHonour enforce, counted in
// days of the ledger's calendar (career.BeforeDay) as they count them: the
// honour's withdrawal on or after its conferral, and an honour a placement
// triggered on or after the placement (a placement a replacement newly
// links must be on the stream: 404 on replacement.data.placementId, as
// the command answers on placementId). A date's refusal is 400 on
// replacement.occurredAt when the correction re-dates, else on
// supersedesEventId (or replacement.data.placementId when the replacement
// links another placement). Only the corrected honour is checked, so a
// history recorded before a rule existed does not block the correction of
// another fact; an innovation has no date rule. A correction is recorded
// without going through those commands: without this a withdrawal
// re-dated before its conferral was 201. It appends nothing.
func (s *service) datesStayOrdered(_ context.Context, k servicekit.Correcting) ([]command.Event, error) {
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
	h, err := withCorrection(k)
	if err != nil {
		return nil, err
	}
	evs, err := command.Corrected(h, events.TypeEventCorrected)
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
		conferred, withdrawn *eventstore.RecordedEvent
		placementID          string
		placements           = map[string]time.Time{}
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
			if p.HonourID == id.HonourID && conferred == nil {
				conferred, placementID = &evs[i], p.PlacementID
			}
		case events.HonourWithdrawn:
			if p.HonourID == id.HonourID && withdrawn == nil {
				withdrawn = &evs[i]
			}
		case events.CompetitionPlaced:
			placements[p.PlacementID] = occurredAt(r)
		}
	}
	if conferred == nil {
		return nil, nil // retracted: no date to keep
	}
	conferredAt := occurredAt(*conferred)
	if withdrawn != nil && career.BeforeDay(occurredAt(*withdrawn), conferredAt) {
		return nil, kit.Invalid(field, "the correction would leave the withdrawal of honour %s (%s) dated before its conferral (%s)",
			id.HonourID, career.CivilDay(occurredAt(*withdrawn)), career.CivilDay(conferredAt))
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

// withCorrection is the stream with the correction k recorded last.
func withCorrection(k servicekit.Correcting) (command.History, error) {
	data, err := json.Marshal(k.Event)
	if err != nil {
		return command.History{}, errs.E(errs.Internal, "encode correction: %v", err)
	}
	corr := eventstore.RecordedEvent{Stream: k.History.Stream, ID: k.ID, Type: events.TypeEventCorrected, Data: data}
	if corr.ID == "" {
		corr.ID = "this-correction"
	}
	if n := len(k.History.Events); n > 0 {
		corr.Revision = k.History.Events[n-1].Revision + 1
	}
	return command.History{Stream: k.History.Stream, Exists: true, Events: append(slices.Clip(k.History.Events), corr)}, nil
}

// occurredAt is the date r records (its metadata's occurredAt; as
// corrected, for an event command.Corrected returns).
func occurredAt(r eventstore.RecordedEvent) time.Time {
	m, _ := command.DecodeMetadata(r.Metadata)
	return m.OccurredAt
}
