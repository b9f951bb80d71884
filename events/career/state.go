// Package career folds one craftsman's events into their career state as
// of any instant: the skill ladder per trade with dates and evidence,
// years of work in each trade (employment periods, gaps excluded),
// training hours by trade, mode and window, competitions, honours,
// mentorships as master and as apprentice, innovations — with corrections
// applied. Folding is pure and deterministic: no clock, no I/O; time is
// always a parameter.
package career

import (
	"time"

	"github.com/craftledger/craftledger/events"
)

// Mode chooses which events an as-of fold sees.
type Mode int

const (
	// AsRecorded sees what the ledger held at asOf: events recorded by
	// asOf (corrections too) whose facts had occurred by asOf.
	AsRecorded Mode = iota
	// AsOccurred sees everything recorded up to now (corrections and
	// back-filled records included) about facts that had occurred by asOf.
	AsOccurred
)

func (m Mode) String() string {
	if m == AsOccurred {
		return "occurred"
	}
	return "recorded"
}

// MarshalText writes "recorded" or "occurred".
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// State is a craftsman's career at an instant. Lists are in the order the
// facts occurred. Every item carries the evidence (stream and revision) of
// the event it comes from; a corrected item's Ref is the correction and
// Supersedes the original.
type State struct {
	CraftsmanID    string                 `json:"craftsmanId"`
	AsOf           time.Time              `json:"asOf"`
	Mode           Mode                   `json:"mode"`
	Registered     bool                   `json:"registered"`
	RegisteredOn   time.Time              `json:"registeredOn,omitzero"`
	NationalIDHash string                 `json:"nationalIdHash,omitempty"`
	BirthDate      string                 `json:"birthDate,omitempty"`
	Region         string                 `json:"region,omitempty"`
	Personal       *events.Personal       `json:"personal,omitempty"`
	SealedPersonal *events.SealedPersonal `json:"sealedPersonal,omitempty"`
	// Erased: the craftsman's personal data was erased (PersonalDataErased)
	// on ErasedOn; Personal and SealedPersonal stay empty from then on.
	Erased   bool      `json:"erased,omitempty"`
	ErasedOn time.Time `json:"erasedOn,omitzero"`

	// Trades by occupation code.
	Trades       map[string]*Trade `json:"trades"`
	Employments  []Employment      `json:"employments,omitempty"`
	Education    []Education       `json:"education,omitempty"`
	Titles       []Title           `json:"titles,omitempty"`
	Enrolments   []Enrolment       `json:"enrolments,omitempty"`
	Training     []Training        `json:"training,omitempty"`
	Certificates []Certificate     `json:"certificates,omitempty"`
	Entitlements []Entitlement     `json:"entitlements,omitempty"`
	Appointments []Appointment     `json:"appointments,omitempty"`
	Competitions []Placement       `json:"competitions,omitempty"`
	Honours      []Honour          `json:"honours,omitempty"`
	Mentorships  []Mentorship      `json:"mentorships,omitempty"`
	Innovations  []Innovation      `json:"innovations,omitempty"`
	Corrections  []Correction      `json:"corrections,omitempty"`
	// Events is how many events the fold applied (corrections included).
	Events int `json:"events"`
}

// Source is where an item comes from.
type Source struct {
	Ref        events.Ref  `json:"ref"`
	Supersedes *events.Ref `json:"supersedes,omitempty"`
}

// Trade is the worker's standing in one trade.
type Trade struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
	// Level is the highest level held (certified or appointed); apprentice when none.
	Level  events.Level `json:"level"`
	Levels []LevelHeld  `json:"levels,omitempty"`
	// EnteredOn is the first fact about the trade (entered, employed, trained, certified).
	EnteredOn time.Time `json:"enteredOn"`
	// YearsOfWork is accumulated employment in this trade at AsOf (gaps excluded).
	YearsOfWork   float64            `json:"yearsOfWork"`
	TrainingHours float64            `json:"trainingHours"`
	HoursByMode   map[string]float64 `json:"hoursByMode,omitempty"`
}

// LevelHeld is a level reached in a trade: when first and by what.
type LevelHeld struct {
	Level             events.Level `json:"level"`
	Since             time.Time    `json:"since"`
	Via               string       `json:"via"` // "certificate" or "appointment"
	CertificateNumber string       `json:"certificateNumber,omitempty"`
	Route             string       `json:"route,omitempty"`
	Source
}

// Employment is a period of work in a trade. End is zero while it lasts.
type Employment struct {
	ID            string    `json:"id"`
	EmployerOrgID string    `json:"employerOrgId"`
	EmployerName  string    `json:"employerName,omitempty"`
	Trade         string    `json:"trade"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end,omitzero"`
	Source
}

// Education is a graduation (or final-year study).
type Education struct {
	SchoolKind            string        `json:"schoolKind"`
	SchoolName            string        `json:"schoolName,omitempty"`
	Speciality            string        `json:"speciality"`
	Trade                 string        `json:"trade"`
	ProgrammeTarget       *events.Level `json:"programmeTarget,omitempty"`
	SeniorClass           bool          `json:"seniorClass,omitempty"`
	PreparatoryTechnician bool          `json:"preparatoryTechnician,omitempty"`
	FinalYear             bool          `json:"finalYear,omitempty"`
	Date                  time.Time     `json:"date"`
	Source
}

// Title is a professional title.
type Title struct {
	Tier  string    `json:"tier"`
	Title string    `json:"title"`
	Trade string    `json:"trade"`
	Date  time.Time `json:"date"`
	Source
}

