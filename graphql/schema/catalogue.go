package schema

import (
	"sort"
	"strconv"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
)

type academyNode struct {
	id      string
	reg     *events.AcademyRegistered
	courses []events.CourseAdded
}

type competitionNode struct {
	id         string
	def        *events.CompetitionDefined
	placements int
}

type policyNode struct {
	p   *policy.Policy
	rec *events.Recorded // nil for a built-in default
}

func (b *builder) catalogueFields(f graphql.Fields, tradeT, levelT *graphql.Object) {
	courseT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Course",
		Fields: graphql.Fields{
			"id":    fieldOf(graphql.NewNonNull(graphql.String), "", func(c events.CourseAdded) any { return c.CourseID }),
			"title": fieldOf(graphql.NewNonNull(graphql.String), "", func(c events.CourseAdded) any { return c.Title }),
			"trade": fieldOf(graphql.NewNonNull(tradeT), "", func(c events.CourseAdded) any { return c.Trade }),
			"hours": fieldOf(graphql.NewNonNull(graphql.Float), "", func(c events.CourseAdded) any { return c.Hours }),
			"mode":  fieldOf(graphql.NewNonNull(graphql.String), "", func(c events.CourseAdded) any { return c.Mode }),
			"targetLevel": fieldOf(levelT, "", func(c events.CourseAdded) any {
				if c.TargetLevel == nil {
					return nil
				}
				return *c.TargetLevel
			}),
		},
	})
	academyT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Academy",
		Description: "A craftsman academy (工匠学院).",
		Fields: graphql.Fields{
			"id": fieldOf(graphql.NewNonNull(graphql.String), "", func(a *academyNode) any { return a.id }),
			"name": fieldOf(graphql.String, "", func(a *academyNode) any {
				if a.reg == nil {
					return nil
				}
				return a.reg.Name
			}),
			"kind": fieldOf(graphql.String, "enterprise, college or union_school.", func(a *academyNode) any {
				if a.reg == nil {
					return nil
				}
				return a.reg.Kind
			}),
			"region": fieldOf(graphql.String, "", func(a *academyNode) any {
				if a.reg == nil {
					return nil
				}
				return a.reg.Region
			}),
			"courses": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(courseT))), "", func(a *academyNode) any { return a.courses }),
		},
	})
	competitionT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Competition",
		Fields: graphql.Fields{
			"id": fieldOf(graphql.NewNonNull(graphql.String), "", func(c *competitionNode) any { return c.id }),
			"name": fieldOf(graphql.String, "", func(c *competitionNode) any {
				if c.def == nil {
					return nil
				}
				return c.def.Name
			}),
			"tier": fieldOf(graphql.String, "", func(c *competitionNode) any {
				if c.def == nil {
					return nil
				}
				return c.def.Tier
			}),
			"year": fieldOf(graphql.Int, "", func(c *competitionNode) any {
				if c.def == nil {
					return nil
				}
				return c.def.Year
			}),
			"trades": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(tradeT))), "", func(c *competitionNode) any {
				if c.def == nil {
					return []events.Trade{}
				}
				return c.def.Trades
			}),
			"tracks": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "", func(c *competitionNode) any {
				if c.def == nil {
					return []string{}
				}
				return c.def.Tracks
			}),
			"placements": fieldOf(graphql.NewNonNull(graphql.Int), "Published placements.", func(c *competitionNode) any { return c.placements }),
			"rules": fieldOf(graphql.String, "The competition's promotion and honour rules, JSON.", func(c *competitionNode) any {
				if c.def == nil {
					return nil
				}
				return jsonOf(c.def.Rules)
			}),
		},
	})
	policyT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Policy",
		Description: "A version of a promotion policy: a built-in default or one published on the ledger.",
		Fields: graphql.Fields{
			"name":          fieldOf(graphql.NewNonNull(graphql.String), "", func(p policyNode) any { return p.p.Name }),
			"version":       fieldOf(graphql.NewNonNull(graphql.Int), "", func(p policyNode) any { return p.p.Version }),
			"label":         fieldOf(graphql.String, "", func(p policyNode) any { return nilIfEmpty(p.p.Label) }),
			"owner":         fieldOf(graphql.String, "national_standard, enterprise, region or academy.", func(p policyNode) any { return nilIfEmpty(p.p.Owner) }),
			"effectiveFrom": fieldOf(graphql.NewNonNull(graphql.String), "", func(p policyNode) any { return p.p.EffectiveFrom }),
			"builtIn":       fieldOf(graphql.NewNonNull(graphql.Boolean), "A default shipped with craftledger rather than published on the ledger.", func(p policyNode) any { return p.rec == nil }),
			"document":      fieldOf(graphql.NewNonNull(graphql.String), "The rules, JSON.", func(p policyNode) any { return jsonOf(p.p) }),
			"recordedAt": fieldOf(graphql.DateTime, "", func(p policyNode) any {
				if p.rec == nil {
					return nil
				}
				return p.rec.RecordedAt
			}),
			"evidence": fieldOf(graphql.String, "stream@revision of the publishing event.", func(p policyNode) any {
				if p.rec == nil {
					return nil
				}
				return p.rec.Stream + "@" + itoa(p.rec.Revision)
			}),
		},
	})
	asOfOnly := viewArgs(graphql.FieldConfigArgument{"asOf": {Type: graphql.String, Description: "Only events recorded by then."}})
	f["academies"] = &graphql.Field{
		Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(academyT))), Description: "Every academy (public).", Args: asOfOnly,
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			asOf, _, err := argTime(p, "asOf", true)
			if err != nil {
				return nil, err
			}
			out := []*academyNode{}
			for _, a := range b.d.Model.Academies() {
				n := &academyNode{id: a.ID}
				for _, r := range a.Records {
					if !asOf.IsZero() && r.RecordedAt.After(asOf) {
						continue
					}
					switch p := r.Payload.(type) {
					case events.AcademyRegistered:
						n.reg = &p
					case events.CourseAdded:
						n.courses = append(n.courses, p)
					}
				}
				if n.reg != nil {
					out = append(out, n)
				}
			}
			return out, nil
		}),
	}
	f["competitions"] = &graphql.Field{
		Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(competitionT))), Description: "Every competition (public).", Args: asOfOnly,
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			asOf, _, err := argTime(p, "asOf", true)
			if err != nil {
				return nil, err
			}
			out := []*competitionNode{}
			for _, c := range b.d.Model.Competitions() {
				n := &competitionNode{id: c.ID}
				for _, r := range c.Records {
					if !asOf.IsZero() && r.RecordedAt.After(asOf) {
						continue
					}
					switch p := r.Payload.(type) {
					case events.CompetitionDefined:
						n.def = &p
					case events.CompetitionResultsPublished:
						n.placements += len(p.Placements)
					}
				}
				if n.def != nil {
					out = append(out, n)
				}
			}
			return out, nil
		}),
	}
	f["policies"] = &graphql.Field{
		Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(policyT))), Description: "The policy versions known (built-in defaults and those published on the ledger by asOf), by name then version (public). Which one is in force at a date is the latest version effective by then.", Args: asOfOnly,
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			asOf, _, err := argTime(p, "asOf", true)
			if err != nil {
				return nil, err
			}
			set, err := b.policySet(asOf)
			if err != nil {
				return nil, err
			}
			published := map[string]*events.Recorded{}
			for name, recs := range b.d.Model.Policies() {
				for k := range recs {
					if pp, ok := recs[k].Payload.(events.PolicyPublished); ok {
						published[name+"#"+strconv.Itoa(pp.Version)] = &recs[k]
					}
				}
			}
			out := []policyNode{}
			for _, p := range set.Versions() {
				out = append(out, policyNode{p: p, rec: published[p.Name+"#"+strconv.Itoa(p.Version)]})
			}
			sort.Slice(out, func(i, j int) bool {
				if out[i].p.Name != out[j].p.Name {
					return out[i].p.Name < out[j].p.Name
				}
				return out[i].p.Version < out[j].p.Version
			})
			return out, nil
		}),
	}
	f["trades"] = &graphql.Field{
		Type: graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(tradeT))), Description: "Every trade named in the ledger (public), by code.",
		Args: viewArgs(nil),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			seen := map[string]events.Trade{}
			add := func(t events.Trade) {
				if old, ok := seen[t.Code]; !ok || old.Name == "" {
					seen[t.Code] = t
				}
			}
			for _, a := range b.d.Model.Academies() {
				for _, r := range a.Records {
					if c, ok := r.Payload.(events.CourseAdded); ok {
						add(c.Trade)
					}
				}
			}
			for _, c := range b.d.Model.Competitions() {
				for _, r := range c.Records {
					if d, ok := r.Payload.(events.CompetitionDefined); ok {
						for _, t := range d.Trades {
							add(t)
						}
					}
				}
			}
			b.d.Model.Summaries(func(_ string, s readmodel.Summary) bool {
				for code := range s.Levels {
					add(events.Trade{Code: code})
				}
				return true
			})
			out := make([]events.Trade, 0, len(seen))
			for _, t := range seen {
				out = append(out, t)
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
			return out, nil
		}),
	}
}
