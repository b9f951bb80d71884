package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Decoder decodes the stored data of one event type into its current
// payload version (upgrading older versions).
type Decoder func(data []byte) (Payload, error)

// Registry maps every stored event type name — current and older versions
// — to its decoder. Build it with NewRegistry; it is read-only afterwards
// and safe for concurrent use.
type Registry struct {
	decoders map[string]Decoder
}

// decodeAs decodes data into a T.
func decodeAs[T Payload](data []byte) (Payload, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonFieldError(err)
	}
	return v, nil
}

// NewRegistry returns the registry of the whole catalogue. Every type is
// listed here explicitly; add a line when you add a type or a version.
func NewRegistry() *Registry {
	return &Registry{decoders: map[string]Decoder{
		TypeCraftsmanRegistered:          decodeCraftsmanRegistered,
		TypeCraftsmanProfileChanged:      decodeAs[CraftsmanProfileChanged],
		TypeTradeEntered:                 decodeTradeEntered,
		TypeEmploymentStarted:            decodeEmploymentStarted,
		TypeEmploymentEnded:              decodeAs[EmploymentEnded],
		TypeGraduated:                    decodeAs[Graduated],
		TypeProfessionalTitleObtained:    decodeAs[ProfessionalTitleObtained],
		TypeTrainingEnrolled:             decodeAs[TrainingEnrolled],
		TypeTrainingCompleted:            decodeTrainingCompleted,
		TypeTrainingCompletedV1:          upgradeTrainingCompletedV1,
		TypeSkillLevelCertified:          decodeSkillLevelCertified,
		TypeSkillLevelCertifiedV1:        upgradeSkillLevelCertifiedV1,
		TypePromotionEntitlementGranted:  decodeAs[PromotionEntitlementGranted],
		TypePromotionEntitlementApproved: decodeAs[PromotionEntitlementApproved],
		TypeUpperGradeAppointed:          decodeAs[UpperGradeAppointed],
		TypeCompetitionDefined:           decodeAs[CompetitionDefined],
		TypeCompetitionResultsPublished:  decodeAs[CompetitionResultsPublished],
		TypeCompetitionPlaced:            decodeAs[CompetitionPlaced],
		TypeMentorshipStarted:            decodeMentorshipStarted,
		TypeMentorshipSessionLogged:      decodeAs[MentorshipSessionLogged],
		TypeMentorshipCompleted:          decodeAs[MentorshipCompleted],
		TypeMentorshipEndedEarly:         decodeAs[MentorshipEndedEarly],
		TypeHonourConferred:              decodeHonourConferred,
		TypeHonourWithdrawn:              decodeAs[HonourWithdrawn],
		TypeInnovationRecognised:         decodeAs[InnovationRecognised],
		TypeEventCorrected:               decodeAs[EventCorrected],
		TypeAcademyRegistered:            decodeAs[AcademyRegistered],
		TypeCourseAdded:                  decodeAs[CourseAdded],
		TypePolicyPublished:              decodeAs[PolicyPublished],
		TypeIssuerRegistered:             decodeAs[IssuerRegistered],
		TypeIssuerUserAdded:              decodeAs[IssuerUserAdded],
		TypeNationalIDReserved:           decodeAs[NationalIDReserved],
		TypeAssessmentRecorded:           decodeAs[AssessmentRecorded],
		TypePersonalDataErased:           decodeAs[PersonalDataErased],
	}}
}

func upgradeTrainingCompletedV1(data []byte) (Payload, error) {
	var v TrainingCompletedV1
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonFieldError(err)
	}
	return v.Upgrade(), nil
}

func upgradeSkillLevelCertifiedV1(data []byte) (Payload, error) {
	var v SkillLevelCertifiedV1
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, jsonFieldError(err)
	}
	return v.Upgrade()
}

