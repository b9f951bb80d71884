package events

import "math"

// TypeAssessmentRecorded is the event of a skill assessment.
const TypeAssessmentRecorded = "AssessmentRecorded.v1"

// AssessmentRecorded records a skill assessment (理论 + 实操) of a craftsman
// at a level of a trade by an evaluating organisation (occurredAt = the
// assessment date). A passed assessment is not a level: the certificate is.
type AssessmentRecorded struct {
	CraftsmanID     string   `json:"craftsmanId"`
	AssessmentID    string   `json:"assessmentId"`
	Trade           Trade    `json:"trade"`
	Level           Level    `json:"level"`
	EvaluatingOrgID string   `json:"evaluatingOrgId"`
	TheoryScore     *float64 `json:"theoryScore,omitempty"`
	PracticalScore  *float64 `json:"practicalScore,omitempty"`
	Passed          bool     `json:"passed"`
}

func (AssessmentRecorded) EventType() string { return TypeAssessmentRecorded }

func (e AssessmentRecorded) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("assessmentId", e.AssessmentID), ValidID("evaluatingOrgId", e.EvaluatingOrgID),
		Prefix("trade", e.Trade.Validate()), validCertLevel("level", e.Level),
		validScore("theoryScore", e.TheoryScore), validScore("practicalScore", e.PracticalScore))
}

func validScore(field string, s *float64) error {
	if s != nil && (math.IsNaN(*s) || *s < 0 || *s > 100) {
		return fieldErr(field, "must be between 0 and 100")
	}
	return nil
}