// Enrolment is a course enrolment; Completed once its training is.
type Enrolment struct {
	ID        string    `json:"id"`
	AcademyID string    `json:"academyId"`
	CourseID  string    `json:"courseId"`
	Trade     string    `json:"trade"`
	Mode      string    `json:"mode"`
	Date      time.Time `json:"date"`
	Completed bool      `json:"completed"`
	Source
}

// Training is completed training.
type Training struct {
	AcademyID string    `json:"academyId"`
	CourseID  string    `json:"courseId"`
	Trade     string    `json:"trade"`
	Module    string    `json:"module,omitempty"`
	Hours     float64   `json:"hours"`
	Mode      string    `json:"mode"`
	Score     *float64  `json:"score,omitempty"`
	Passed    bool      `json:"passed"`
	Date      time.Time `json:"date"`
	Source
}

// Certificate is a skill-level certificate or vocational qualification.
type Certificate struct {
	Trade           string       `json:"trade"`
	Level           events.Level `json:"level"`
	Number          string       `json:"number"`
	Family          string       `json:"family"`
	EvaluatingOrgID string       `json:"evaluatingOrgId"`
	IssuingOrg      events.Org   `json:"issuingOrg"`
	Route           string       `json:"route"`
	EntitlementID   string       `json:"entitlementId,omitempty"`
	Date            time.Time    `json:"date"`
	Source
}

// Entitlement is a promotion entitlement and its approval. An entitlement
// granted by a competition placement that a correction retracted is not
// listed: it went with the placement.
type Entitlement struct {
	ID               string                   `json:"id"`
	Trade            string                   `json:"trade"`
	Level            events.Level             `json:"level"`
	Origin           events.EntitlementSource `json:"origin"`
	RequiresApproval bool                     `json:"requiresApproval"`
	Granted          time.Time                `json:"granted"`
	Approved         bool                     `json:"approved"`
	ApprovedOn       time.Time                `json:"approvedOn,omitzero"`
	ApprovalRef      string                   `json:"approvalRef,omitempty"`
	// Used: a certificate was issued through it.
	Used bool `json:"used"`
	Source
	ApprovalEvidence *events.Ref `json:"approvalEvidence,omitempty"`
}

// Appointment is an appointment to an upper grade.
type Appointment struct {
	Trade         string       `json:"trade"`
	Grade         events.Level `json:"grade"`
	EmployerOrgID string       `json:"employerOrgId"`
	ApprovalRef   string       `json:"approvalRef"`
	Date          time.Time    `json:"date"`
	Source
}

// Placement is a competition result.
type Placement struct {
	CompetitionID   string    `json:"competitionId"`
	CompetitionName string    `json:"competitionName,omitempty"`
	PlacementID     string    `json:"placementId"`
	Tier            string    `json:"tier"`
	Year            int       `json:"year,omitempty"`
	Track           string    `json:"track"`
	TeamSize        int       `json:"teamSize"`
	Trade           string    `json:"trade"`
	Rank            int       `json:"rank"`
	Award           string    `json:"award"`
	Date            time.Time `json:"date"`
	Source
}

// Honour is an honour; Withdrawn ones stay listed.
type Honour struct {
	ID             string      `json:"id"`
	Code           string      `json:"code"`
	Name           string      `json:"name,omitempty"`
	Level          string      `json:"level"`
	ConferringBody string      `json:"conferringBody"`
	Trade          string      `json:"trade,omitempty"`
	PlacementID    string      `json:"placementId,omitempty"`
	Date           time.Time   `json:"date"`
	Withdrawn      bool        `json:"withdrawn"`
	WithdrawnOn    time.Time   `json:"withdrawnOn,omitzero"`
	WithdrawReason string      `json:"withdrawReason,omitempty"`
	WithdrawRef    *events.Ref `json:"withdrawRef,omitempty"`
	Source
}

// Mentorship statuses.
const (
	MentorshipActive     = "active"
	MentorshipCompleted  = "completed"
	MentorshipEndedEarly = "ended_early"
)

// Mentorship is a pairing seen from this worker: Role "master" or "apprentice".
type Mentorship struct {
	ID           string        `json:"id"`
	Role         string        `json:"role"`
	Counterpart  string        `json:"counterpart"`
	Kind         string        `json:"kind"`
	Trade        string        `json:"trade"`
	Started      time.Time     `json:"started"`
	Status       string        `json:"status"`
	Ended        time.Time     `json:"ended,omitzero"`
	LevelReached *events.Level `json:"levelReached,omitempty"`
	Sessions     int           `json:"sessions"`
	SessionHours float64       `json:"sessionHours"`
	Source
	EndEvidence *events.Ref `json:"endEvidence,omitempty"`
}

// Innovation is a recognised innovation result.
type Innovation struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Category string    `json:"category,omitempty"`
	Title    string    `json:"title"`
	Level    string    `json:"level"`
	Trade    string    `json:"trade,omitempty"`
	InUse    bool      `json:"inUse,omitempty"`
	Role     string    `json:"role"`
	StudioID string    `json:"studioId,omitempty"`
	Date     time.Time `json:"date"`
	Source
}

// Correction is a correction the fold saw; Reversed when a later
// correction retracted it; Retraction when it had no replacement.
type Correction struct {
	Ref               events.Ref `json:"ref"`
	SupersedesEventID string     `json:"supersedesEventId"`
	Reason            string     `json:"reason"`
	Retraction        bool       `json:"retraction"`
	Reversed          bool       `json:"reversed"`
	Recorded          time.Time  `json:"recorded"`
}
