package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// Result is an eligibility answer that explains itself: for every route
// and criterion, what is required, what the worker has, whether it holds
// and the events that prove it; the policy version used; and, when not
// eligible but only time is missing, the earliest date of eligibility if
// nothing else changes.
type Result struct {
	CraftsmanID   string       `json:"craftsmanId"`
	Trade         string       `json:"trade"`
	Target        events.Level `json:"target"`
	At            time.Time    `json:"at"`
	Policy        string       `json:"policy"`
	PolicyVersion int          `json:"policyVersion"`
	EffectiveFrom string       `json:"effectiveFrom"`
	Standard      *Standard    `json:"standard,omitempty"`
	// Held is the level held in the trade at At.
	Held        events.Level `json:"held"`
	AlreadyHeld bool         `json:"alreadyHeld"`
	Eligible    bool         `json:"eligible"`
	// Routes met, by id.
	MetRoutes []string `json:"metRoutes,omitempty"`
	// Reason is set when the policy cannot answer (trade or target not covered).
	Reason        string        `json:"reason,omitempty"`
	EarliestDate  *time.Time    `json:"earliestDate,omitempty"`
	EarliestRoute string        `json:"earliestRoute,omitempty"`
	Routes        []RouteResult `json:"routes"`
}

// RouteResult is one route's answer. Missing lists the labels of the
// criteria that do not hold.
type RouteResult struct {
	ID           string            `json:"id"`
	Label        string            `json:"label"`
	Met          bool              `json:"met"`
	Missing      []string          `json:"missing,omitempty"`
	EarliestDate *time.Time        `json:"earliestDate,omitempty"`
	Criteria     []CriterionResult `json:"criteria"`
}

// CriterionResult is one criterion's answer. EarliestDate is set when the
// criterion does not hold yet but will by that date through time alone.
type CriterionResult struct {
	Kind         string            `json:"kind"`
	Label        string            `json:"label"`
	Required     string            `json:"required"`
	Actual       string            `json:"actual"`
	Met          bool              `json:"met"`
	Evidence     []events.Ref      `json:"evidence,omitempty"`
	EarliestDate *time.Time        `json:"earliestDate,omitempty"`
	Of           []CriterionResult `json:"of,omitempty"`
}

// Evaluate answers whether the worker whose state is s is eligible for
// target in trade at instant at, under policy p. s should be folded as of
// at (career.Fold); at is also when "years since" and ages are measured.
func Evaluate(s *career.State, p *Policy, trade string, target events.Level, at time.Time) Result {
	at = at.UTC()
	r := Result{CraftsmanID: s.CraftsmanID, Trade: trade, Target: target, At: at, Policy: p.Name, PolicyVersion: p.Version,
		EffectiveFrom: p.EffectiveFrom, Held: s.Level(trade), Routes: []RouteResult{}}
	if std, ok := p.Standard(trade); ok {
		r.Standard = &std
	}
	r.AlreadyHeld = r.Held >= target
	if !p.Covers(trade) {
		r.Reason = fmt.Sprintf("policy %s v%d does not cover trade %s", p.Name, p.Version, trade)
		return r
	}
	rule, ok := p.Rule(target)
	if !ok {
		r.Reason = fmt.Sprintf("policy %s v%d has no routes to %s", p.Name, p.Version, target)
		return r
	}
	ev := evaluator{s: s, p: p, trade: trade, at: at}
	for _, route := range rule.Routes {
		rr := RouteResult{ID: route.ID, Label: route.Label, Met: true, Criteria: make([]CriterionResult, 0, len(route.Criteria))}
		var latest time.Time
		timeOnly := true
		for i := range route.Criteria {
			cr := ev.criterion(&route.Criteria[i])
			rr.Criteria = append(rr.Criteria, cr)
			if cr.Met {
				continue
			}
			rr.Met = false
			rr.Missing = append(rr.Missing, cr.Label)
			if cr.EarliestDate == nil {
				timeOnly = false
			} else if cr.EarliestDate.After(latest) {
				latest = *cr.EarliestDate
			}
		}
		if rr.Met {
			r.Eligible = true
			r.MetRoutes = append(r.MetRoutes, rr.ID)
		} else if timeOnly {
			d := latest
			rr.EarliestDate = &d
		}
		r.Routes = append(r.Routes, rr)
	}
	if !r.Eligible {
		for _, rr := range r.Routes {
			if rr.EarliestDate != nil && (r.EarliestDate == nil || rr.EarliestDate.Before(*r.EarliestDate)) {
				d := *rr.EarliestDate
				r.EarliestDate, r.EarliestRoute = &d, rr.ID
			}
		}
	}
	return r
}

