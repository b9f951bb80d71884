package schema

import (
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func jsonOf(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// populationItem is one craftsman in a population answer.
type populationItem struct {
	shown shownOnce // what name, personalData and erased show
	id    string
	s     readmodel.Summary
	level events.Level // in the filtered trade (or the highest)
	trade string
	elig  *policy.Result // set when the query asked for eligibility
	// lazy computes elig for the page actually returned, when the index
	// decided membership without a full evaluation.
	lazy func() *policy.Result
	once sync.Once
	// from computes when the member becomes eligible (an eligibleFor
	// answer's page only), on demand.
	from     func() eligibleFrom
	fromOnce sync.Once
	fromVal  *eligibleFrom
}

// eligibleFrom is when a member of an eligibleFor answer becomes
// eligible: now (the query's moment: asOf, else the clock) when eligible
// then already; else the earliest date the answer at that moment gives
// (time alone makes a route hold) when it is by eligibleBy; else
// eligibleBy (facts recorded to occur later, another policy version).
type eligibleFrom struct {
	now  bool
	date time.Time
}

// eligibleFrom is the member's eligibleFrom (nil without eligibleFor).
func (i *populationItem) eligibleFrom() *eligibleFrom {
	i.fromOnce.Do(func() {
		if i.from != nil {
			v := i.from()
			i.fromVal = &v
		}
	})
	return i.fromVal
}

// eligibility is the explained answer (computed on demand).
func (i *populationItem) eligibility() *policy.Result {
	i.once.Do(func() {
		if i.elig == nil && i.lazy != nil {
			i.elig = i.lazy()
		}
	})
	return i.elig
}

type countItem struct {
	Key   string
	Count int
}

type populationFilter struct {
	trade, employer, academy, region string
	minLevel, exactLevel             *events.Level
	eligibleFor                      *events.Level
	eligibleBy                       time.Time
	asOf                             time.Time
	org                              string // an organisation every answer must be linked to (scope or filter)
	scoped                           string // the organisation the caller may see the craftsmen of ("": everyone)
	policies                         []string
	ctx                              context.Context // the request's: bounds any wait (the as-of index's first build)
	set                              *policy.Set     // eligSet's, once built
}

// scope restricts a population query to what the caller may see: HR and
// issuers their organisation, auditors and admins everything, workers
// nothing (refused).
func scope(c auth.Claims, f *populationFilter) (func(readmodel.Summary) bool, error) {
	switch c.Role {
	case auth.RoleAuditor, auth.RoleAdmin:
		if f.employer != "" {
			f.org = f.employer
		} else if f.academy != "" {
			f.org = f.academy
		}
		return func(readmodel.Summary) bool { return true }, nil
	case auth.RoleHR, auth.RoleIssuer:
		if f.employer != "" && f.employer != c.OrgID {
			return nil, errs.E(errs.PermissionDenied, "organisation %s may not list the workers of employer %s", c.OrgID, f.employer)
		}
		org := c.OrgID
		f.org, f.scoped = org, org
		return func(s readmodel.Summary) bool { return s.LinkedTo(org) }, nil
	}
	return nil, errs.E(errs.PermissionDenied, "population queries are for hr, issuers, auditors and admins, not %s", c.Role)
}

// popQuery reads a population query's filter and the caller's scope
// (once per query).
func (b *builder) popQuery(p graphql.ResolveParams) (*populationFilter, func(readmodel.Summary) bool, error) {
	c, err := caller(p.Context)
	if err != nil {
		return nil, nil, err
	}
	f, err := readFilter(p, b.d.Now)
	if err != nil {
		return nil, nil, err
	}
	visible, err := scope(c, f)
	if err != nil {
		return nil, nil, err
	}
	return f, visible, nil
}

func readFilter(p graphql.ResolveParams, now func() time.Time) (*populationFilter, error) {
	f := &populationFilter{ctx: p.Context}
	if f.ctx == nil {
		f.ctx = context.Background()
	}
	var err error
	for name, dst := range map[string]*string{"trade": &f.trade, "employer": &f.employer, "academy": &f.academy, "region": &f.region} {
		if *dst, _, err = argString(p, name); err != nil {
			return nil, err
		}
	}
	for name, dst := range map[string]**events.Level{"minLevel": &f.minLevel, "level": &f.exactLevel, "eligibleFor": &f.eligibleFor} {
		s, ok, err := argString(p, name)
		if err != nil {
			return nil, err
		}
		if ok && s != "" {
			l, err := events.ParseLevel(s)
			if err != nil {
				return nil, errs.E(errs.InvalidArgument, "argument %s: %v", name, err)
			}
			*dst = &l
		}
	}
	if f.asOf, _, err = argTime(p, "asOf", true); err != nil {
		return nil, err
	}
	if f.eligibleFor != nil {
		if f.trade == "" {
			return nil, errs.E(errs.InvalidArgument, "argument eligibleFor needs trade (eligibility is per trade)")
		}
		by, ok, err := argTime(p, "eligibleBy", true)
		if err != nil {
			return nil, err
		}
		if !ok {
			by = now().UTC()
			if !f.asOf.IsZero() {
				by = f.asOf
			}
		}
		f.eligibleBy = by
		if f.policies, err = policyNames(p); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *populationFilter) match(s readmodel.Summary) (events.Level, bool) {
	if f.employer != "" && !slices.Contains(s.Employers, f.employer) {
		return 0, false
	}
	if f.academy != "" && !slices.Contains(s.Academies, f.academy) {
		return 0, false
	}
	if f.region != "" && s.Region != f.region {
		return 0, false
	}
	var lvl events.Level
	if f.trade != "" {
		l, ok := s.Levels[f.trade]
		if !ok {
			return 0, false
		}
		lvl = l
	} else {
		for _, l := range s.Levels {
			lvl = max(lvl, l)
		}
	}
	if f.minLevel != nil && lvl < *f.minLevel {
		return 0, false
	}
	if f.exactLevel != nil && lvl != *f.exactLevel {
		return 0, false
	}
	return lvl, true
}

func filterArgs(extra graphql.FieldConfigArgument) graphql.FieldConfigArgument {
	args := graphql.FieldConfigArgument{
		"trade":       {Type: graphql.String, Description: "Occupation code; levels are read in this trade."},
		"employer":    {Type: graphql.String, Description: "Current employer organisation id."},
		"academy":     {Type: graphql.String, Description: "Academy the craftsman trained at."},
		"region":      {Type: graphql.String},
		"level":       {Type: graphql.String, Description: "Exactly this current level (API name or rank)."},
		"minLevel":    {Type: graphql.String, Description: "At least this current level."},
		"eligibleFor": {Type: graphql.String, Description: "Only craftsmen eligible for this target level in trade (required with it) by eligibleBy, evaluated by the domain's policy engine."},
		"eligibleBy":  {Type: graphql.String, Description: "Date (end of that day, UTC+8) or RFC 3339 time at which eligibility is evaluated (default now)."},
		"policies":    policiesArg(),
		"asOf":        {Type: graphql.String, Description: "Answer from the events recorded by then (levels, employers, academies, regions as they stood); costs a fold of every craftsman."},
	}
	for k, v := range extra {
		args[k] = v
	}
	return viewArgs(args)
}

func (b *builder) populationFields(f graphql.Fields, levelT *graphql.Object) {
	itemT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "PopulationMember",
		Description: "A craftsman in a population answer (live state).",
		Fields: withPersonal(b, "The craftsman was forgotten (PersonalDataErased, or the key destroyed).",
			func(i *populationItem) (*shownOnce, string, string) { return &i.shown, i.s.Name, i.s.Personal }, graphql.Fields{
				"id":        fieldOf(graphql.NewNonNull(graphql.ID), "", func(i *populationItem) any { return i.id }),
				"region":    fieldOf(graphql.String, "", func(i *populationItem) any { return nilIfEmpty(i.s.Region) }),
				"employers": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "", func(i *populationItem) any { return nonNil(i.s.Employers) }),
				"academies": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "", func(i *populationItem) any { return nonNil(i.s.Academies) }),
				"level":     fieldOf(graphql.NewNonNull(levelT), "Current level in the filtered trade (highest over trades without one).", func(i *populationItem) any { return i.level }),
				"eligibility": fieldOf(b.eligibility, "The explained answer when the query asked eligibleFor.", func(i *populationItem) any {
					if e := i.eligibility(); e != nil {
						return *e
					}
					return nil
				}),
				"eligibleNow": fieldOf(graphql.Boolean, "With eligibleFor: already eligible at the query's moment (asOf, else now); null without eligibleFor.", func(i *populationItem) any {
					if e := i.eligibleFrom(); e != nil {
						return e.now
					}
					return nil
				}),
				"eligibleFrom": fieldOf(graphql.DateTime, "With eligibleFor: when the craftsman becomes eligible — the query's moment (asOf, else now) when eligible then already; else the earliest date the answer at that moment gives (time alone makes a route hold), when it is by eligibleBy; else eligibleBy (facts recorded to occur later, or another policy version in force by then). Null without eligibleFor.", func(i *populationItem) any {
					if e := i.eligibleFrom(); e != nil {
						return e.date
					}
					return nil
				}),
			}),
	})
	conn := b.ct.connection("PopulationMember", itemT, nil)
	f["craftsmen"] = &graphql.Field{
		Type:        graphql.NewNonNull(conn),
		Description: "HR population query over the live state: craftsmen by trade, employer, academy, region and level, sorted, paginated. HR and issuers see their organisation's craftsmen; auditors and admins everyone; workers are refused.",
		Args: filterArgs(pageArgs(graphql.FieldConfigArgument{
			"sort": {Type: graphql.String, Description: "id (default), level_desc, level_asc, region."},
		})),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			f, visible, err := b.popQuery(p)
			if err != nil {
				return nil, err
			}
			sortArg, _, err := argString(p, "sort")
			if err != nil {
				return nil, err
			}
			o, err := parseOrder(sortArg)
			if err != nil {
				return nil, err
			}
			return b.craftsmenPage(p, f, visible, o)
		}),
	}
	countT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Count",
		Fields: graphql.Fields{
			"key":   fieldOf(graphql.NewNonNull(graphql.String), "", func(c countItem) any { return c.Key }),
			"count": fieldOf(graphql.NewNonNull(graphql.Int), "", func(c countItem) any { return c.Count }),
		},
	})
	statsT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "PopulationStats",
		Description: "Counts over the craftsmen matching the filter (within the caller's scope).",
		Fields: graphql.Fields{
			"total":     fieldOf(graphql.NewNonNull(graphql.Int), "", func(s *stats) any { return s.total }),
			"byLevel":   fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(countT))), "By current level (API name) in the filtered trade, or the highest.", func(s *stats) any { return s.byLevel }),
			"byTrade":   fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(countT))), "Craftsmen per trade held.", func(s *stats) any { return s.byTrade }),
			"byRegion":  fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(countT))), "", func(s *stats) any { return s.byRegion }),
			"byAcademy": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(countT))), "", func(s *stats) any { return s.byAcademy }),
		},
	})
	f["populationStats"] = &graphql.Field{
		Type:        graphql.NewNonNull(statsT),
		Description: "Counts by level, trade, region and academy (same scope rules as craftsmen).",
		Args:        filterArgs(nil),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			type agg struct {
				total      int
				lv         [events.ChiefTechnician + 1]int
				tr, rg, ac map[string]int // answered from summaries
				trI, rgI   []int          // from rows, by string index
				acI        []int
			}
			inc := func(c *[]int, i uint16) {
				if int(i) >= len(*c) {
					*c = append(*c, make([]int, int(i)+1-len(*c))...)
				}
				(*c)[i]++
			}
			aggs := make([]agg, runtime.GOMAXPROCS(0))
			reset := func() {
				for i := range aggs {
					aggs[i] = agg{tr: map[string]int{}, rg: map[string]int{}, ac: map[string]int{}}
				}
			}
			strs, err := b.visitPopulation(p, len(aggs), reset, func(part int, _ string, s *readmodel.Summary, r *popRow, level events.Level) {
				a := &aggs[part]
				a.total++
				if level.Valid() {
					a.lv[level]++
				}
				if r != nil {
					for _, i := range r.trades[:r.nt] {
						inc(&a.trI, i)
					}
					inc(&a.rgI, r.region)
					for _, i := range r.acads[:r.na] {
						inc(&a.acI, i)
					}
					return
				}
				for code := range s.Levels {
					a.tr[code]++
				}
				a.rg[s.Region]++
				for _, x := range s.Academies {
					a.ac[x]++
				}
			})
			if err != nil {
				return nil, err
			}
			for _, a := range aggs {
				for _, pair := range []struct {
					m map[string]int
					c []int
				}{{a.tr, a.trI}, {a.rg, a.rgI}, {a.ac, a.acI}} {
					for i, n := range pair.c {
						if n > 0 {
							pair.m[strs[i]] += n
						}
					}
				}
			}
			total, byLevel, tr, rg, ac := 0, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
			for _, a := range aggs {
				total += a.total
				for l, n := range a.lv {
					if n > 0 {
						byLevel[events.Level(l).Info().API] += n
					}
				}
				for _, pair := range [][2]map[string]int{{tr, a.tr}, {rg, a.rg}, {ac, a.ac}} {
					for k, n := range pair[1] {
						pair[0][k] += n
					}
				}
			}
			return &stats{total: total, byLevel: counts(byLevel), byTrade: counts(tr), byRegion: counts(rg), byAcademy: counts(ac)}, nil
		}),
	}
}

