package events

// TypeInnovationRecognised is the event type of an innovation result.
const TypeInnovationRecognised = "InnovationRecognised.v1"

// Innovation kinds.
const (
	InnovationFiveSmall    = "five_small"   // 五小
	InnovationBreakthrough = "breakthrough" // 技术攻关
	InnovationPatent       = "patent"
	InnovationStudio       = "studio_project" // 劳模工匠创新工作室 project
)

// Five-small categories (五小: small inventions, creations, innovations, designs, suggestions).
var fiveSmall = []string{"invention", "creation", "innovation", "design", "suggestion"}

// InnovationRecognised records an innovation result (occurredAt = recognition date).
type InnovationRecognised struct {
	CraftsmanID  string `json:"craftsmanId"`
	InnovationID string `json:"innovationId"`
	Kind         string `json:"kind"`
	// Category is the five-small category (only for five_small).
	Category     string `json:"category,omitempty"`
	Title        string `json:"title"`
	Level        string `json:"level"`
	Trade        *Trade `json:"trade,omitempty"`
	PatentNumber string `json:"patentNumber,omitempty"`
	// InUse: the result has been put into use (成果转化).
	InUse bool `json:"inUse,omitempty"`
	// Role is "leader" or "member"; a studio's leader leads the studio.
	Role     string `json:"role"`
	StudioID string `json:"studioId,omitempty"`
}

func (InnovationRecognised) EventType() string { return TypeInnovationRecognised }

func (e InnovationRecognised) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), ValidID("innovationId", e.InnovationID),
		oneOf("kind", e.Kind, InnovationFiveSmall, InnovationBreakthrough, InnovationPatent, InnovationStudio),
		required("title", e.Title), oneOf("level", e.Level, honourLevels...), oneOf("role", e.Role, "leader", "member")); err != nil {
		return err
	}
	switch e.Kind {
	case InnovationFiveSmall:
		if err := oneOf("category", e.Category, fiveSmall...); err != nil {
			return err
		}
	case InnovationPatent:
		if e.PatentNumber == "" {
			return fieldErr("patentNumber", "is required for a patent")
		}
	case InnovationStudio:
		if e.StudioID == "" {
			return fieldErr("studioId", "is required for a studio project")
		}
	}
	if e.Kind != InnovationFiveSmall && e.Category != "" {
		return fieldErr("category", "only five_small results have a category")
	}
	if e.Trade != nil {
		return Prefix("trade", e.Trade.Validate())
	}
	return nil
}
