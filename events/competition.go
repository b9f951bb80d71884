package events

import "fmt"

// Event type names of competitions.
const (
	TypeCompetitionDefined          = "CompetitionDefined.v1"
	TypeCompetitionResultsPublished = "CompetitionResultsPublished.v1"
	TypeCompetitionPlaced           = "CompetitionPlaced.v1"
)

// Competition tiers.
const (
	TierWorld          = "world"            // WorldSkills
	TierNational       = "national"         // national skills competition
	TierNationalClass1 = "national_class_1" // 国家级一类
	TierNationalClass2 = "national_class_2" // 国家级二类
	TierProvincial     = "provincial"
	TierCity           = "city"
	TierEnterprise     = "enterprise"
)

var tiers = []string{TierWorld, TierNational, TierNationalClass1, TierNationalClass2, TierProvincial, TierCity, TierEnterprise}

// Tiers returns the competition tiers, highest first.
func Tiers() []string { return append([]string(nil), tiers...) }

// TierRank orders tiers: 0 is the highest (world); -1 for an unknown tier.
func TierRank(tier string) int {
	for i, t := range tiers {
		if t == tier {
			return i
		}
	}
	return -1
}

// Tracks.
const (
	TrackEmployees = "employees"
	TrackStudents  = "students"
)

// Awards, best first. AwardExcellence is 优胜奖.
const (
	AwardGold       = "gold"
	AwardSilver     = "silver"
	AwardBronze     = "bronze"
	AwardExcellence = "excellence"
	AwardNone       = "none"
)

var awards = []string{AwardGold, AwardSilver, AwardBronze, AwardExcellence, AwardNone}

// AwardRank orders awards: 0 is gold; -1 for an unknown award.
func AwardRank(a string) int {
	for i, x := range awards {
		if x == a {
			return i
		}
	}
	return -1
}

// CompetitionRules is a competition's own promotion and honour rules, as
// published in its notice. See docs/policy.md.
type CompetitionRules struct {
	// Grants turn placements into promotion entitlements; the first grant
	// rule that matches a placement applies.
	Grants []GrantRule `json:"grants"`
	// Honours are conferred by their own bodies on matching placements.
	Honours []HonourTrigger `json:"honours,omitempty"`
	// RequiresApproval: entitlements need the HR department's approval (核准)
	// before certification. True in every published notice, and required
	// of rules that grant levels (Validate): a placement creates an
	// entitlement, the level is certified only once the HR department
	// approves it — two events, not one (POLICY.md).
	RequiresApproval bool `json:"requiresApproval"`
	// MaxPromotionsPerYear caps competition promotions of a worker per
	// calendar year across all competitions (0 = no cap).
	MaxPromotionsPerYear int `json:"maxPromotionsPerYear,omitempty"`
}

// Band selects placements: a track ("" = any), a team size (0 = any; 1 =
// individual), and either a rank range or a best award.
type Band struct {
	Track    string `json:"track,omitempty"`
	TeamSize int    `json:"teamSize,omitempty"`
	FromRank int    `json:"fromRank,omitempty"`
	ToRank   int    `json:"toRank,omitempty"`
	// MinAward selects placements with this award or better (by rank of award).
	MinAward string `json:"minAward,omitempty"`
}

// Matches reports whether a placement falls in the band.
func (b Band) Matches(track string, teamSize, rank int, award string) bool {
	if b.Track != "" && b.Track != track {
		return false
	}
	if b.TeamSize != 0 && b.TeamSize != teamSize {
		return false
	}
	if b.MinAward != "" {
		ar := AwardRank(award)
		if ar < 0 || award == AwardNone || ar > AwardRank(b.MinAward) {
			return false
		}
	}
	if b.ToRank > 0 && (rank < b.FromRank || rank > b.ToRank) {
		return false
	}
	return true
}

