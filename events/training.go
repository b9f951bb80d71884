package events

import "math"

// Event type names of training.
const (
	TypeTrainingEnrolled  = "TrainingEnrolled.v1"
	TypeTrainingCompleted = "TrainingCompleted.v2"
	// TypeTrainingCompletedV1 is the first version: whole hours, no mode
	// (every v1 record was classroom training). Decoding upgrades it.
	TypeTrainingCompletedV1 = "TrainingCompleted.v1"
)

// Training modes.
const (
	ModeClassroom   = "classroom"
	ModeOnTheJob    = "on_the_job"
	ModeOnlineMicro = "online_micro"
	ModeVirtualSim  = "virtual_sim"
)

var trainingModes = []string{ModeClassroom, ModeOnTheJob, ModeOnlineMicro, ModeVirtualSim}

// TrainingModes returns the valid training modes.
func TrainingModes() []string { return append([]string(nil), trainingModes...) }

// TrainingEnrolled records an enrolment in a course of an academy.
type TrainingEnrolled struct {
	CraftsmanID string `json:"craftsmanId"`
	EnrolmentID string `json:"enrolmentId"`
	AcademyID   string `json:"academyId"`
	CourseID    string `json:"courseId"`
	Trade       Trade  `json:"trade"`
	Module      string `json:"module,omitempty"`
	Mode        string `json:"mode"`
}

func (TrainingEnrolled) EventType() string { return TypeTrainingEnrolled }

func (e TrainingEnrolled) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("enrolmentId", e.EnrolmentID),
		ValidID("academyId", e.AcademyID), ValidID("courseId", e.CourseID), Prefix("trade", e.Trade.Validate()),
		oneOf("mode", e.Mode, trainingModes...))
}

// TrainingCompleted records completed training hours (occurredAt = completion).
type TrainingCompleted struct {
	CraftsmanID string   `json:"craftsmanId"`
	EnrolmentID string   `json:"enrolmentId,omitempty"`
	AcademyID   string   `json:"academyId"`
	CourseID    string   `json:"courseId"`
	Trade       Trade    `json:"trade"`
	Module      string   `json:"module,omitempty"`
	Hours       float64  `json:"hours"`
	Mode        string   `json:"mode"`
	Score       *float64 `json:"score,omitempty"` // 0..100
	Passed      bool     `json:"passed"`
}

func (TrainingCompleted) EventType() string { return TypeTrainingCompleted }

func (e TrainingCompleted) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), ValidID("academyId", e.AcademyID),
		ValidID("courseId", e.CourseID), Prefix("trade", e.Trade.Validate()), oneOf("mode", e.Mode, trainingModes...)); err != nil {
		return err
	}
	if e.EnrolmentID != "" {
		if err := ValidID("enrolmentId", e.EnrolmentID); err != nil {
			return err
		}
	}
	switch {
	case math.IsNaN(e.Hours) || e.Hours < 0:
		return fieldErr("hours", "must not be negative")
	case e.Hours == 0:
		return fieldErr("hours", "must be positive")
	case e.Hours > 2000:
		return fieldErr("hours", "%g hours is more than one record may hold (2000)", e.Hours)
	}
	if e.Score != nil && (math.IsNaN(*e.Score) || *e.Score < 0 || *e.Score > 100) {
		return fieldErr("score", "must be between 0 and 100")
	}
	return nil
}

// TrainingCompletedV1 is the stored shape of TrainingCompleted.v1.
type TrainingCompletedV1 struct {
	CraftsmanID string `json:"craftsmanId"`
	AcademyID   string `json:"academyId"`
	CourseID    string `json:"courseId"`
	TradeCode   string `json:"tradeCode"`
	Module      string `json:"module,omitempty"`
	Hours       int    `json:"hours"`
	Score       *int   `json:"score,omitempty"`
}

// Upgrade turns a v1 record into the current version: classroom mode,
// passed (v1 recorded only passes).
func (v TrainingCompletedV1) Upgrade() TrainingCompleted {
	out := TrainingCompleted{CraftsmanID: v.CraftsmanID, AcademyID: v.AcademyID, CourseID: v.CourseID,
		Trade: Trade{Code: v.TradeCode}, Module: v.Module, Hours: float64(v.Hours), Mode: ModeClassroom, Passed: true}
	if v.Score != nil {
		s := float64(*v.Score)
		out.Score = &s
	}
	return out
}
