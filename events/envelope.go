package events

import (
	"strings"
	"time"
)

// Payload is the data of one event. Every payload names its versioned type
// and validates itself, returning a *FieldError on the first bad field.
// Validate checks only the payload itself; checks that need "now" (a date
// in the future) are in Check.
type Payload interface {
	EventType() string
	Validate() error
}

// Metadata is the JSON metadata every event carries (the store's metadata
// bytes). Field names follow KurrentDB's conventions for correlation and
// causation. PrevHash and Hash chain the events of one stream (see
// events/chain); they are set last, when the event is sealed for appending.
type Metadata struct {
	// SchemaVersion is the version of the payload's type (the ".vN" suffix).
	SchemaVersion int `json:"schemaVersion"`
	// OccurredAt is when the fact happened in the world (UTC); the store's
	// record time is separate (Recorded.RecordedAt).
	OccurredAt time.Time `json:"occurredAt"`
	// IssuerOrgID is the academy or organisation on whose authority the
	// event was recorded.
	IssuerOrgID string `json:"issuerOrgId"`
	// ActingUserID is the user who issued the command.
	ActingUserID  string `json:"actingUserId"`
	CorrelationID string `json:"$correlationId,omitempty"`
	CausationID   string `json:"$causationId,omitempty"`
	// Source says how the event entered the ledger: "api", "import" (a
	// back-filled paper record), "system".
	Source   string `json:"source,omitempty"`
	PrevHash string `json:"prevHash,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// Validate checks the metadata fields every event needs.
func (m Metadata) Validate() error {
	switch {
	case m.SchemaVersion < 1:
		return fieldErr("metadata.schemaVersion", "must be at least 1")
	case m.OccurredAt.IsZero():
		return fieldErr("metadata.occurredAt", "is required")
	case m.IssuerOrgID == "":
		return fieldErr("metadata.issuerOrgId", "is required")
	case m.ActingUserID == "":
		return fieldErr("metadata.actingUserId", "is required")
	}
	if m.Source != "" {
		if err := oneOf("metadata.source", m.Source, "api", "import", "system"); err != nil {
			return err
		}
	}
	return nil
}

// FutureSkew is how far ahead of "now" an occurredAt may be (clock skew
// between the issuer and the server).
const FutureSkew = 5 * time.Minute

// Datable is implemented by payloads carrying dates of their own besides
// occurredAt (a birth date, a validity end); Check verifies them against now.
type Datable interface {
	ValidateAt(now time.Time) error
}

// Check validates an event before it is appended: the payload, the
// metadata, that the metadata's schema version matches the payload's type,
// and that nothing happened after now. now is a parameter: there is no
// clock in this module.
func Check(p Payload, m Metadata, now time.Time) error {
	if p == nil {
		return fieldErr("type", "is required")
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if v := TypeVersion(p.EventType()); m.SchemaVersion != v {
		return fieldErr("metadata.schemaVersion", "is %d but %s is version %d", m.SchemaVersion, p.EventType(), v)
	}
	if m.OccurredAt.After(now.Add(FutureSkew)) {
		return fieldErr("metadata.occurredAt", "%s is in the future", m.OccurredAt.UTC().Format(time.RFC3339))
	}
	if d, ok := p.(Datable); ok {
		return d.ValidateAt(now)
	}
	return nil
}

// Recorded is a decoded event as the domain sees it: where it is in its
// stream, when it was recorded, its metadata and its (upgraded, current
// version) payload. Type is the stored type name, which may be an older
// version than Payload.EventType().
type Recorded struct {
	Stream     string    `json:"stream"`
	Revision   uint64    `json:"revision"`
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	RecordedAt time.Time `json:"recordedAt"`
	Meta       Metadata  `json:"metadata"`
	Payload    Payload   `json:"-"`
}

// Ref is the evidence pointer to an event: its stream and revision.
type Ref struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	EventID  string `json:"eventId,omitempty"`
}

// Ref returns the evidence pointer to r.
func (r Recorded) Ref() Ref { return Ref{Stream: r.Stream, Revision: r.Revision, EventID: r.ID} }

// Stream categories. A stream's name is "<category>-<id>". The issuer and
// national-ID streams are the registry's own bookkeeping, outside the
// career read side: SplitStream does not split them.
const (
	CategoryCraftsman   = "craftsman"
	CategoryAcademy     = "academy"
	CategoryCompetition = "competition"
	CategoryMentorship  = "mentorship"
	CategoryPolicy      = "policy"
	CategoryIssuer      = "issuer"
	CategoryNationalID  = "nationalid"
)

// CraftsmanStream is a worker's lifelong ledger: "craftsman-<id>".
func CraftsmanStream(id string) string { return CategoryCraftsman + "-" + id }

// AcademyStream is an academy's stream: "academy-<id>".
func AcademyStream(id string) string { return CategoryAcademy + "-" + id }

// CompetitionStream is a competition's stream: "competition-<id>".
func CompetitionStream(id string) string { return CategoryCompetition + "-" + id }

// MentorshipStream is a master–apprentice pairing's stream: "mentorship-<id>".
func MentorshipStream(id string) string { return CategoryMentorship + "-" + id }

// PolicyStream is a policy's stream of versions: "policy-<name>".
func PolicyStream(name string) string { return CategoryPolicy + "-" + name }

// IssuerStream is an issuer organisation's stream: "issuer-<id>".
func IssuerStream(id string) string { return CategoryIssuer + "-" + id }

// NationalIDStream is the reservation stream of a national ID hash:
// "nationalid-<hash>".
func NationalIDStream(hash string) string { return CategoryNationalID + "-" + hash }

// SplitStream splits "craftsman-42" into ("craftsman", "42"); ok is false
// for a name without a known category.
func SplitStream(stream string) (category, id string, ok bool) {
	c, id, found := strings.Cut(stream, "-")
	if !found || id == "" {
		return "", "", false
	}
	switch c {
	case CategoryCraftsman, CategoryAcademy, CategoryCompetition, CategoryMentorship, CategoryPolicy:
		return c, id, true
	}
	return "", "", false
}

// ValidID checks an entity id used in a stream name: 1..128 characters of
// letters, digits, '_', '.', ':' and '-'.
func ValidID(field, id string) error {
	if id == "" {
		return fieldErr(field, "is required")
	}
	if len(id) > 128 {
		return fieldErr(field, "is longer than 128 characters")
	}
	for _, c := range id {
		if !IDChar(c) {
			return fieldErr(field, "has character %q (use letters, digits, _ . : -)", c)
		}
	}
	return nil
}

// IDChar reports whether c may stand in an id: an ASCII letter or digit,
// or one of _ . : - (ValidID; the services' request ids follow it too).
func IDChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-'
}
