// Package policy holds craftledger's promotion rules as data: the policy
// document format (target levels → alternative routes → criteria), its
// loader, the default templates A and B of the national occupational
// skill standards and the enterprise's upper-grade default, competition
// rule sets and their demo competitions, and the evaluation of
// eligibility, the career pathway and competition grants over a folded
// career state. Everything is pure: time is always a parameter.
package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
)

// Policy is one version of a promotion policy. See docs/policy.md.
type Policy struct {
	Name          string `json:"name"`
	Version       int    `json:"version"`
	EffectiveFrom string `json:"effectiveFrom"` // YYYY-MM-DD
	Label         string `json:"label"`
	// Owner says whose rules these are: "national_standard", "enterprise", "region", "academy".
	Owner     string    `json:"owner"`
	AppliesTo AppliesTo `json:"appliesTo"`
	// RelatedTrades lists, per occupation code, the trades whose
	// certificates and years of work count as "related".
	RelatedTrades map[string][]string `json:"relatedTrades,omitempty"`
	Levels        []LevelRule         `json:"levels"`

	effective time.Time
}

// AppliesTo keys a policy: to every trade, or to the listed standards.
type AppliesTo struct {
	AllTrades bool       `json:"allTrades,omitempty"`
	Standards []Standard `json:"standards,omitempty"`
}

// Standard is a national occupational skill standard: occupation code + edition.
type Standard struct {
	OccupationCode string `json:"occupationCode"`
	Edition        string `json:"edition"`
}

// LevelRule is the routes to one target level; any one route suffices.
type LevelRule struct {
	Target events.Level `json:"target"`
	Routes []Route      `json:"routes"`
}

// Route is a set of criteria that must all hold.
type Route struct {
	ID       string      `json:"id"`
	Label    string      `json:"label"`
	Criteria []Criterion `json:"criteria"`
}

// Criterion kinds.
const (
	KindYearsOfWork    = "years_of_work"  // years (accumulated, gaps excluded)
	KindLevel          = "level"          // level (held, or higher), yearsSince
	KindApprenticeship = "apprenticeship" // completed apprenticeship in the trade (kinds)
	KindAge            = "age"            // minAge, working
	KindSchool         = "school"         // schoolKinds, programmeTargetAtLeast, seniorClass, preparatoryTechnician, anySpeciality, yearsSince
	KindTitle          = "title"          // tier (or higher), yearsSince
	KindTrainingHours  = "training_hours" // hours, withinYears, modes
	KindCompetition    = "competition"    // tiers, maxRank, track
	KindHonour         = "honour"         // minLevel
	KindMentored       = "mentored"       // count, minLevel (apprentice level reached)
	KindInnovation     = "innovation"     // minLevel, kinds, inUse
	KindLeadsStudio    = "leads_studio"
	KindUpperGrade     = "upper_grade" // grade, yearsSince
	KindNOf            = "n_of"        // n, of
)

var kinds = []string{KindYearsOfWork, KindLevel, KindApprenticeship, KindAge, KindSchool, KindTitle, KindTrainingHours,
	KindCompetition, KindHonour, KindMentored, KindInnovation, KindLeadsStudio, KindUpperGrade, KindNOf}

// Criterion is one condition. Kind selects which other fields apply.
type Criterion struct {
	Kind  string `json:"kind"`
	Label string `json:"label,omitempty"`

	// SameTradeOnly: only this trade counts, not related trades.
	SameTradeOnly bool `json:"sameTradeOnly,omitempty"`

	Years      float64       `json:"years,omitempty"`      // years_of_work
	Level      *events.Level `json:"level,omitempty"`      // level
	YearsSince float64       `json:"yearsSince,omitempty"` // level, school, title, upper_grade: years of work since that date

	MinAge  int  `json:"minAge,omitempty"`  // age
	Working bool `json:"working,omitempty"` // age: working (or about to work) in the trade

	SchoolKinds            []string      `json:"schoolKinds,omitempty"`
	ProgrammeTargetAtLeast *events.Level `json:"programmeTargetAtLeast,omitempty"`
	SeniorClass            bool          `json:"seniorClass,omitempty"`
	PreparatoryTechnician  bool          `json:"preparatoryTechnician,omitempty"`
	AnySpeciality          bool          `json:"anySpeciality,omitempty"`

	Tier string `json:"tier,omitempty"` // title

	Hours       float64  `json:"hours,omitempty"`       // training_hours
	WithinYears float64  `json:"withinYears,omitempty"` // training_hours: window before the evaluation date (0 = ever)
	Modes       []string `json:"modes,omitempty"`

	Tiers   []string `json:"tiers,omitempty"`   // competition
	MaxRank int      `json:"maxRank,omitempty"` // competition
	Track   string   `json:"track,omitempty"`   // competition

	MinLevel string   `json:"minLevel,omitempty"` // honour, innovation: recognition level; mentored: skill level (API name)
	Count    int      `json:"count,omitempty"`    // mentored
	Kinds    []string `json:"kinds,omitempty"`    // innovation kinds; apprenticeship: mentorship kinds
	InUse    bool     `json:"inUse,omitempty"`    // innovation

	Grade *events.Level `json:"grade,omitempty"` // upper_grade

	N  int         `json:"n,omitempty"` // n_of
	Of []Criterion `json:"of,omitempty"`

	req [2]string // required texts (this trade, with related trades), set by Validate
}

