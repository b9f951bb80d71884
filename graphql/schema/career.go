package schema

import (
	"fmt"
	"sync"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/errs"
)

// policies caches parsed policies: the defaults once, each published
// version once (by event id), and the live set until a policy is published.
type policies struct {
	defaults []*policy.Policy
	mu       sync.Mutex
	parsed   map[string]*policy.Policy // event id -> parsed (nil: unparsable)
	live     *policy.Set
	liveN    int // policy events the live set was built from
}

func newPolicies() (*policies, error) {
	defs, err := policy.Defaults()
	if err != nil {
		return nil, errs.E(errs.Internal, "default policies: %v", err)
	}
	return &policies{defaults: defs, parsed: map[string]*policy.Policy{}}, nil
}

// policySet is the default templates plus every policy version published
// on the ledger (recorded by asOf, all when asOf is zero).
func (b *builder) policySet(asOf time.Time) (*policy.Set, error) {
	all := b.d.Model.Policies()
	n := 0
	for _, recs := range all {
		n += len(recs)
	}
	c := b.pol
	c.mu.Lock()
	defer c.mu.Unlock()
	if asOf.IsZero() && c.live != nil && c.liveN == n {
		return c.live, nil
	}
	set, err := policy.NewSet(c.defaults...)
	if err != nil {
		return nil, errs.E(errs.Internal, "default policies: %v", err)
	}
	for _, recs := range all {
		for _, r := range recs {
			pp, ok := r.Payload.(events.PolicyPublished)
			if !ok || (!asOf.IsZero() && r.RecordedAt.After(asOf)) {
				continue
			}
			p, seen := c.parsed[r.ID]
			if !seen {
				p, _ = policy.FromEvent(pp) // the publishing service validated it; a bad one is skipped
				c.parsed[r.ID] = p
			}
			if p != nil {
				_ = set.Add(p) // a version that repeats a default is ignored
			}
		}
	}
	if asOf.IsZero() {
		c.live, c.liveN = set, n
	}
	return set, nil
}

// careerState folds the craftsman's career once per request (pathway and
// eligibility share it), as of the view's asOf or now (as recorded).
//
// With occurredBy the career is the domain's "as occurred" view at that
// instant: everything recorded until now, or by asOf when given
// (corrections and back-filled records included), about facts that had
// occurred by then (and by asOf).
func (b *builder) careerState(c *craftsmanNode) (*career.State, time.Time) {
	c.once.Do(func() {
		if !c.occ.IsZero() {
			// Corrections count from what they correct: every record
			// (by asOf) is folded, the facts kept by their occurrence.
			c.at = c.occ
			recs := c.model.Records(c.id)
			if !c.asOf.IsZero() {
				recs = readmodel.RecordedBy(recs, c.asOf, time.Time{})
				if c.asOf.Before(c.at) {
					c.at = c.asOf
				}
			}
			c.state = career.Fold(recs, c.at, career.AsOccurred)
			return
		}
		c.at = c.asOf
		if c.at.IsZero() {
			c.at = b.d.Now().UTC()
		}
		if c.asOf.IsZero() && c.occ.IsZero() && c.viewToo {
			// One fold for the view's levels and the pathway (see
			// View.CareerAt), when both read the same records.
			v, recs := c.view(), c.records()
			if n := len(recs); n == len(v.Records) && n > 0 && v.Records[n-1].ID == recs[n-1].ID {
				if st, ok := v.CareerAt(c.at); ok {
					c.state = st
					return
				}
			}
		}
		c.state = career.Fold(c.records(), c.at, career.AsRecorded)
	})
	return c.state, c.at
}

