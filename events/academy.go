package events

import (
	"fmt"
	"math"
)

// Event type names of academies.
const (
	TypeAcademyRegistered = "AcademyRegistered.v1"
	TypeCourseAdded       = "CourseAdded.v1"
)

// Academy kinds.
const (
	AcademyEnterprise  = "enterprise"   // an enterprise's training centre
	AcademyCollege     = "college"      // a vocational or technical college
	AcademyUnionSchool = "union_school" // a trade-union school
)

// AcademyRegistered opens an academy's stream.
type AcademyRegistered struct {
	AcademyID   string `json:"academyId"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Region      string `json:"region"`
	ParentOrgID string `json:"parentOrgId,omitempty"`
}

func (AcademyRegistered) EventType() string { return TypeAcademyRegistered }

func (e AcademyRegistered) Validate() error {
	return first(ValidID("academyId", e.AcademyID), required("name", e.Name),
		oneOf("kind", e.Kind, AcademyEnterprise, AcademyCollege, AcademyUnionSchool), required("region", e.Region))
}

// CourseAdded adds a course to an academy's catalogue.
type CourseAdded struct {
	AcademyID string   `json:"academyId"`
	CourseID  string   `json:"courseId"`
	Title     string   `json:"title"`
	Trade     Trade    `json:"trade"`
	Modules   []string `json:"modules,omitempty"`
	Hours     float64  `json:"hours"`
	Mode      string   `json:"mode"`
	// TargetLevel is the level the course prepares for, if any.
	TargetLevel *Level `json:"targetLevel,omitempty"`
}

func (CourseAdded) EventType() string { return TypeCourseAdded }

func (e CourseAdded) Validate() error {
	if err := first(ValidID("academyId", e.AcademyID), ValidID("courseId", e.CourseID), required("title", e.Title),
		Prefix("trade", e.Trade.Validate()), oneOf("mode", e.Mode, trainingModes...)); err != nil {
		return err
	}
	if math.IsNaN(e.Hours) || e.Hours <= 0 {
		return fieldErr("hours", "must be positive")
	}
	for i, m := range e.Modules {
		if m == "" {
			return fieldErr(fmt.Sprintf("modules[%d]", i), "is empty")
		}
	}
	if e.TargetLevel != nil {
		return validCertLevel("targetLevel", *e.TargetLevel)
	}
	return nil
}
