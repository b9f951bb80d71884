package events

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// TypeEventCorrected is the event type of a correction.
const TypeEventCorrected = "EventCorrected.v1"

// EventCorrected supersedes an earlier event of the same stream. Both stay
// in the history. With a Replacement the corrected fact replaces the
// original; without one the original is retracted. Correcting a correction
// (without a replacement) reverses it: the original applies again.
type EventCorrected struct {
	CraftsmanID       string       `json:"craftsmanId,omitempty"`
	SupersedesEventID string       `json:"supersedesEventId"`
	Reason            string       `json:"reason"`
	Replacement       *Replacement `json:"replacement,omitempty"`
}

// Replacement is the corrected event: its type, its data and, when the
// date was wrong, its corrected occurredAt. Payload is the decoded data,
// filled by Registry.Decode or NewReplacement.
type Replacement struct {
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	OccurredAt *time.Time      `json:"occurredAt,omitempty"`
	Payload    Payload         `json:"-"`
}

// NewReplacement builds a replacement from a payload.
func NewReplacement(p Payload, occurredAt *time.Time) (*Replacement, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return &Replacement{Type: p.EventType(), Data: data, OccurredAt: occurredAt, Payload: p}, nil
}

func (EventCorrected) EventType() string { return TypeEventCorrected }

func (e EventCorrected) Validate() error {
	if err := first(required("supersedesEventId", e.SupersedesEventID), required("reason", e.Reason)); err != nil {
		return err
	}
	if e.CraftsmanID != "" {
		if err := ValidID("craftsmanId", e.CraftsmanID); err != nil {
			return err
		}
	}
	if r := e.Replacement; r != nil {
		if r.Type == TypeEventCorrected {
			return fieldErr("replacement.type", "a correction cannot be replaced by a correction")
		}
		if r.Payload == nil {
			return fieldErr("replacement.data", "is not decoded (decode with Registry.Decode or build with NewReplacement)")
		}
		if r.Payload.EventType() != CurrentType(r.Type) {
			return fieldErr("replacement.type", "%s does not match its data (%s)", r.Type, r.Payload.EventType())
		}
		if err := r.Payload.Validate(); err != nil {
			return Prefix("replacement.data", err)
		}
		if r.OccurredAt != nil && r.OccurredAt.IsZero() {
			return fieldErr("replacement.occurredAt", "is zero")
		}
	}
	return nil
}

// ValidateAt checks the replacement's own dates against now.
func (e EventCorrected) ValidateAt(now time.Time) error {
	if r := e.Replacement; r != nil {
		if r.OccurredAt != nil && r.OccurredAt.After(now.Add(FutureSkew)) {
			return fieldErr("replacement.occurredAt", "is in the future")
		}
		if d, ok := r.Payload.(Datable); ok {
			return Prefix("replacement.data", d.ValidateAt(now))
		}
	}
	return nil
}

// correctionIdentity maps each event type (current name) that the services
// let a correction replace to the JSON fields of its payload that identify
// the fact: a replacement keeps them (a correction fixes a fact, it does
// not move it to another worker, honour or pairing). Code, level and
// conferring body decide who may confer an honour: a correction keeps
// them, so it never makes an honour into one its recorder could not have
// conferred.
var correctionIdentity = map[string][]string{
	TypeTrainingEnrolled:          {"craftsmanId", "enrolmentId", "academyId"},
	TypeTrainingCompleted:         {"craftsmanId", "academyId"},
	TypeGraduated:                 {"craftsmanId"},
	TypeProfessionalTitleObtained: {"craftsmanId"},
	TypeAssessmentRecorded:        {"craftsmanId", "assessmentId", "evaluatingOrgId"},
	TypeSkillLevelCertified:       {"craftsmanId", "certificateNumber", "evaluatingOrgId", "issuingOrg", "level", "route", "entitlementId"},
	TypeCompetitionPlaced:         {"craftsmanId", "competitionId", "placementId"},
	TypeMentorshipStarted:         {"mentorshipId", "masterId", "apprenticeId"},
	TypeMentorshipSessionLogged:   {"mentorshipId", "masterId", "apprenticeId"},
	TypeMentorshipCompleted:       {"mentorshipId", "masterId", "apprenticeId"},
	TypeMentorshipEndedEarly:      {"mentorshipId", "masterId", "apprenticeId"},
	TypeHonourConferred:           {"craftsmanId", "honourId", "code", "level", "conferringBody"},
	TypeHonourWithdrawn:           {"craftsmanId", "honourId"},
	TypeInnovationRecognised:      {"craftsmanId", "innovationId"},
	TypeEmploymentStarted:         {"craftsmanId", "employmentId", "employerOrgId"},
	TypeEmploymentEnded:           {"craftsmanId", "employmentId"},
}

// CorrectionIdentity returns, for each of types (current names; every
// type a correction may replace when none is given), the JSON fields that
// identify its fact, which a replacement must keep. The services correct
// the types they record with these lists, and an auditor's verify holds
// a stored correction to the same. A type no correction may replace is
// left out. The map and its lists are fresh copies.
func CorrectionIdentity(types ...string) map[string][]string {
	if len(types) == 0 {
		types = slices.Collect(maps.Keys(correctionIdentity))
	}
	out := make(map[string][]string, len(types))
	for _, t := range types {
		if f, ok := correctionIdentity[t]; ok {
			out[t] = slices.Clone(f)
		}
	}
	return out
}

// ForeignReplacement is the domain's rule for a stored correction whose
// replacement is of another type than the fact it corrects: the services
// refuse to write one (a correction fixes a fact, it does not make it
// another one), so one found in a history decides nothing — it neither
// replaces nor retracts its target, nor cancels a correction it
// supersedes. It reports whether a correction superseding the event
// supersedes with a replacement of type replacementType (a stored name;
// "" for a retraction, or a replacement keeping its target's type) is
// such a one: the chain of corrections is followed back through target to
// the fact at its root, and the current types (CurrentType) of that fact
// and of the replacement are compared. target gives an event's stored
// type and, for a correction, the id it supersedes; ok false for an event
// not in the history (then nothing is checked). The career fold
// (career.Decide) and the services' reading of their streams
// (pkg/command.Corrected) both ask it, so they cannot disagree.
func ForeignReplacement(replacementType, supersedes string, target func(id string) (typ, supersedes string, ok bool)) bool {
	if replacementType == "" {
		return false
	}
	id := supersedes
	for depth := 0; depth < 64; depth++ {
		typ, next, ok := target(id)
		if !ok {
			return false
		}
		if cur := CurrentType(typ); cur != TypeEventCorrected {
			return cur != CurrentType(replacementType)
		}
		id = next
	}
	return false
}