// CurrentType maps a stored type name to the type name of the payload it
// decodes to (older versions upgrade to the current one).
func CurrentType(typ string) string {
	switch typ {
	case TypeTrainingCompletedV1:
		return TypeTrainingCompleted
	case TypeSkillLevelCertifiedV1:
		return TypeSkillLevelCertified
	}
	return typ
}

// TypeVersion returns N of a "Name.vN" type name, 0 when there is none.
func TypeVersion(typ string) int {
	i := strings.LastIndex(typ, ".v")
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(typ[i+2:])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// Known reports whether typ is a registered type name (any version).
func (r *Registry) Known(typ string) bool { _, ok := r.decoders[typ]; return ok }

// Types returns every registered type name, sorted.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.decoders))
	for t := range r.decoders {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Decode decodes the data of a stored event of type typ into its current
// payload version. Unknown fields are ignored (newer writers); an unknown
// type or malformed data is a *FieldError.
func (r *Registry) Decode(typ string, data []byte) (Payload, error) {
	dec, ok := r.decoders[typ]
	if !ok {
		return nil, fieldErr("type", "unknown event type %q", typ)
	}
	p, err := dec(data)
	if err != nil {
		return nil, err
	}
	if c, ok := p.(EventCorrected); ok && c.Replacement != nil {
		rp, err := r.Decode(c.Replacement.Type, c.Replacement.Data)
		if err != nil {
			return nil, Prefix("replacement", err)
		}
		rep := *c.Replacement
		rep.Payload = rp
		c.Replacement = &rep
		p = c
	}
	return p, nil
}

// Raw is a stored event as the store adapter returns it (the fields of
// eventstore.RecordedEvent that the domain needs).
type Raw struct {
	Stream   string
	Revision uint64
	ID       string
	Type     string
	Data     []byte
	Metadata []byte
	Created  time.Time
}

// DecodeRecorded decodes a stored event, its metadata and its payload.
func (r *Registry) DecodeRecorded(raw Raw) (Recorded, error) {
	p, err := r.Decode(raw.Type, raw.Data)
	if err != nil {
		return Recorded{}, fmt.Errorf("decode %s@%d (%s): %w", raw.Stream, raw.Revision, raw.Type, err)
	}
	var m Metadata
	if len(raw.Metadata) > 0 {
		if m, err = DecodeMetadata(raw.Metadata); err != nil {
			return Recorded{}, fmt.Errorf("decode metadata of %s@%d: %w", raw.Stream, raw.Revision, err)
		}
	}
	return Recorded{Stream: raw.Stream, Revision: raw.Revision, ID: raw.ID, Type: raw.Type,
		RecordedAt: raw.Created.UTC(), Meta: m, Payload: p}, nil
}

// Encode marshals a payload for appending: its type name and data. The
// metadata is marshalled by EncodeMetadata (or sealed by events/chain).
func Encode(p Payload) (typ string, data []byte, err error) {
	if p == nil {
		return "", nil, fieldErr("type", "is required")
	}
	data, err = json.Marshal(p)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", p.EventType(), err)
	}
	return p.EventType(), data, nil
}

// EncodeMetadata marshals metadata in its canonical form (the form the
// hash chain covers); occurredAt is written in UTC.
func EncodeMetadata(m Metadata) ([]byte, error) {
	m.OccurredAt = m.OccurredAt.UTC()
	return json.Marshal(m)
}

// NewMetadata fills the metadata of a payload of type typ: its schema
// version and the given occurrence, issuer and actor.
func NewMetadata(typ string, occurredAt time.Time, issuerOrgID, actingUserID string) Metadata {
	return Metadata{SchemaVersion: TypeVersion(typ), OccurredAt: occurredAt.UTC(), IssuerOrgID: issuerOrgID, ActingUserID: actingUserID}
}

// jsonFieldError turns encoding/json errors into *FieldError where it can.
func jsonFieldError(err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fieldErr(te.Field, "must be %s, not %s", te.Type.String(), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fieldErr("", "malformed JSON at byte %d: %v", se.Offset, se)
	}
	return &FieldError{Message: err.Error()}
}