// careerFields adds pathway and eligibility (events/policy) to Craftsman.
func (b *builder) careerFields(craftsmanT, levelT, refT *graphql.Object) {
	var criterionT *graphql.Object
	criterionT = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Criterion",
		Description: "One condition of a route: required, actual, met, evidence.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"kind":         fieldOf(graphql.NewNonNull(graphql.String), "", func(c policy.CriterionResult) any { return c.Kind }),
				"label":        fieldOf(graphql.NewNonNull(graphql.String), "", func(c policy.CriterionResult) any { return c.Label }),
				"required":     fieldOf(graphql.NewNonNull(graphql.String), "", func(c policy.CriterionResult) any { return c.Required }),
				"actual":       fieldOf(graphql.NewNonNull(graphql.String), "", func(c policy.CriterionResult) any { return c.Actual }),
				"met":          fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c policy.CriterionResult) any { return c.Met }),
				"evidence":     fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(refT))), "", func(c policy.CriterionResult) any { return nonNilRefs(c.Evidence) }),
				"earliestDate": fieldOf(graphql.DateTime, "When time alone makes it hold.", func(c policy.CriterionResult) any { return timePtr(c.EarliestDate) }),
				"of":           fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(criterionT))), "Sub-criteria (any/all of).", func(c policy.CriterionResult) any { return c.Of }),
			}
		}),
	})
	routeT := graphql.NewObject(graphql.ObjectConfig{
		Name: "Route",
		Fields: graphql.Fields{
			"id":           fieldOf(graphql.NewNonNull(graphql.String), "", func(r policy.RouteResult) any { return r.ID }),
			"label":        fieldOf(graphql.NewNonNull(graphql.String), "", func(r policy.RouteResult) any { return r.Label }),
			"met":          fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(r policy.RouteResult) any { return r.Met }),
			"missing":      fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(graphql.String))), "", func(r policy.RouteResult) any { return nonNilStrings(r.Missing) }),
			"earliestDate": fieldOf(graphql.DateTime, "", func(r policy.RouteResult) any { return timePtr(r.EarliestDate) }),
			"criteria":     fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(criterionT))), "", func(r policy.RouteResult) any { return r.Criteria }),
		},
	})
	eligT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Eligibility",
		Description: "Whether the craftsman may apply for a level, explained route by route.",
		Fields: graphql.Fields{
			"trade":         fieldOf(graphql.NewNonNull(graphql.String), "", func(r policy.Result) any { return r.Trade }),
			"target":        fieldOf(graphql.NewNonNull(levelT), "", func(r policy.Result) any { return r.Target }),
			"held":          fieldOf(graphql.NewNonNull(levelT), "", func(r policy.Result) any { return r.Held }),
			"at":            fieldOf(graphql.NewNonNull(graphql.DateTime), "", func(r policy.Result) any { return r.At }),
			"eligible":      fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(r policy.Result) any { return r.Eligible }),
			"alreadyHeld":   fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(r policy.Result) any { return r.AlreadyHeld }),
			"policy":        fieldOf(graphql.NewNonNull(graphql.String), "", func(r policy.Result) any { return r.Policy }),
			"policyVersion": fieldOf(graphql.NewNonNull(graphql.Int), "", func(r policy.Result) any { return r.PolicyVersion }),
			"reason":        fieldOf(graphql.String, "Why the policy cannot answer, if so.", func(r policy.Result) any { return nilIfEmpty(r.Reason) }),
			"earliestDate":  fieldOf(graphql.DateTime, "When only time is missing: the date of eligibility if nothing else changes.", func(r policy.Result) any { return timePtr(r.EarliestDate) }),
			"routes":        fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(routeT))), "", func(r policy.Result) any { return r.Routes }),
		},
	})
	b.eligibility = eligT
	reachedT := graphql.NewObject(graphql.ObjectConfig{
		Name: "LevelReached",
		Fields: graphql.Fields{
			"level":             fieldOf(graphql.NewNonNull(levelT), "", func(l career.LevelHeld) any { return l.Level }),
			"since":             fieldOf(graphql.NewNonNull(graphql.DateTime), "When it was reached (occurredAt).", func(l career.LevelHeld) any { return l.Since }),
			"via":               fieldOf(graphql.NewNonNull(graphql.String), "certificate or appointment.", func(l career.LevelHeld) any { return l.Via }),
			"certificateNumber": fieldOf(graphql.String, "", func(l career.LevelHeld) any { return nilIfEmpty(l.CertificateNumber) }),
			"route":             fieldOf(graphql.String, "regular or exceptional.", func(l career.LevelHeld) any { return nilIfEmpty(l.Route) }),
			"evidence":          fieldOf(graphql.NewNonNull(refT), "", func(l career.LevelHeld) any { return l.Ref }),
			"supersedes": fieldOf(refT, "The corrected event, when this comes from a correction.", func(l career.LevelHeld) any {
				if l.Supersedes == nil {
					return nil
				}
				return *l.Supersedes
			}),
		},
	})
	pathwayT := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Pathway",
		Description: "A career pathway in one trade: levels reached, and for each next level the routes and what is missing.",
		Fields: graphql.Fields{
			"trade":       fieldOf(graphql.NewNonNull(graphql.String), "", func(p policy.Pathway) any { return p.Trade }),
			"current":     fieldOf(graphql.NewNonNull(levelT), "", func(p policy.Pathway) any { return p.Level }),
			"yearsOfWork": fieldOf(graphql.NewNonNull(graphql.Float), "", func(p policy.Pathway) any { return p.YearsOfWork }),
			"reached":     fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(reachedT))), "", func(p policy.Pathway) any { return p.Reached }),
			"next":        fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(eligT))), "", func(p policy.Pathway) any { return p.Next }),
		},
	})
	policyArg := policiesArg()
	names := policyNames
	craftsmanT.AddFieldConfig("pathway", &graphql.Field{
		Type: pathwayT, Description: "The career pathway in one trade, as of the craftsman's asOf (now by default).",
		Args: graphql.FieldConfigArgument{"trade": {Type: graphql.NewNonNull(graphql.String)}, "policies": policyArg},
		Resolve: func(p graphql.ResolveParams) (any, error) {
			c, ok := p.Source.(*craftsmanNode)
			if !ok {
				return nil, Wrap(errs.E(errs.Internal, "pathway: source is %T", p.Source))
			}
			trade, err := argRequiredString(p, "trade")
			if err != nil {
				return nil, Wrap(err)
			}
			ns, err := names(p)
			if err != nil {
				return nil, Wrap(err)
			}
			set, err := b.knownPolicySet(c.asOf, ns)
			if err != nil {
				return nil, Wrap(err)
			}
			st, at := b.careerState(c)
			if !selects(p.Info.FieldASTs, "next", "routes", "criteria") {
				// Nothing shows a criterion: the next levels are answered
				// without them (policy.PathwayBrief; every field shown is
				// PathwayFor's).
				return policy.PathwayBrief(st, set, ns, trade, at), nil
			}
			return policy.PathwayFor(st, set, ns, trade, at), nil
		},
	})
	craftsmanT.AddFieldConfig("pathways", &graphql.Field{
		Type: graphql.NewList(graphql.NewNonNull(pathwayT)), Description: "The career pathway of every trade held, by occupation code.",
		Args: graphql.FieldConfigArgument{"policies": policyArg},
		Resolve: func(p graphql.ResolveParams) (any, error) {
			c, ok := p.Source.(*craftsmanNode)
			if !ok {
				return nil, Wrap(errs.E(errs.Internal, "pathways: source is %T", p.Source))
			}
			ns, err := names(p)
			if err != nil {
				return nil, Wrap(err)
			}
			set, err := b.knownPolicySet(c.asOf, ns)
			if err != nil {
				return nil, Wrap(err)
			}
			st, at := b.careerState(c)
			return policy.Pathways(st, set, ns, at), nil
		},
	})
	craftsmanT.AddFieldConfig("eligibility", &graphql.Field{
		Type: eligT, Description: "Eligibility for a target level in a trade under the first named policy in force that covers it.",
		Args: graphql.FieldConfigArgument{"trade": {Type: graphql.NewNonNull(graphql.String)}, "target": {Type: graphql.NewNonNull(graphql.String)}, "policies": policyArg},
		Resolve: func(p graphql.ResolveParams) (any, error) {
			c, ok := p.Source.(*craftsmanNode)
			if !ok {
				return nil, Wrap(errs.E(errs.Internal, "eligibility: source is %T", p.Source))
			}
			trade, err := argRequiredString(p, "trade")
			if err != nil {
				return nil, Wrap(err)
			}
			ts, err := argRequiredString(p, "target")
			if err != nil {
				return nil, Wrap(err)
			}
			target, err := events.ParseLevel(ts)
			if err != nil {
				return nil, Wrap(errs.E(errs.InvalidArgument, "argument target: %v", err))
			}
			ns, err := names(p)
			if err != nil {
				return nil, Wrap(err)
			}
			set, err := b.knownPolicySet(c.asOf, ns)
			if err != nil {
				return nil, Wrap(err)
			}
			st, at := b.careerState(c)
			res, ok := evaluate(st, set, ns, trade, target, at)
			if !ok {
				return nil, Wrap(errs.E(errs.NotFound, "no policy among %v covers trade %s and level %s at %s", ns, trade, target, at.Format(time.DateOnly)))
			}
			return res, nil
		},
	})
}

