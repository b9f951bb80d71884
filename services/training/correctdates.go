package training

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

// followCorrection is the training service's servicekit.Corrector.Follow:
// the stream as corrected must keep the rules its commands enforce
// (certificateStaysUsable, datesStayOrdered). It appends nothing.
func (s *service) followCorrection(ctx context.Context, k servicekit.Correcting) ([]command.Event, error) {
	if _, err := s.certificateStaysUsable(ctx, k); err != nil {
		return nil, err
	}
	return nil, s.datesStayOrdered(k)
}

// datesStayOrdered refuses a correction of an enrolment, a completion or
// a certificate that leaves, on the stream as corrected, what Enrol,
// CompleteTraining and CertifySkillLevel refuse, with their status: a
// completion of the enrolment dated before the enrolment's day (400), the
// enrolment completed twice (422) or recorded twice (409), a completion
// naming the enrolment without it (404: retract the completion first), or
// an exceptional certificate dated before the day its entitlement was
// granted or approved (400). A date's refusal names
// replacement.occurredAt when the correction re-dates, else
// supersedesEventId. Only the corrected fact's enrolment or certificate is
// checked.
func (s *service) datesStayOrdered(k servicekit.Correcting) error {
	typ := events.CurrentType(k.Original.Type)
	if typ != events.TypeTrainingEnrolled && typ != events.TypeTrainingCompleted && typ != events.TypeSkillLevelCertified {
		return nil
	}
	p, err := s.reg.Decode(k.Original.Type, k.Original.Data)
	if err != nil {
		return errs.E(errs.Internal, "decode %s@%d: %v", k.Original.Stream, k.Original.Revision, err)
	}
	evs, err := k.AsCorrected()
	if err != nil {
		return err
	}
	field := k.DateField()
	switch p := p.(type) {
	case events.TrainingEnrolled:
		return s.enrolmentStaysOrdered(evs, p.EnrolmentID, field)
	case events.TrainingCompleted:
		// A replacement may name another enrolment (enrolmentId is not
		// part of a completion's identity): check the one it leaves too.
		ids := []string{p.EnrolmentID}
		if r := k.Event.Replacement; r != nil {
			var rep struct {
				EnrolmentID string `json:"enrolmentId"`
			}
			if json.Unmarshal(r.Data, &rep) == nil && rep.EnrolmentID != p.EnrolmentID {
				ids = append(ids, rep.EnrolmentID)
			}
		}
		for _, id := range ids {
			if id == "" {
				continue
			}
			if err := s.enrolmentStaysOrdered(evs, id, field); err != nil {
				return err
			}
		}
		return nil
	case events.SkillLevelCertified:
		return s.certificateStaysDated(evs, p.CertificateNumber, field)
	}
	return nil
}

// enrolmentStaysOrdered checks enrolment id among evs, as corrected.
func (s *service) enrolmentStaysOrdered(evs []eventstore.RecordedEvent, id, field string) error {
	var enrolled, completed int
	var enrolledAt, completedAt time.Time
	for _, r := range evs {
		switch events.CurrentType(r.Type) {
		case events.TypeTrainingEnrolled, events.TypeTrainingCompleted:
		default:
			continue
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return errs.E(errs.Internal, "decode %s@%d: %v", r.Stream, r.Revision, err)
		}
		switch p := p.(type) {
		case events.TrainingEnrolled:
			if p.EnrolmentID == id {
				enrolled++
				enrolledAt = command.OccurredAt(r)
			}
		case events.TrainingCompleted:
			if p.EnrolmentID == id {
				completed++
				completedAt = command.OccurredAt(r)
			}
		}
	}
	switch {
	case enrolled > 1:
		return kit.FieldErr("supersedesEventId", errs.E(errs.Conflict, "the correction would leave enrolment %s recorded twice", id))
	case completed > 0 && enrolled == 0:
		return kit.FieldErr("supersedesEventId", errs.E(errs.NotFound, "the correction would leave a completion of enrolment %s without the enrolment: retract the completion first", id))
	case completed > 1:
		return kit.FieldErr("supersedesEventId", errs.E(errs.FailedPrecondition, "the correction would leave enrolment %s completed twice", id))
	case completed == 1 && career.BeforeDay(completedAt, enrolledAt):
		return kit.Invalid(field, "the correction would leave the completion of enrolment %s (%s) dated before the enrolment (%s)", id, career.CivilDay(completedAt), career.CivilDay(enrolledAt))
	}
	return nil
}

// certificateStaysDated checks that certificate number, when in force
// among evs by the exceptional route, is dated on or after the day its
// entitlement was granted and approved.
func (s *service) certificateStaysDated(evs []eventstore.RecordedEvent, number, field string) error {
	var cert *events.SkillLevelCertified
	var certAt time.Time
	dates := map[string]time.Time{} // entitlement event type -> its date, by the certificate's entitlement
	for _, r := range evs {
		switch events.CurrentType(r.Type) {
		case events.TypeSkillLevelCertified, events.TypePromotionEntitlementGranted, events.TypePromotionEntitlementApproved:
		default:
			continue
		}
		p, err := s.reg.Decode(r.Type, r.Data)
		if err != nil {
			return errs.E(errs.Internal, "decode %s@%d: %v", r.Stream, r.Revision, err)
		}
		switch p := p.(type) {
		case events.SkillLevelCertified:
			if p.CertificateNumber == number && p.Route == events.RouteExceptional {
				cert, certAt = &p, command.OccurredAt(r)
			}
		case events.PromotionEntitlementGranted:
			dates["granted:"+p.EntitlementID] = command.OccurredAt(r)
		case events.PromotionEntitlementApproved:
			dates["approved:"+p.EntitlementID] = command.OccurredAt(r)
		}
	}
	if cert == nil {
		return nil
	}
	for _, what := range []string{"granted", "approved"} {
		if at, ok := dates[what+":"+cert.EntitlementID]; ok && career.BeforeDay(certAt, at) {
			return kit.Invalid(field, "the correction would leave certificate %s (%s) dated before entitlement %s was %s (%s)", number, career.CivilDay(certAt), cert.EntitlementID, what, career.CivilDay(at))
		}
	}
	return nil
}
