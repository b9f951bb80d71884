package events

// Event type names of honours.
const (
	TypeHonourConferred = "HonourConferred.v1"
	TypeHonourWithdrawn = "HonourWithdrawn.v1"
)

// Recognition levels of honours and innovations, highest first.
const (
	LevelNational   = "national"
	LevelProvincial = "provincial"
	LevelCity       = "city"
	LevelEnterprise = "enterprise"
	LevelAcademy    = "academy"
)

var honourLevels = []string{LevelNational, LevelProvincial, LevelCity, LevelEnterprise, LevelAcademy}

// RecognitionRank orders recognition levels: 0 is national; -1 when unknown.
// "provincial or above" is RecognitionRank(x) <= RecognitionRank("provincial").
func RecognitionRank(level string) int {
	for i, l := range honourLevels {
		if l == level {
			return i
		}
	}
	return -1
}

// HonourKind is an entry of the honour catalogue.
type HonourKind struct {
	Code           string `json:"code"`
	Chinese        string `json:"zh"`
	English        string `json:"en"`
	Level          string `json:"level"`
	ConferringBody string `json:"conferringBody"`
}

// HonourCatalogue returns the well-known honours. Other codes (lower-case
// letters, digits, '_') are allowed for regional and enterprise honours.
func HonourCatalogue() []HonourKind {
	return []HonourKind{
		{"national_model_worker", "全国劳动模范", "National Model Worker", LevelNational, "State Council"},
		{"national_advanced_worker", "全国先进工作者", "National Advanced Worker", LevelNational, "State Council"},
		{"national_may_day_medal", "全国五一劳动奖章", "National May Day Labour Medal", LevelNational, "ACFTU"},
		{"great_craftsman", "大国工匠", "Great Craftsman of the Nation", LevelNational, "ACFTU"},
		{"china_skills_award", "中华技能大奖", "China Skills Award", LevelNational, "MOHRSS"},
		{"national_technical_expert", "全国技术能手", "National Technical Expert", LevelNational, "MOHRSS"},
		{"provincial_model_worker", "省劳动模范", "Provincial Model Worker", LevelProvincial, "provincial government"},
		{"provincial_may_day_medal", "省五一劳动奖章", "Provincial May Day Labour Medal", LevelProvincial, "provincial trade-union federation"},
		{"provincial_craftsman", "省级工匠", "Provincial Craftsman", LevelProvincial, "provincial trade-union federation"},
		{"provincial_technical_expert", "省技术能手", "Provincial Technical Expert", LevelProvincial, "provincial HR department"},
		{"city_model_worker", "市劳动模范", "City Model Worker", LevelCity, "city government"},
		{"city_craftsman", "市级工匠", "City Craftsman", LevelCity, "city trade-union federation"},
		{"enterprise_craftsman", "企业工匠", "Enterprise Craftsman", LevelEnterprise, "enterprise"},
	}
}

func validHonourCode(field, code string) error {
	if code == "" {
		return fieldErr(field, "is required")
	}
	for _, c := range code {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') || len(code) > 64 {
			return fieldErr(field, "%q is not an honour code (lower-case letters, digits, _)", code)
		}
	}
	return nil
}

// HonourConferred records an honour (occurredAt = conferral date).
type HonourConferred struct {
	CraftsmanID    string `json:"craftsmanId"`
	HonourID       string `json:"honourId"`
	Code           string `json:"code"`
	Name           string `json:"name,omitempty"`
	Level          string `json:"level"`
	ConferringBody string `json:"conferringBody"`
	Trade          *Trade `json:"trade,omitempty"`
	// PlacementID links an honour triggered by a competition placement.
	PlacementID string `json:"placementId,omitempty"`
}

func (HonourConferred) EventType() string { return TypeHonourConferred }

func (e HonourConferred) Validate() error {
	if err := first(ValidID("craftsmanId", e.CraftsmanID), ValidID("honourId", e.HonourID), validHonourCode("code", e.Code),
		oneOf("level", e.Level, honourLevels...), required("conferringBody", e.ConferringBody)); err != nil {
		return err
	}
	if e.Trade != nil {
		return Prefix("trade", e.Trade.Validate())
	}
	return nil
}

// HonourWithdrawn revokes an honour; it stays in the history.
type HonourWithdrawn struct {
	CraftsmanID string `json:"craftsmanId"`
	HonourID    string `json:"honourId"`
	Reason      string `json:"reason"`
}

func (HonourWithdrawn) EventType() string { return TypeHonourWithdrawn }

func (e HonourWithdrawn) Validate() error {
	return first(ValidID("craftsmanId", e.CraftsmanID), ValidID("honourId", e.HonourID), required("reason", e.Reason))
}