type stats struct {
	total                                 int
	byLevel, byTrade, byRegion, byAcademy []countItem
}

func counts(m map[string]int) []countItem {
	out := make([]countItem, 0, len(m))
	for k, v := range m {
		out = append(out, countItem{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// visitPopulation calls visit for every craftsman the caller may see that
// matches the filter (eligible ones only with eligibleFor), from up to
// parts goroutines (visit's part says which; a part's calls are
// sequential), after reset; a scan may be run again, reset first.
// Matches visited with a row name their strings by index in strs.
func (b *builder) visitPopulation(p graphql.ResolveParams, parts int, reset func(), visit rowVisit) (strs []string, err error) {
	f, visible, err := b.popQuery(p)
	if err != nil {
		return nil, err
	}
	if ok, err := b.rowScan(f, visible, parts, &strs, reset, visit, nil); err != nil || ok {
		return strs, err
	}
	reset()
	if f.eligibleFor != nil {
		items, err := b.populationOf(f, visible)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			visit(0, it.id, &it.s, nil, it.level)
		}
		return nil, nil
	}
	b.scan(f, visible, parts, func(part int, id string, s readmodel.Summary, lvl events.Level) { visit(part, id, &s, nil, lvl) })
	return nil, nil
}

// scan visits the summaries matching f that visible admits: live ones in
// parallel parts, as-of ones sequentially (part 0).
func (b *builder) scan(f *populationFilter, visible func(readmodel.Summary) bool, parts int, visit func(part int, id string, s readmodel.Summary, lvl events.Level)) {
	if !f.asOf.IsZero() {
		b.asOfEach(f.asOf, visible)(func(id string, s readmodel.Summary) bool {
			if lvl, ok := f.match(s); ok {
				visit(0, id, s, lvl)
			}
			return true
		})
		return
	}
	each := func(part int, id string, s readmodel.Summary) {
		if !visible(s) {
			return
		}
		if lvl, ok := f.match(s); ok {
			visit(part, id, s, lvl)
		}
	}
	// The indexes narrow the scan; visible and f.match still decide.
	b.d.Model.ScanBy(f.trade, f.org, parts, each)
}

// asOfEach iterates the summaries as of asOf of the craftsmen visible
// today (who may be seen is decided on today's links).
func (b *builder) asOfEach(asOf time.Time, visible func(readmodel.Summary) bool) func(func(string, readmodel.Summary) bool) {
	allowed := map[string]bool{}
	b.d.Model.Summaries(func(id string, s readmodel.Summary) bool {
		if visible(s) {
			allowed[id] = true
		}
		return true
	})
	return func(fn func(string, readmodel.Summary) bool) {
		b.d.Model.SummariesAsOf(asOf, func(id string, s readmodel.Summary) bool {
			if !allowed[id] {
				return true
			}
			return fn(id, s)
		})
	}
}

// populationOf collects every match of f that visible admits (eligible
// ones only when f asks eligibleFor): the answer where the rows and the
// eligibility index cannot give it (asOf; see rowScan).
func (b *builder) populationOf(f *populationFilter, visible func(readmodel.Summary) bool) ([]*populationItem, error) {
	parts := make([][]*populationItem, runtime.GOMAXPROCS(0))
	b.scan(f, visible, len(parts), func(part int, id string, s readmodel.Summary, lvl events.Level) {
		if f.eligibleFor == nil || lvl < *f.eligibleFor {
			parts[part] = append(parts[part], &populationItem{id: id, s: s, level: lvl, trade: f.trade})
		}
	})
	var items []*populationItem
	for _, pi := range parts {
		items = append(items, pi...)
	}
	if f.eligibleFor == nil {
		return items, nil
	}
	set, err := b.eligSet(f)
	if err != nil {
		return nil, err
	}
	return b.evaluateAll(items, set, f), nil
}

// evaluateAll keeps the candidates eligible by f.eligibleBy: each one's
// events recorded by f.asOf (all, live) folded as of eligibleBy and
// evaluated, in parallel (the fold and the policy engine are pure). What
// was recorded after asOf is not known as of asOf, whatever it says of
// eligibleBy.
func (b *builder) evaluateAll(items []*populationItem, set *policy.Set, f *populationFilter) []*populationItem {
	target, d := *f.eligibleFor, f.eligibleBy
	records := b.d.Model.Records
	if m, ok := b.d.Model.(recordsOnce); ok {
		// Read once: a scan must not push out the craftsmen held for queries.
		records = func(id string) []events.Recorded { recs, _ := m.RecordsOnce(id); return recs }
	}
	keep := make([]bool, len(items))
	stripes(runtime.GOMAXPROCS(0), len(items), func(int) func(int) {
		return func(i int) {
			it := items[i]
			st := career.Fold(readmodel.RecordedBy(records(it.id), f.asOf, time.Time{}), d, career.AsRecorded)
			if res, ok := evaluate(st, set, f.policies, f.trade, target, d); ok {
				it.elig = &res
				keep[i] = res.Eligible
			}
		}
	})
	out := items[:0]
	for i, it := range items {
		if keep[i] {
			out = append(out, it)
		}
	}
	return out
}

func (b *builder) integrityFields(f graphql.Fields) {
	t := graphql.NewObject(graphql.ObjectConfig{
		Name:        "StreamIntegrity",
		Description: "The hash-chain verdict on one stream.",
		Fields: graphql.Fields{
			"stream": fieldOf(graphql.NewNonNull(graphql.String), "", func(s readmodel.StreamIntegrity) any { return s.Stream }),
			"events": fieldOf(graphql.NewNonNull(graphql.Float), "", func(s readmodel.StreamIntegrity) any { return float64(s.Events) }),
			"status": fieldOf(graphql.NewNonNull(graphql.String), "ok, broken, unchained or unknown.", func(s readmodel.StreamIntegrity) any { return s.Status }),
			"breakAt": fieldOf(graphql.Float, "Revision of the first break.", func(s readmodel.StreamIntegrity) any {
				if s.Status != "broken" {
					return nil
				}
				return float64(s.BreakAt)
			}),
			"reason":    fieldOf(graphql.String, "", func(s readmodel.StreamIntegrity) any { return nilIfEmpty(s.Reason) }),
			"unchained": fieldOf(graphql.NewNonNull(graphql.Int), "Events without a hash.", func(s readmodel.StreamIntegrity) any { return s.Unchained }),
		},
	})
	f["streamIntegrity"] = &graphql.Field{
		Type:        graphql.NewNonNull(t),
		Description: "Hash-chain status of a stream (auditors and admins).",
		Args: viewArgs(graphql.FieldConfigArgument{"stream": {Type: graphql.NewNonNull(graphql.String)},
			"asOf": {Type: graphql.String, Description: "Judge the stream as it was then: its events recorded by then (a date = the end of that day in the ledger's calendar, UTC+8; or an RFC 3339 time)."}}),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			c, err := caller(p.Context)
			if err != nil {
				return nil, err
			}
			if !auth.CanAudit(c) {
				return nil, errs.E(errs.PermissionDenied, "stream integrity is for auditors and admins; role %s may not read it", c.Role)
			}
			s, err := argRequiredString(p, "stream")
			if err != nil {
				return nil, err
			}
			asOf, _, err := argTime(p, "asOf", true)
			if err != nil {
				return nil, err
			}
			si := b.d.Model.Integrity(s, asOf)
			if si.Status == "unknown" {
				if !asOf.IsZero() {
					return nil, errs.E(errs.NotFound, "stream %s has no events recorded by %s", s, asOf.Format(time.RFC3339))
				}
				return nil, errs.E(errs.NotFound, "stream %s", s)
			}
			return si, nil
		}),
	}
}
