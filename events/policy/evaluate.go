package policy

import (
	"fmt"
	"slices"
	"strconv"
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
	return evaluate(s, p, trade, target, at, false)
}

// EvaluateBrief is Evaluate without the criteria: every route's Criteria
// is nil, and every other field is exactly Evaluate's (eligible, routes
// met, what is missing, earliest dates). For answers that show no
// criterion (a pathway's next levels, most often): the criteria's results,
// their evidence and part of their texts are not built.
func EvaluateBrief(s *career.State, p *Policy, trade string, target events.Level, at time.Time) Result {
	return evaluate(s, p, trade, target, at, true)
}

func evaluate(s *career.State, p *Policy, trade string, target events.Level, at time.Time, brief bool) Result {
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
	ev := evaluator{s: s, p: p, trade: trade, at: at, brief: brief}
	r.Routes = make([]RouteResult, 0, len(rule.Routes))
	// One array holds every route's criteria (each route's slice capped at
	// its own length): one allocation instead of one per route.
	var crits []CriterionResult
	if !brief {
		total := 0
		for _, route := range rule.Routes {
			total += len(route.Criteria)
		}
		crits = make([]CriterionResult, 0, total)
	}
	for _, route := range rule.Routes {
		rr := RouteResult{ID: route.ID, Label: route.Label, Met: true}
		if !brief {
			off := len(crits)
			crits = crits[:off+len(route.Criteria)]
			rr.Criteria = crits[off : off : off+len(route.Criteria)]
		}
		var latest time.Time
		timeOnly := true
		for i := range route.Criteria {
			cr := ev.criterion(&route.Criteria[i])
			if !brief {
				rr.Criteria = append(rr.Criteria, cr)
			}
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
	// work caches the merged employment: [0] this trade, [1] with related trades.
	work [2]*career.Work
	// brief: the criteria's results are not kept (EvaluateBrief), so
	// their evidence and sub-criteria need not be built.
	brief bool
}

func (e *evaluator) workIn(sameOnly bool) *career.Work {
	i := 1
	if sameOnly || len(e.p.RelatedTrades[e.trade]) == 0 {
		i = 0
	}
	if e.work[i] == nil {
		e.work[i] = e.s.Work(e.p.Trades(e.trade, i == 0), e.at)
	}
	return e.work[i]
}

func datePtr(t time.Time) *time.Time { return &t }

func yearsStr(days int) string {
	return strconv.FormatFloat(float64(days)/career.DaysPerYear, 'f', 2, 64) + " years (" + strconv.Itoa(days) + " days)"
}

func fmtYears(y float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconv.FormatFloat(y, 'f', 2, 64), "0"), ".")
}

// since evaluates "≥ years of work since from" into cr.
func (e *evaluator) since(cr *CriterionResult, w *career.Work, from time.Time, years float64) bool {
	need := career.RequiredDaysFrom(from, years)
	have := w.Days(from)
	if !e.brief {
		cr.Actual += "; " + yearsStr(have) + " of work since " + ymd(from)
		ev := make([]events.Ref, 0, len(cr.Evidence)+len(w.Evidence()))
		cr.Evidence = append(append(ev, cr.Evidence...), w.Evidence()...)
	}
	if have >= need {
		return true
	}
	if d, ok := w.DateWhen(from, need); ok {
		cr.EarliestDate = datePtr(d)
	}
	return false
}

