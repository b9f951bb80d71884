package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/craftledger/craftledger/events/career"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// employmentStaysValid refuses (servicekit.Corrector.Follow) a correction
// that leaves the employment it touches breaking a rule StartEmployment
// and EndEmployment enforce, on the stream as corrected, with the status
// the command gives: an end dated before the start (400; a start
// re-dated after its end, an end re-dated before its start), two ends in
// force (422: a retraction of an end reversed after the employment was
// ended again), two starts in force (409: a retraction of a start
// reversed after the id was used again), or an end in force without its
// start (404: retract the end first). A correction is recorded without
// going through those commands, so without this it could make a history
// they would have refused. Only the corrected employment is checked: a
// history recorded before a rule existed does not block the correction of
// another fact. It appends nothing.
func (s *service) employmentStaysValid(_ context.Context, k servicekit.Correcting) ([]command.Event, error) {
	var id struct {
		EmploymentID string `json:"employmentId"`
	}
	if err := json.Unmarshal(k.Original.Data, &id); err != nil || id.EmploymentID == "" {
		return nil, errs.E(errs.Internal, "decode %s@%d: no employment id (%v)", k.Original.Stream, k.Original.Revision, err)
	}
	evs, err := k.AsCorrected()
	if err != nil {
		return nil, err
	}
	field := k.DateField()
	var starts, ends int
	var started time.Time
	for _, r := range evs {
		typ := events.CurrentType(r.Type)
		if typ != events.TypeEmploymentStarted && typ != events.TypeEmploymentEnded {
			continue
		}
		var p struct {
			EmploymentID string `json:"employmentId"`
		}
		if err := json.Unmarshal(r.Data, &p); err != nil {
			return nil, errs.E(errs.Internal, "decode %s@%d (%s): %v", r.Stream, r.Revision, r.Type, err)
		}
		if p.EmploymentID != id.EmploymentID {
			continue
		}
		m, err := command.DecodeMetadata(r.Metadata)
		if err != nil {
			return nil, errs.E(errs.Internal, "metadata of %s@%d: %v", r.Stream, r.Revision, err)
		}
		if typ == events.TypeEmploymentStarted {
			if starts++; starts > 1 {
				return nil, kit.FieldErr("supersedesEventId", errs.E(errs.Conflict, "the correction would leave employment %s of craftsman %s started twice", id.EmploymentID, k.Event.CraftsmanID))
			}
			started = m.OccurredAt
			continue
		}
		switch ends++; {
		case starts == 0:
			return nil, kit.FieldErr("supersedesEventId", errs.E(errs.NotFound, "the correction would leave the end of employment %s of craftsman %s without its start: retract the end first", id.EmploymentID, k.Event.CraftsmanID))
		case ends > 1:
			return nil, kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition, "the correction would leave employment %s of craftsman %s ended twice", id.EmploymentID, k.Event.CraftsmanID))
		case career.BeforeDay(m.OccurredAt, started):
			return nil, kit.Invalid(field, "the correction would leave employment %s ending (%s) before it started (%s)", id.EmploymentID, career.CivilDay(m.OccurredAt), career.CivilDay(started))
		}
	}
	return nil, nil
}