// selects reports whether the sub-selections of fas may select the field
// path (each name a field of the one before): true when some selection
// names it, and whenever a fragment stands where a step of it could be.
func selects(fas []*astField, path ...string) bool {
	if len(path) == 0 {
		return true
	}
	for _, fa := range fas {
		if fa.SelectionSet == nil {
			continue
		}
		for _, sel := range fa.SelectionSet.Selections {
			f, ok := sel.(*astField)
			if !ok {
				return true // a fragment: may select anything
			}
			if f.Name != nil && f.Name.Value == path[0] && selects([]*astField{f}, path[1:]...) {
				return true
			}
		}
	}
	return false
}

func timePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func nonNilRefs(r []events.Ref) []events.Ref {
	if r == nil {
		return []events.Ref{}
	}
	return r
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func policiesArg() *graphql.ArgumentConfig {
	return &graphql.ArgumentConfig{Type: graphql.NewList(graphql.NewNonNull(graphql.String)), Description: "Policy names in order of preference (default template-a, upper-grades)."}
}

func policyNames(p graphql.ResolveParams) ([]string, error) {
	n, err := argStrings(p, "policies")
	if len(n) == 0 {
		n = []string{policy.TemplateA, policy.UpperGrades}
	}
	return n, err
}

// knownPolicySet is the policy set as of asOf (policySet), refusing
// (errs.InvalidArgument) a name in names it has no version of: a mistyped
// name would otherwise answer with no next level and no eligibility,
// silently. The rule is ledgerctl's (audit.KnownPolicies); the message
// names the argument.
func (b *builder) knownPolicySet(asOf time.Time, names []string) (*policy.Set, error) {
	set, err := b.policySet(asOf)
	if err != nil {
		return nil, err
	}
	if err := audit.KnownPolicies(set, names); err != nil {
		return nil, fmt.Errorf("argument policies: %w", err)
	}
	return set, nil
}

// evaluate answers eligibility under the first named policy in force at
// at that covers the trade and the target.
func evaluate(st *career.State, set *policy.Set, names []string, trade string, target events.Level, at time.Time) (policy.Result, bool) {
	res, _, ok := evaluateWith(st, set, names, trade, target, at)
	return res, ok
}

// pick is the first named policy in force at at covering trade and target.
func pick(set *policy.Set, names []string, trade string, target events.Level, at time.Time) (*policy.Policy, string, bool) {
	for _, n := range names {
		pol, ok := set.At(n, at)
		if !ok || !pol.Covers(trade) {
			continue
		}
		if _, ok := pol.Rule(target); !ok {
			continue
		}
		return pol, n, true
	}
	return nil, "", false
}

func evaluateWith(st *career.State, set *policy.Set, names []string, trade string, target events.Level, at time.Time) (policy.Result, *policy.Policy, bool) {
	pol, _, ok := pick(set, names, trade, target, at)
	if !ok {
		return policy.Result{}, nil, false
	}
	return policy.Evaluate(st, pol, trade, target, at), pol, true
}