func (e *evaluator) criterion(c *Criterion) CriterionResult {
	trades := e.p.Trades(e.trade, c.SameTradeOnly)
	cr := CriterionResult{Kind: c.Kind, Label: c.Label, Required: c.required(len(trades) > 1)}
	switch c.Kind {
	case KindYearsOfWork:
		w := e.workIn(c.SameTradeOnly)
		need := career.RequiredDaysFrom(w.Anchor(), c.Years)
		have := w.Days(time.Time{})
		cr.Actual = yearsStr(have) + " of " + strconv.Itoa(need) + " days needed"
		cr.Evidence = w.Evidence()
		cr.Met = have >= need
		if !cr.Met {
			if d, ok := w.DateWhen(time.Time{}, need); ok {
				cr.EarliestDate = datePtr(d)
			}
		}
	case KindLevel:
		lh, ok := e.s.LevelSince(trades, *c.Level)
		if !ok {
			if h, any := e.s.HighestLevel(trades); any {
				cr.Actual = "highest: " + h.Level.Info().English + " since " + ymd(h.Since)
			} else {
				cr.Actual = "no certificate"
			}
			break
		}
		cr.Actual = lh.Level.Info().English + " since " + ymd(lh.Since) + " (certificate " + lh.CertificateNumber + ")"
		cr.Evidence = []events.Ref{lh.Ref}
		cr.Met = c.YearsSince == 0 || e.since(&cr, e.workIn(c.SameTradeOnly), lh.Since, c.YearsSince)
	case KindApprenticeship:
		cr.Actual = "none"
		for _, m := range e.s.Mentorships {
			if m.Role == "apprentice" && m.Status == career.MentorshipCompleted && slices.Contains(trades, m.Trade) &&
				(len(c.Kinds) == 0 || slices.Contains(c.Kinds, m.Kind)) {
				cr.Met = true
				cr.Actual = m.Kind + " " + m.ID + " completed " + ymd(m.Ended)
				cr.Evidence = append(cr.Evidence, m.Ref)
				if m.EndEvidence != nil {
					cr.Evidence = append(cr.Evidence, *m.EndEvidence)
				}
				break
			}
		}
	case KindAge:
		birth, err := time.Parse("2006-01-02", e.s.BirthDate)
		if err != nil {
			cr.Actual = "birth date not recorded"
			break
		}
		turns := birth.AddDate(c.MinAge, 0, 0)
		today := career.CivilDate(e.at)
		age := today.Year() - birth.Year()
		if today.Before(birth.AddDate(age, 0, 0)) {
			age--
		}
		cr.Actual = "aged " + strconv.Itoa(age)
		working := !c.Working
		if c.Working {
			for _, code := range trades {
				if t, ok := e.s.Trades[code]; ok && !t.EnteredOn.After(e.at) {
					working = true
					cr.Actual += ", in trade " + code + " since " + ymd(t.EnteredOn)
					cr.Evidence = append(cr.Evidence, e.s.WorkEvidence([]string{code})...)
				}
			}
			if !working {
				cr.Actual += ", not in the trade"
			}
		}
		cr.Met = working && !today.Before(turns)
		if !cr.Met && working {
			cr.EarliestDate = datePtr(turns)
		}
	case KindSchool:
		cr.Actual = "no matching education"
		for _, ed := range e.s.Education {
			if !slices.Contains(c.SchoolKinds, ed.SchoolKind) || (!c.AnySpeciality && !slices.Contains(trades, ed.Trade)) ||
				(c.ProgrammeTargetAtLeast != nil && (ed.ProgrammeTarget == nil || *ed.ProgrammeTarget < *c.ProgrammeTargetAtLeast)) ||
				(c.SeniorClass && !ed.SeniorClass) || (c.PreparatoryTechnician && !ed.PreparatoryTechnician) {
				continue
			}
			cr.Actual = ed.SchoolKind + ", " + ed.Speciality + ", " + ymd(ed.Date)
			if ed.FinalYear {
				cr.Actual += " (final year)"
			}
			cr.Evidence = []events.Ref{ed.Ref}
			cr.Met = c.YearsSince == 0 || e.since(&cr, e.workIn(c.SameTradeOnly), ed.Date, c.YearsSince)
			break
		}
	case KindTitle:
		cr.Actual = "no professional title"
		need := titleRank(c.Tier)
		for _, t := range e.s.Titles {
			if titleRank(t.Tier) < need || !slices.Contains(trades, t.Trade) {
				continue
			}
			cr.Actual = t.Tier + " title " + t.Title + " since " + ymd(t.Date)
			cr.Evidence = []events.Ref{t.Ref}
			cr.Met = c.YearsSince == 0 || e.since(&cr, e.workIn(c.SameTradeOnly), t.Date, c.YearsSince)
			break
		}
	case KindTrainingHours:
		from := time.Time{}
		if c.WithinYears > 0 {
			from = career.YearsLater(e.at, -c.WithinYears) // the same civil date withinYears earlier
		}
		h, refs := e.s.TrainingHours(trades, c.Modes, from, e.at)
		cr.Actual = fmtYears(h) + " hours"
		cr.Evidence = refs
		cr.Met = h >= c.Hours
	case KindCompetition:
		cr.Actual = "no qualifying placement"
		for _, pl := range e.s.Competitions {
			if slices.Contains(c.Tiers, pl.Tier) && pl.Rank <= c.MaxRank && (c.Track == "" || c.Track == pl.Track) && slices.Contains(trades, pl.Trade) {
				cr.Met = true
				cr.Actual = fmt.Sprintf("rank %d in %s (%s)", pl.Rank, pl.CompetitionID, pl.Tier)
				cr.Evidence = append(cr.Evidence, pl.Ref)
			}
		}
	case KindHonour:
		cr.Actual = "no qualifying honour"
		var names []string
		for _, h := range e.s.ActiveHonours() {
			if events.RecognitionRank(h.Level) <= events.RecognitionRank(c.MinLevel) {
				cr.Met = true
				names = append(names, fmt.Sprintf("%s (%s, %s)", h.Code, h.Level, ymd(h.Date)))
				cr.Evidence = append(cr.Evidence, h.Ref)
			}
		}
		if cr.Met {
			cr.Actual = strings.Join(names, "; ")
		}
	case KindMentored:
		min, _ := events.ParseLevel(c.MinLevel)
		seen := map[string]bool{}
		for _, m := range e.s.Mentorships {
			if m.Role == "master" && m.Status == career.MentorshipCompleted && m.LevelReached != nil && *m.LevelReached >= min &&
				slices.Contains(trades, m.Trade) && !seen[m.Counterpart] {
				seen[m.Counterpart] = true
				cr.Evidence = append(cr.Evidence, m.Ref)
			}
		}
		cr.Actual = strconv.Itoa(len(seen)) + " apprentices"
		cr.Met = len(seen) >= c.Count
	case KindInnovation:
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
		cr.Actual = "no studio led"
		for _, in := range e.s.Innovations {
			if in.Kind == events.InnovationStudio && in.Role == "leader" {
				cr.Met = true
				cr.Actual = "leads studio " + in.StudioID
				cr.Evidence = append(cr.Evidence, in.Ref)
			}
		}
	case KindUpperGrade:
		cr.Actual = "not appointed"
		for _, a := range e.s.Appointments {
			if a.Grade >= *c.Grade && slices.Contains(trades, a.Trade) {
				cr.Actual = fmt.Sprintf("%s since %s (%s)", a.Grade.Info().English, ymd(a.Date), a.ApprovalRef)
				cr.Evidence = []events.Ref{a.Ref}
				cr.Met = c.YearsSince == 0 || e.since(&cr, e.workIn(c.SameTradeOnly), a.Date, c.YearsSince)
				break
			}
		}
	case KindNOf:
		met := 0
		var dates []time.Time
		if len(c.Of) > 0 && !e.brief {
			cr.Of = make([]CriterionResult, 0, len(c.Of))
		}
		for i := range c.Of {
			sub := e.criterion(&c.Of[i])
			if !e.brief {
				cr.Of = append(cr.Of, sub)
			}
			if sub.Met {
				met++
				if !e.brief {
					cr.Evidence = append(cr.Evidence, sub.Evidence...)
				}
			} else if sub.EarliestDate != nil {
				dates = append(dates, *sub.EarliestDate)
			}
		}
		cr.Actual = strconv.Itoa(met) + " of " + strconv.Itoa(len(c.Of)) + " hold"
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

// required is the text of what c requires, cached by prepare.
func (c *Criterion) required(related bool) string {
	i := 0
	if related {
		i = 1
	}
	if c.req[i] != "" {
		return c.req[i]
	}
	return c.describe(related)
}

// prepare caches the required texts of c and its sub-criteria.
func (c *Criterion) prepare() {
	c.req = [2]string{c.describe(false), c.describe(true)}
	for i := range c.Of {
		c.Of[i].prepare()
	}
}

func (c *Criterion) describe(related bool) string {
	scope := "this trade"
	if related && !c.SameTradeOnly {
		scope = "this or a related trade"
	}
	since := ""
	if c.YearsSince > 0 {
		since = " + ≥ " + fmtYears(c.YearsSince) + " years of work since"
	}
	var b strings.Builder
	switch c.Kind {
	case KindYearsOfWork:
		return "≥ " + fmtYears(c.Years) + " years of work in " + scope
	case KindLevel:
		return c.Level.Info().English + " certificate (or higher) in " + scope + since
	case KindApprenticeship:
		return "completed apprenticeship in " + scope
	case KindAge:
		if c.Working {
			return fmt.Sprintf("aged ≥ %d and working (or about to work) in %s", c.MinAge, scope)
		}
		return fmt.Sprintf("aged ≥ %d", c.MinAge)
	case KindSchool:
		b.WriteString("graduate of " + strings.Join(c.SchoolKinds, " / "))
		if !c.AnySpeciality {
			b.WriteString(" in the speciality")
		}
		if c.ProgrammeTargetAtLeast != nil {
			b.WriteString(", programme targeting " + c.ProgrammeTargetAtLeast.Info().English + " skills or above")
		}
		if c.SeniorClass {
			b.WriteString(", senior class")
		}
		if c.PreparatoryTechnician {
			b.WriteString(", preparatory-technician certificate")
		}
		b.WriteString(since)
		return b.String()
	case KindTitle:
		return c.Tier + " professional title (or higher)" + since
	case KindTrainingHours:
		b.WriteString("≥ " + fmtYears(c.Hours) + " hours of training in " + scope)
		if c.WithinYears > 0 {
			b.WriteString(" within " + fmtYears(c.WithinYears) + " years")
		}
		if len(c.Modes) > 0 {
			b.WriteString(" (" + strings.Join(c.Modes, ", ") + ")")
		}
		return b.String()
	case KindCompetition:
		b.WriteString(fmt.Sprintf("placed ≤ %d in a %s competition", c.MaxRank, strings.Join(c.Tiers, " / ")))
		if c.Track != "" {
			b.WriteString(" (" + c.Track + ")")
		}
		return b.String()
	case KindHonour:
		return "an honour of " + c.MinLevel + " level or above"
	case KindMentored:
		min, _ := events.ParseLevel(c.MinLevel)
		return fmt.Sprintf("≥ %d apprentices mentored to %s or above in %s", c.Count, min.Info().English, scope)
	case KindInnovation:
		b.WriteString("an innovation result of " + c.MinLevel + " level or above")
		if len(c.Kinds) > 0 {
			b.WriteString(" (" + strings.Join(c.Kinds, ", ") + ")")
		}
		if c.InUse {
			b.WriteString(", put into use")
		}
		return b.String()
	case KindLeadsStudio:
		return "leads an innovation studio"
	case KindUpperGrade:
		return c.Grade.Info().English + " appointment" + since
	case KindNOf:
		return fmt.Sprintf("%d of %d", c.N, len(c.Of))
	}
	return c.Kind
}

// ymd formats t's civil date (career.CivilDate) as YYYY-MM-DD without
// time.Format's cost.
func ymd(t time.Time) string {
	y, m, d := career.CivilDate(t).Date()
	var b [10]byte
	b[0], b[1], b[2], b[3] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4], b[7] = '-', '-'
	b[5], b[6] = byte('0'+int(m)/10), byte('0'+int(m)%10)
	b[8], b[9] = byte('0'+d/10), byte('0'+d%10)
	return string(b[:])
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
