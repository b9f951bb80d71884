package events

import "math"

// Event type names of mentorships. Each is appended to the mentorship's
// stream and to both workers' streams (same payload; the worker's role
// follows from MasterID / ApprenticeID).
const (
	TypeMentorshipStarted       = "MentorshipStarted.v1"
	TypeMentorshipSessionLogged = "MentorshipSessionLogged.v1"
	TypeMentorshipCompleted     = "MentorshipCompleted.v1"
	TypeMentorshipEndedEarly    = "MentorshipEndedEarly.v1"
)

// Mentorship kinds.
const (
	MentorshipApprenticeship   = "apprenticeship"    // 企业新型学徒制 (1–3 years, two tutors)
	MentorshipMasterApprentice = "master_apprentice" // 名师带徒
)

// MentorshipParties names a pairing's workers.
type MentorshipParties struct {
	MentorshipID string `json:"mentorshipId"`
	MasterID     string `json:"masterId"`
	ApprenticeID string `json:"apprenticeId"`
}

func (p MentorshipParties) validate() error {
	if err := first(ValidID("mentorshipId", p.MentorshipID), ValidID("masterId", p.MasterID), ValidID("apprenticeId", p.ApprenticeID)); err != nil {
		return err
	}
	if p.MasterID == p.ApprenticeID {
		return fieldErr("apprenticeId", "a master cannot mentor themselves")
	}
	return nil
}

// MentorshipStarted pairs a master and an apprentice in a trade.
type MentorshipStarted struct {
	MentorshipParties
	Kind          string `json:"kind"`
	Trade         Trade  `json:"trade"`
	AcademyID     string `json:"academyId,omitempty"`
	EmployerOrgID string `json:"employerOrgId,omitempty"`
	PlannedMonths int    `json:"plannedMonths,omitempty"`
}

func (MentorshipStarted) EventType() string { return TypeMentorshipStarted }

func (e MentorshipStarted) Validate() error {
	if err := first(e.MentorshipParties.validate(), oneOf("kind", e.Kind, MentorshipApprenticeship, MentorshipMasterApprentice),
		Prefix("trade", e.Trade.Validate())); err != nil {
		return err
	}
	if e.PlannedMonths < 0 || e.PlannedMonths > 60 {
		return fieldErr("plannedMonths", "must be 0..60")
	}
	if e.Kind == MentorshipApprenticeship && e.PlannedMonths > 36 {
		return fieldErr("plannedMonths", "an apprenticeship lasts at most 36 months")
	}
	return nil
}

// MentorshipSessionLogged records a progress session.
type MentorshipSessionLogged struct {
	MentorshipParties
	Hours float64 `json:"hours"`
	Topic string  `json:"topic,omitempty"`
}

func (MentorshipSessionLogged) EventType() string { return TypeMentorshipSessionLogged }

func (e MentorshipSessionLogged) Validate() error {
	if err := e.MentorshipParties.validate(); err != nil {
		return err
	}
	if math.IsNaN(e.Hours) || e.Hours <= 0 || e.Hours > 24 {
		return fieldErr("hours", "must be more than 0 and at most 24")
	}
	return nil
}

// MentorshipCompleted closes a pairing with the level the apprentice reached.
type MentorshipCompleted struct {
	MentorshipParties
	Trade        Trade  `json:"trade"`
	LevelReached *Level `json:"levelReached,omitempty"`
}

func (MentorshipCompleted) EventType() string { return TypeMentorshipCompleted }

func (e MentorshipCompleted) Validate() error {
	if err := first(e.MentorshipParties.validate(), Prefix("trade", e.Trade.Validate())); err != nil {
		return err
	}
	if e.LevelReached != nil && !e.LevelReached.Valid() {
		return fieldErr("levelReached", "out of range")
	}
	return nil
}

// MentorshipEndedEarly closes a pairing before completion.
type MentorshipEndedEarly struct {
	MentorshipParties
	Reason string `json:"reason"`
}

func (MentorshipEndedEarly) EventType() string { return TypeMentorshipEndedEarly }

func (e MentorshipEndedEarly) Validate() error {
	return first(e.MentorshipParties.validate(), required("reason", e.Reason))
}