func (b Band) validate() error {
	if b.Track != "" {
		if err := oneOf("track", b.Track, TrackEmployees, TrackStudents); err != nil {
			return err
		}
	}
	if b.TeamSize < 0 || b.TeamSize > 10 {
		return fieldErr("teamSize", "must be 0 (any) or 1..10")
	}
	if b.MinAward != "" {
		if err := oneOf("minAward", b.MinAward, AwardGold, AwardSilver, AwardBronze, AwardExcellence); err != nil {
			return err
		}
	}
	if b.MinAward == "" && b.ToRank == 0 {
		return fieldErr("toRank", "a band needs a rank range or a minAward")
	}
	if b.ToRank != 0 && (b.FromRank < 1 || b.ToRank < b.FromRank) {
		return fieldErr("fromRank", "rank range %d..%d is not 1 <= from <= to", b.FromRank, b.ToRank)
	}
	return nil
}

// GrantRule grants Level, or the next level when Level (or more) is
// already held and RaiseIfHeld is set ("technician; a technician →
// senior technician").
type GrantRule struct {
	ID          string `json:"id"`
	Band        Band   `json:"band"`
	Level       Level  `json:"level"`
	RaiseIfHeld bool   `json:"raiseIfHeld,omitempty"`
}

// HonourTrigger confers an honour on placements in a band.
type HonourTrigger struct {
	Band           Band   `json:"band"`
	HonourCode     string `json:"honourCode"`
	HonourName     string `json:"honourName,omitempty"`
	Level          string `json:"level"`
	ConferringBody string `json:"conferringBody"`
}

// Validate checks the rule set.
func (r CompetitionRules) Validate() error {
	ids := map[string]bool{}
	for i, g := range r.Grants {
		p := fmt.Sprintf("grants[%d]", i)
		if err := first(ValidID(p+".id", g.ID), Prefix(p+".band", g.Band.validate()), validCertLevel(p+".level", g.Level)); err != nil {
			return err
		}
		if ids[g.ID] {
			return fieldErr(p+".id", "duplicate grant id %q", g.ID)
		}
		ids[g.ID] = true
	}
	if len(r.Grants) > 0 && !r.RequiresApproval {
		return fieldErr("requiresApproval", "must be true: levels granted by a competition are certified only after the human-resources department approves (核准) them")
	}
	for i, h := range r.Honours {
		p := fmt.Sprintf("honours[%d]", i)
		if err := first(Prefix(p+".band", h.Band.validate()), validHonourCode(p+".honourCode", h.HonourCode),
			oneOf(p+".level", h.Level, honourLevels...), required(p+".conferringBody", h.ConferringBody)); err != nil {
			return err
		}
	}
	if r.MaxPromotionsPerYear < 0 {
		return fieldErr("maxPromotionsPerYear", "must not be negative")
	}
	return nil
}

// CompetitionDefined opens a competition's stream with its rules.
type CompetitionDefined struct {
	CompetitionID string           `json:"competitionId"`
	Name          string           `json:"name"`
	Tier          string           `json:"tier"`
	Organiser     string           `json:"organiser,omitempty"`
	Year          int              `json:"year"`
	Trades        []Trade          `json:"trades"`
	Tracks        []string         `json:"tracks"`
	StartsOn      string           `json:"startsOn,omitempty"`
	EndsOn        string           `json:"endsOn,omitempty"`
	Rules         CompetitionRules `json:"rules"`
}

func (CompetitionDefined) EventType() string { return TypeCompetitionDefined }

func (e CompetitionDefined) Validate() error {
	if err := first(ValidID("competitionId", e.CompetitionID), required("name", e.Name), oneOf("tier", e.Tier, tiers...),
		validDate("startsOn", e.StartsOn, false), validDate("endsOn", e.EndsOn, false)); err != nil {
		return err
	}
	if e.Year < 1949 || e.Year > 2200 {
		return fieldErr("year", "%d is out of range", e.Year)
	}
	if len(e.Trades) == 0 {
		return fieldErr("trades", "at least one trade is required")
	}
	for i, t := range e.Trades {
		if err := Prefix(fmt.Sprintf("trades[%d]", i), t.Validate()); err != nil {
			return err
		}
	}
	if len(e.Tracks) == 0 {
		return fieldErr("tracks", "at least one track is required")
	}
	for i, t := range e.Tracks {
		if err := oneOf(fmt.Sprintf("tracks[%d]", i), t, TrackEmployees, TrackStudents); err != nil {
			return err
		}
	}
	if e.StartsOn != "" && e.EndsOn != "" && e.EndsOn < e.StartsOn {
		return fieldErr("endsOn", "%s is before startsOn %s", e.EndsOn, e.StartsOn)
	}
	return Prefix("rules", e.Rules.Validate())
}