// Effective is the date from which the version applies: a civil date of
// the ledger's calendar (China), as UTC midnight of that date like
// career.CivilDate's. The version is in force at t when Effective is not
// after career.CivilDate(t) (Set.At), i.e. from 00:00 China time.
func (p *Policy) Effective() time.Time { return p.effective }

// Covers reports whether the policy applies to a trade.
func (p *Policy) Covers(trade string) bool {
	if p.AppliesTo.AllTrades {
		return true
	}
	for _, s := range p.AppliesTo.Standards {
		if s.OccupationCode == trade {
			return true
		}
	}
	return false
}

// Standard returns the edition of the standard keying trade, if any.
func (p *Policy) Standard(trade string) (Standard, bool) {
	for _, s := range p.AppliesTo.Standards {
		if s.OccupationCode == trade {
			return s, true
		}
	}
	return Standard{}, false
}

// Rule returns the routes to target, if the policy has them.
func (p *Policy) Rule(target events.Level) (LevelRule, bool) {
	for _, l := range p.Levels {
		if l.Target == target {
			return l, true
		}
	}
	return LevelRule{}, false
}

// Trades returns trade and, unless sameOnly, its related trades.
func (p *Policy) Trades(trade string, sameOnly bool) []string {
	if sameOnly {
		return []string{trade}
	}
	return append([]string{trade}, p.RelatedTrades[trade]...)
}

// Validate checks a policy; errors are *events.FieldError with JSON paths.
func (p *Policy) Validate() error {
	if err := events.ValidID("name", p.Name); err != nil {
		return err
	}
	if p.Version < 1 {
		return &events.FieldError{Field: "version", Message: "must be at least 1"}
	}
	t, err := time.Parse("2006-01-02", p.EffectiveFrom)
	if err != nil {
		return &events.FieldError{Field: "effectiveFrom", Message: fmt.Sprintf("%q is not a date (YYYY-MM-DD)", p.EffectiveFrom)}
	}
	p.effective = t
	if p.Label == "" {
		return &events.FieldError{Field: "label", Message: "is required"}
	}
	if !slices.Contains([]string{"national_standard", "enterprise", "region", "academy"}, p.Owner) {
		return &events.FieldError{Field: "owner", Message: fmt.Sprintf("unknown owner %q (national_standard, enterprise, region, academy)", p.Owner)}
	}
	if !p.AppliesTo.AllTrades && len(p.AppliesTo.Standards) == 0 {
		return &events.FieldError{Field: "appliesTo", Message: "give allTrades or at least one standard"}
	}
	if p.AppliesTo.AllTrades && len(p.AppliesTo.Standards) > 0 {
		return &events.FieldError{Field: "appliesTo", Message: "give allTrades or standards, not both"}
	}
	for i, s := range p.AppliesTo.Standards {
		f := fmt.Sprintf("appliesTo.standards[%d]", i)
		if err := events.ValidateTradeCode(f+".occupationCode", s.OccupationCode); err != nil {
			return err
		}
		if s.Edition == "" {
			return &events.FieldError{Field: f + ".edition", Message: "is required"}
		}
	}
	for code, rel := range p.RelatedTrades {
		if err := events.ValidateTradeCode("relatedTrades."+code, code); err != nil {
			return err
		}
		for i, r := range rel {
			if err := events.ValidateTradeCode(fmt.Sprintf("relatedTrades.%s[%d]", code, i), r); err != nil {
				return err
			}
		}
	}
	if len(p.Levels) == 0 {
		return &events.FieldError{Field: "levels", Message: "at least one target level is required"}
	}
	seen := map[events.Level]bool{}
	for i, l := range p.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if l.Target < events.Junior || !l.Target.Valid() {
			return &events.FieldError{Field: f + ".target", Message: "must be junior..chief_technician"}
		}
		if seen[l.Target] {
			return &events.FieldError{Field: f + ".target", Message: fmt.Sprintf("%s appears twice", l.Target)}
		}
		seen[l.Target] = true
		if len(l.Routes) == 0 {
			return &events.FieldError{Field: f + ".routes", Message: "at least one route is required"}
		}
		ids := map[string]bool{}
		for j, r := range l.Routes {
			rf := fmt.Sprintf("%s.routes[%d]", f, j)
			if r.ID == "" || ids[r.ID] {
				return &events.FieldError{Field: rf + ".id", Message: "is required and unique within the level"}
			}
			ids[r.ID] = true
			if r.Label == "" {
				return &events.FieldError{Field: rf + ".label", Message: "is required"}
			}
			if len(r.Criteria) == 0 {
				return &events.FieldError{Field: rf + ".criteria", Message: "at least one criterion is required"}
			}
			for k := range r.Criteria {
				c := &p.Levels[i].Routes[j].Criteria[k]
				if err := c.validate(fmt.Sprintf("%s.criteria[%d]", rf, k), 0); err != nil {
					return err
				}
				c.prepare()
			}
		}
	}
	return nil
}

