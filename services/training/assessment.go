package training

import (
	"encoding/json"
	"math"

	"github.com/craftledger/craftledger/events"
)

// TypeAssessmentRecorded is the event of a skill assessment. The shared
// catalogue (events/) has no assessment event yet, so training defines it
// here in the catalogue's style; it belongs in events/ and should move there.
const TypeAssessmentRecorded = "AssessmentRecorded.v1"

// AssessmentRecorded records a skill assessment (理论 + 实操) of a craftsman
// at a level of a trade by an evaluating organisation (occurredAt = the
// assessment date). A passed assessment is not a level: the certificate is.
type AssessmentRecorded struct {
	CraftsmanID     string       `json:"craftsmanId"`
	AssessmentID    string       `json:"assessmentId"`
	Trade           events.Trade `json:"trade"`
	Level           events.Level `json:"level"`
	EvaluatingOrgID string       `json:"evaluatingOrgId"`
	TheoryScore     *float64     `json:"theoryScore,omitempty"`
	PracticalScore  *float64     `json:"practicalScore,omitempty"`
	Passed          bool         `json:"passed"`
}

func (AssessmentRecorded) EventType() string { return TypeAssessmentRecorded }

func (e AssessmentRecorded) Validate() error {
	for _, f := range []struct{ name, id string }{{"craftsmanId", e.CraftsmanID}, {"assessmentId", e.AssessmentID}, {"evaluatingOrgId", e.EvaluatingOrgID}} {
		if err := events.ValidID(f.name, f.id); err != nil {
			return err
		}
	}
	if err := events.Prefix("trade", e.Trade.Validate()); err != nil {
		return err
	}
	if !e.Level.Certifiable() {
		return &events.FieldError{Field: "level", Message: "must be a certifiable level (junior..senior_technician)"}
	}
	for name, s := range map[string]*float64{"theoryScore": e.TheoryScore, "practicalScore": e.PracticalScore} {
		if s != nil && (math.IsNaN(*s) || *s < 0 || *s > 100) {
			return &events.FieldError{Field: name, Message: "must be between 0 and 100"}
		}
	}
	return nil
}

func decodeLocal(data []byte, v any) error { return json.Unmarshal(data, v) }