type evaluator struct {
	s     *career.State
	p     *Policy
	trade string
	at    time.Time
}

func datePtr(t time.Time) *time.Time { return &t }

func yearsStr(days int) string {
	return fmt.Sprintf("%.2f years (%d days)", float64(days)/career.DaysPerYear, days)
}

func fmtYears(y float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", y), "0"), ".")
}

// since evaluates "≥ years of work since from" into cr.
func (e *evaluator) since(cr *CriterionResult, trades []string, from time.Time, years float64) bool {
	need := career.RequiredDaysFrom(from, years)
	have := e.s.WorkDays(trades, from, e.at)
	cr.Actual += fmt.Sprintf("; %s of work since %s", yearsStr(have), from.Format("2006-01-02"))
	cr.Evidence = append(cr.Evidence, e.s.WorkEvidence(trades)...)
	if have >= need {
		return true
	}
	if d, ok := e.s.DateWhenWorked(trades, from, e.at, need); ok {
		cr.EarliestDate = datePtr(d)
	}
	return false
}

func (e *evaluator) criterion(c *Criterion) CriterionResult {
	trades := e.p.Trades(e.trade, c.SameTradeOnly)
	cr := CriterionResult{Kind: c.Kind, Label: c.Label}
	scope := "this or a related trade"
	if c.SameTradeOnly || len(trades) == 1 {
		scope = "this trade"
	}
	switch c.Kind {
	case KindYearsOfWork:
		need := career.RequiredDaysFrom(e.s.WorkAnchor(trades), c.Years)
		have := e.s.WorkDays(trades, time.Time{}, e.at)
		cr.Required = fmt.Sprintf("≥ %s years of work in %s (%d days)", fmtYears(c.Years), scope, need)
		cr.Actual = yearsStr(have)
		cr.Evidence = e.s.WorkEvidence(trades)
		cr.Met = have >= need
		if !cr.Met {
			if d, ok := e.s.DateWhenWorked(trades, time.Time{}, e.at, need); ok {
				cr.EarliestDate = datePtr(d)
			}
		}
	case KindLevel:
		cr.Required = fmt.Sprintf("%s certificate (or higher) in %s", c.Level.Info().English, scope)
		if c.YearsSince > 0 {
			cr.Required += fmt.Sprintf(" + ≥ %s years of work since", fmtYears(c.YearsSince))
		}
		lh, ok := e.s.LevelSince(trades, *c.Level)
		if !ok {
			if h, any := e.s.HighestLevel(trades); any {
				cr.Actual = fmt.Sprintf("highest: %s since %s", h.Level.Info().English, h.Since.Format("2006-01-02"))
			} else {
				cr.Actual = "no certificate"
			}
			break
		}
		cr.Actual = fmt.Sprintf("%s since %s (certificate %s)", lh.Level.Info().English, lh.Since.Format("2006-01-02"), lh.CertificateNumber)
		cr.Evidence = []events.Ref{lh.Ref}
		cr.Met = c.YearsSince == 0 || e.since(&cr, trades, lh.Since, c.YearsSince)
	case KindApprenticeship:
		cr.Required = "completed apprenticeship in " + scope
		cr.Actual = "none"
		for _, m := range e.s.Mentorships {
			if m.Role == "apprentice" && m.Status == career.MentorshipCompleted && slices.Contains(trades, m.Trade) &&
				(len(c.Kinds) == 0 || slices.Contains(c.Kinds, m.Kind)) {
				cr.Met = true
				cr.Actual = fmt.Sprintf("%s %s completed %s", m.Kind, m.ID, m.Ended.Format("2006-01-02"))
				cr.Evidence = append(cr.Evidence, m.Ref)
				if m.EndEvidence != nil {
					cr.Evidence = append(cr.Evidence, *m.EndEvidence)
				}
				break
			}
		}
	case KindAge:
		cr.Required = fmt.Sprintf("aged ≥ %d", c.MinAge)
		if c.Working {
			cr.Required += " and working (or about to work) in " + scope
		}
		birth, err := time.Parse("2006-01-02", e.s.BirthDate)
		if err != nil {
			cr.Actual = "birth date not recorded"
			break
		}
		turns := birth.AddDate(c.MinAge, 0, 0)
		age := e.at.Year() - birth.Year()
		if e.at.Before(birth.AddDate(age, 0, 0)) {
			age--
		}
		cr.Actual = fmt.Sprintf("aged %d", age)
		working := !c.Working
		if c.Working {
			for _, code := range trades {
				if t, ok := e.s.Trades[code]; ok && !t.EnteredOn.After(e.at) {
					working = true
					cr.Actual += ", in trade " + code + " since " + t.EnteredOn.Format("2006-01-02")
					cr.Evidence = append(cr.Evidence, e.s.WorkEvidence([]string{code})...)
				}
			}
			if !working {
				cr.Actual += ", not in the trade"
			}
		}
		cr.Met = working && !e.at.Before(turns)
		if !cr.Met && working {
			cr.EarliestDate = datePtr(turns)
		}
	case KindSchool:
		cr.Required = "graduate of " + strings.Join(c.SchoolKinds, " / ")
		if !c.AnySpeciality {
			cr.Required += " in the speciality"
		}
		if c.ProgrammeTargetAtLeast != nil {
			cr.Required += ", programme targeting " + c.ProgrammeTargetAtLeast.Info().English + " skills or above"
		}
		if c.SeniorClass {
			cr.Required += ", senior class"
		}
		if c.PreparatoryTechnician {
			cr.Required += ", preparatory-technician certificate"
		}
		if c.YearsSince > 0 {
			cr.Required += fmt.Sprintf(" + ≥ %s years of work since", fmtYears(c.YearsSince))
		}
		cr.Actual = "no matching education"
		for _, ed := range e.s.Education {
			if !slices.Contains(c.SchoolKinds, ed.SchoolKind) || (!c.AnySpeciality && !slices.Contains(trades, ed.Trade)) ||
				(c.ProgrammeTargetAtLeast != nil && (ed.ProgrammeTarget == nil || *ed.ProgrammeTarget < *c.ProgrammeTargetAtLeast)) ||
				(c.SeniorClass && !ed.SeniorClass) || (c.PreparatoryTechnician && !ed.PreparatoryTechnician) {
				continue
			}
			cr.Actual = fmt.Sprintf("%s, %s, %s", ed.SchoolKind, ed.Speciality, ed.Date.Format("2006-01-02"))
			if ed.FinalYear {
				cr.Actual += " (final year)"
			}
			cr.Evidence = []events.Ref{ed.Ref}
			cr.Met = c.YearsSince == 0 || e.since(&cr, trades, ed.Date, c.YearsSince)
			break
		}
	case KindTitle:
		cr.Required = c.Tier + " professional title (or higher)"
		if c.YearsSince > 0 {
			cr.Required += fmt.Sprintf(" + ≥ %s years of work since", fmtYears(c.YearsSince))
		}
		cr.Actual = "no professional title"
		need := titleRank(c.Tier)
		for _, t := range e.s.Titles {
			if titleRank(t.Tier) < need || !slices.Contains(trades, t.Trade) {
				continue
			}
			cr.Actual = fmt.Sprintf("%s title %s since %s", t.Tier, t.Title, t.Date.Format("2006-01-02"))
			cr.Evidence = []events.Ref{t.Ref}
			cr.Met = c.YearsSince == 0 || e.since(&cr, trades, t.Date, c.YearsSince)
			break
		}
	case KindTrainingHours:
		from := time.Time{}
		cr.Required = fmt.Sprintf("≥ %s hours of training in %s", fmtYears(c.Hours), scope)
		if c.WithinYears > 0 {
			from = e.at.AddDate(0, 0, -career.RequiredDays(c.WithinYears))
			cr.Required += fmt.Sprintf(" within %s years", fmtYears(c.WithinYears))
		}
		if len(c.Modes) > 0 {
			cr.Required += " (" + strings.Join(c.Modes, ", ") + ")"
		}
		h, refs := e.s.TrainingHours(trades, c.Modes, from, e.at)
		cr.Actual = fmt.Sprintf("%s hours", fmtYears(h))
		cr.Evidence = refs
		cr.Met = h >= c.Hours
	case KindCompetition:
		cr.Required = fmt.Sprintf("placed ≤ %d in a %s competition", c.MaxRank, strings.Join(c.Tiers, " / "))
		if c.Track != "" {
			cr.Required += " (" + c.Track + ")"
		}
		cr.Actual = "no qualifying placement"
		for _, pl := range e.s.Competitions {
			if slices.Contains(c.Tiers, pl.Tier) && pl.Rank <= c.MaxRank && (c.Track == "" || c.Track == pl.Track) && slices.Contains(trades, pl.Trade) {
				cr.Met = true
				cr.Actual = fmt.Sprintf("rank %d in %s (%s)", pl.Rank, pl.CompetitionID, pl.Tier)
				cr.Evidence = append(cr.Evidence, pl.Ref)
			}
		}
	case KindHonour:
		cr.Required = fmt.Sprintf("an honour of %s level or above", c.MinLevel)
		cr.Actual = "no qualifying honour"
		var names []string
		for _, h := range e.s.ActiveHonours() {
			if events.RecognitionRank(h.Level) <= events.RecognitionRank(c.MinLevel) {
				cr.Met = true
				names = append(names, fmt.Sprintf("%s (%s, %s)", h.Code, h.Level, h.Date.Format("2006-01-02")))
				cr.Evidence = append(cr.Evidence, h.Ref)
			}
		}
		if cr.Met {
			cr.Actual = strings.Join(names, "; ")
		}
	case KindMentored:
		min, _ := events.ParseLevel(c.MinLevel)
		cr.Required = fmt.Sprintf("≥ %d apprentices mentored to %s or above in %s", c.Count, min.Info().English, scope)
		seen := map[string]bool{}
		for _, m := range e.s.Mentorships {
			if m.Role == "master" && m.Status == career.MentorshipCompleted && m.LevelReached != nil && *m.LevelReached >= min &&
				slices.Contains(trades, m.Trade) && !seen[m.Counterpart] {
				seen[m.Counterpart] = true
				cr.Evidence = append(cr.Evidence, m.Ref)
			}
		}
		cr.Actual = fmt.Sprintf("%d apprentices", len(seen))
		cr.Met = len(seen) >= c.Count
	case KindInnovation:
		cr.Required = fmt.Sprintf("an innovation result of %s level or above", c.MinLevel)
		if len(c.Kinds) > 0 {
			cr.Required += " (" + strings.Join(c.Kinds, ", ") + ")"
		}
		if c.InUse {
			cr.Required += ", put into use"
		}
		cr.Actual = "no qualifying innovation"
		var names []string
		for _, in := range e.s.Innovations {
			if events.RecognitionRank(in.Level) <= events.RecognitionRank(c.MinLevel) && (len(c.Kinds) == 0 || slices.Contains(c.Kinds, in.Kind)) && (!c.InUse || in.InUse) {
				cr.Met = true
				names = append(names, fmt.Sprintf("%s %q (%s)", in.Kind, in.Title, in.Level))
				cr.Evidence = append(cr.Evidence, in.Ref)
			}
		}
		if cr.Met {
			cr.Actual = strings.Join(names, "; ")
		}
	case KindLeadsStudio:
		cr.Required = "leads an innovation studio"
		cr.Actual = "no studio led"
		for _, in := range e.s.Innovations {
			if in.Kind == events.InnovationStudio && in.Role == "leader" {
				cr.Met = true
				cr.Actual = "leads studio " + in.StudioID
				cr.Evidence = append(cr.Evidence, in.Ref)
			}
		}
	case KindUpperGrade:
		cr.Required = c.Grade.Info().English + " appointment"
		if c.YearsSince > 0 {
			cr.Required += fmt.Sprintf(" + ≥ %s years of work since", fmtYears(c.YearsSince))
		}
		cr.Actual = "not appointed"
		for _, a := range e.s.Appointments {
			if a.Grade >= *c.Grade && slices.Contains(trades, a.Trade) {
				cr.Actual = fmt.Sprintf("%s since %s (%s)", a.Grade.Info().English, a.Date.Format("2006-01-02"), a.ApprovalRef)
				cr.Evidence = []events.Ref{a.Ref}
				cr.Met = c.YearsSince == 0 || e.since(&cr, trades, a.Date, c.YearsSince)
				break
			}
		}
	case KindNOf:
		cr.Required = fmt.Sprintf("%d of %d", c.N, len(c.Of))
		met := 0
		var dates []time.Time
		for i := range c.Of {
			sub := e.criterion(&c.Of[i])
			cr.Of = append(cr.Of, sub)
			if sub.Met {
				met++
				cr.Evidence = append(cr.Evidence, sub.Evidence...)
			} else if sub.EarliestDate != nil {
				dates = append(dates, *sub.EarliestDate)
			}
		}
		cr.Actual = fmt.Sprintf("%d of %d hold", met, len(c.Of))
		cr.Met = met >= c.N
		if short := c.N - met; !cr.Met && len(dates) >= short {
			slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
			cr.EarliestDate = datePtr(dates[short-1])
		}
	}
	if cr.Label == "" {
		cr.Label = cr.Required
	}
	return cr
}

func titleRank(tier string) int {
	switch tier {
	case events.TitleJunior:
		return 1
	case events.TitleIntermediate:
		return 2
	case events.TitleSenior:
		return 3
	}
	return 0
}