func (c *Criterion) validate(f string, depth int) error {
	bad := func(field, format string, args ...any) error {
		return &events.FieldError{Field: f + "." + field, Message: fmt.Sprintf(format, args...)}
	}
	if !slices.Contains(kinds, c.Kind) {
		return bad("kind", "unknown criterion kind %q (%v)", c.Kind, kinds)
	}
	if c.YearsSince < 0 || c.Years < 0 || c.Hours < 0 || c.WithinYears < 0 {
		return bad("years", "durations and hours must not be negative")
	}
	switch c.Kind {
	case KindYearsOfWork:
		if c.Years <= 0 {
			return bad("years", "must be positive")
		}
	case KindLevel:
		if c.Level == nil || !c.Level.Certifiable() {
			return bad("level", "a certified level (junior..senior_technician) is required")
		}
	case KindAge:
		if c.MinAge < 14 || c.MinAge > 70 {
			return bad("minAge", "must be 14..70")
		}
	case KindSchool:
		if len(c.SchoolKinds) == 0 {
			return bad("schoolKinds", "at least one school kind is required")
		}
		for i, k := range c.SchoolKinds {
			if !slices.Contains(events.SchoolKinds(), k) {
				return bad(fmt.Sprintf("schoolKinds[%d]", i), "unknown school kind %q", k)
			}
		}
	case KindTitle:
		if !slices.Contains([]string{events.TitleJunior, events.TitleIntermediate, events.TitleSenior}, c.Tier) {
			return bad("tier", "unknown title tier %q (junior, intermediate, senior)", c.Tier)
		}
	case KindTrainingHours:
		if c.Hours <= 0 {
			return bad("hours", "must be positive")
		}
		for i, m := range c.Modes {
			if !slices.Contains(events.TrainingModes(), m) {
				return bad(fmt.Sprintf("modes[%d]", i), "unknown mode %q", m)
			}
		}
	case KindCompetition:
		if len(c.Tiers) == 0 || c.MaxRank < 1 {
			return bad("tiers", "tiers and a maxRank of at least 1 are required")
		}
		for i, t := range c.Tiers {
			if events.TierRank(t) < 0 {
				return bad(fmt.Sprintf("tiers[%d]", i), "unknown tier %q", t)
			}
		}
	case KindHonour:
		if events.RecognitionRank(c.MinLevel) < 0 {
			return bad("minLevel", "unknown recognition level %q (national, provincial, city, enterprise, academy)", c.MinLevel)
		}
	case KindMentored:
		if c.Count < 1 {
			return bad("count", "must be at least 1")
		}
		if _, err := events.ParseLevel(c.MinLevel); err != nil {
			return bad("minLevel", "unknown skill level %q", c.MinLevel)
		}
	case KindInnovation:
		if events.RecognitionRank(c.MinLevel) < 0 {
			return bad("minLevel", "unknown recognition level %q", c.MinLevel)
		}
		for i, k := range c.Kinds {
			if !slices.Contains([]string{events.InnovationFiveSmall, events.InnovationBreakthrough, events.InnovationPatent, events.InnovationStudio}, k) {
				return bad(fmt.Sprintf("kinds[%d]", i), "unknown innovation kind %q", k)
			}
		}
	case KindUpperGrade:
		if c.Grade == nil || !c.Grade.UpperGrade() {
			return bad("grade", "principal_technician or chief_technician is required")
		}
	case KindNOf:
		if depth > 2 {
			return bad("of", "n_of nested too deep")
		}
		if c.N < 1 || c.N > len(c.Of) {
			return bad("n", "must be 1..%d (the number of criteria in of)", len(c.Of))
		}
		for i := range c.Of {
			if err := c.Of[i].validate(fmt.Sprintf("%s.of[%d]", f, i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
