package policy

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

//go:embed templates/*.json
var templateFS embed.FS

// Names of the default policies.
const (
	TemplateA   = "template-a"   // 2018 drafting rules ("累计…(含)以上")
	TemplateB   = "template-b"   // newer standards ("满 N 年", title crossover)
	UpperGrades = "upper-grades" // the enterprise's default for principal and chief technician
)

// TemplateJSON returns the raw JSON document of a default policy (to
// publish it as a PolicyPublished event).
func TemplateJSON(name string) ([]byte, error) {
	b, err := templateFS.ReadFile("templates/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("default policy %q: %w", name, err)
	}
	return b, nil
}

// Default returns a default policy by name.
func Default(name string) (*Policy, error) {
	b, err := TemplateJSON(name)
	if err != nil {
		return nil, err
	}
	return ParseNamed(name+".json", b)
}

// Defaults returns templates A and B and the upper-grade default.
func Defaults() ([]*Policy, error) {
	var out []*Policy
	for _, n := range []string{TemplateA, TemplateB, UpperGrades} {
		p, err := Default(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// DemoCompetitions returns the demo competitions of POLICY.md with their
// rule sets, as CompetitionDefined payloads (each validated).
func DemoCompetitions() ([]events.CompetitionDefined, error) {
	b, err := templateFS.ReadFile("templates/competitions.json")
	if err != nil {
		return nil, err
	}
	var out []events.CompetitionDefined
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("demo competitions: %w", err)
	}
	for i, c := range out {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("demo competition %d (%s): %w", i, c.CompetitionID, err)
		}
	}
	return out, nil
}

// FromEvent parses the policy a PolicyPublished event carries and checks
// that its name, version and effective date agree with the event.
func FromEvent(e events.PolicyPublished) (*Policy, error) {
	p, err := ParseNamed(events.PolicyStream(e.Name), e.Document)
	if err != nil {
		return nil, err
	}
	if p.Name != e.Name || p.Version != e.Version || p.EffectiveFrom != e.EffectiveFrom {
		return nil, &events.FieldError{Field: "document", Message: fmt.Sprintf("names %s v%d from %s but the event says %s v%d from %s",
			p.Name, p.Version, p.EffectiveFrom, e.Name, e.Version, e.EffectiveFrom)}
	}
	return p, nil
}

// Set is the versions of one or more policies. At picks, per policy name,
// the version in force at an instant: the highest version whose effective
// date is not after it.
type Set struct {
	versions []*Policy
}

// NewSet builds a set; two policies with the same name and version are an error.
func NewSet(ps ...*Policy) (*Set, error) {
	s := &Set{}
	for _, p := range ps {
		if err := s.Add(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add adds a version.
func (s *Set) Add(p *Policy) error {
	for _, q := range s.versions {
		if q.Name == p.Name && q.Version == p.Version {
			return &events.FieldError{Field: "version", Message: fmt.Sprintf("%s version %d already exists", p.Name, p.Version)}
		}
	}
	s.versions = append(s.versions, p)
	slices.SortFunc(s.versions, func(a, b *Policy) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		return a.Version - b.Version
	})
	return nil
}

// At returns the version of the named policy in force at t: the highest
// whose effective date is not after t's civil date (China time).
func (s *Set) At(name string, t time.Time) (*Policy, bool) {
	var best *Policy
	on := career.CivilDate(t)
	for _, p := range s.versions {
		if p.Name == name && !p.Effective().After(on) && (best == nil || p.Version > best.Version) {
			best = p
		}
	}
	return best, best != nil
}

// Versions returns every version, by name then version.
func (s *Set) Versions() []*Policy { return append([]*Policy(nil), s.versions...) }

// Names returns the name of every policy in the set, sorted, once each:
// the names a caller may ask for (whichever version is in force when).
func (s *Set) Names() []string {
	var out []string
	for _, p := range s.versions {
		if len(out) == 0 || out[len(out)-1] != p.Name {
			out = append(out, p.Name)
		}
	}
	return out
}

// DefaultEvents returns the PolicyPublished events that publish the
// default policies (on policy-<name>), e.g. to seed a new ledger.
func DefaultEvents() ([]events.PolicyPublished, error) {
	var out []events.PolicyPublished
	for _, n := range []string{TemplateA, TemplateB, UpperGrades} {
		p, err := Default(n)
		if err != nil {
			return nil, err
		}
		doc, err := TemplateJSON(n)
		if err != nil {
			return nil, err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, doc); err != nil {
			return nil, err
		}
		out = append(out, events.PolicyPublished{Name: p.Name, Version: p.Version, EffectiveFrom: p.EffectiveFrom, Document: compact.Bytes()})
	}
	return out, nil
}

// ForTrade picks the policy that answers for target in trade at t: among
// the versions in force at t that cover the trade and have routes to the
// target, one keyed by the trade's standard wins over one for all trades;
// ties go to the later effective date, then the name. ok is false when
// none applies.
func (s *Set) ForTrade(trade string, target events.Level, t time.Time) (*Policy, bool) {
	var best *Policy
	names := map[string]bool{}
	for _, p := range s.versions {
		names[p.Name] = true
	}
	for name := range names {
		p, ok := s.At(name, t)
		if !ok || !p.Covers(trade) {
			continue
		}
		if _, ok := p.Rule(target); !ok {
			continue
		}
		if best == nil || better(p, best) {
			best = p
		}
	}
	return best, best != nil
}

func better(p, q *Policy) bool {
	ps, qs := !p.AppliesTo.AllTrades, !q.AppliesTo.AllTrades
	if ps != qs {
		return ps
	}
	if !p.Effective().Equal(q.Effective()) {
		return p.Effective().After(q.Effective())
	}
	return p.Name < q.Name
}