// Placement is one result of a competition.
type Placement struct {
	PlacementID string `json:"placementId"`
	CraftsmanID string `json:"craftsmanId"`
	Track       string `json:"track"`
	TeamSize    int    `json:"teamSize"`
	TeamID      string `json:"teamId,omitempty"`
	Trade       Trade  `json:"trade"`
	Rank        int    `json:"rank"`
	Award       string `json:"award"`
}

func (p Placement) validate() error {
	if err := first(ValidID("placementId", p.PlacementID), ValidID("craftsmanId", p.CraftsmanID),
		oneOf("track", p.Track, TrackEmployees, TrackStudents), Prefix("trade", p.Trade.Validate()),
		oneOf("award", p.Award, awards...)); err != nil {
		return err
	}
	if p.TeamSize < 1 || p.TeamSize > 10 {
		return fieldErr("teamSize", "must be 1 (individual) to 10")
	}
	if p.TeamSize > 1 && p.TeamID == "" {
		return fieldErr("teamId", "is required for a team placement")
	}
	if p.Rank < 1 {
		return fieldErr("rank", "must be at least 1")
	}
	return nil
}

// PlacementID is the deterministic id of a worker's placement in a
// competition, so a retried publication never double-counts.
func PlacementID(competitionID, craftsmanID, tradeCode, track string) string {
	return competitionID + ":" + craftsmanID + ":" + tradeCode + ":" + track
}

// CompetitionResultsPublished records a competition's results on its stream.
type CompetitionResultsPublished struct {
	CompetitionID string      `json:"competitionId"`
	Placements    []Placement `json:"placements"`
}

func (CompetitionResultsPublished) EventType() string { return TypeCompetitionResultsPublished }

func (e CompetitionResultsPublished) Validate() error {
	if err := ValidID("competitionId", e.CompetitionID); err != nil {
		return err
	}
	if len(e.Placements) == 0 {
		return fieldErr("placements", "at least one placement is required")
	}
	seen := map[string]bool{}
	for i, p := range e.Placements {
		if err := Prefix(fmt.Sprintf("placements[%d]", i), p.validate()); err != nil {
			return err
		}
		if seen[p.PlacementID] {
			return fieldErr(fmt.Sprintf("placements[%d].placementId", i), "duplicate placement %q", p.PlacementID)
		}
		seen[p.PlacementID] = true
	}
	return nil
}

// CompetitionPlaced records a placement on the worker's stream
// (occurredAt = the results' date).
type CompetitionPlaced struct {
	CraftsmanID     string `json:"craftsmanId"`
	CompetitionID   string `json:"competitionId"`
	CompetitionName string `json:"competitionName,omitempty"`
	PlacementID     string `json:"placementId"`
	Tier            string `json:"tier"`
	Year            int    `json:"year,omitempty"`
	Track           string `json:"track"`
	TeamSize        int    `json:"teamSize"`
	TeamID          string `json:"teamId,omitempty"`
	Trade           Trade  `json:"trade"`
	Rank            int    `json:"rank"`
	Award           string `json:"award"`
}

func (CompetitionPlaced) EventType() string { return TypeCompetitionPlaced }

func (e CompetitionPlaced) Validate() error {
	return first(ValidID("competitionId", e.CompetitionID), oneOf("tier", e.Tier, tiers...),
		Placement{PlacementID: e.PlacementID, CraftsmanID: e.CraftsmanID, Track: e.Track, TeamSize: e.TeamSize,
			TeamID: e.TeamID, Trade: e.Trade, Rank: e.Rank, Award: e.Award}.validate())
}
