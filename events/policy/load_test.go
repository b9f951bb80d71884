package policy_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
)

const goodPolicy = `{
  "name": "acad-x",
  "version": 1,
  "effectiveFrom": "2024-01-01",
  "label": "an academy's policy",
  "owner": "academy",
  "appliesTo": {"standards": [{"occupationCode": "6-31-01-03", "edition": "2019"}]},
  "levels": [
    {"target": "junior", "routes": [
      {"id": "r1", "label": "one year",
       "criteria": [{"kind": "years_of_work", "years": 1}]}
    ]}
  ]
}`

func TestLoaderRejectsWithLineAndField(t *testing.T) {
	if _, err := policy.Parse([]byte(goodPolicy)); err != nil {
		t.Fatalf("good policy: %v", err)
	}
	for _, tc := range []struct {
		name, old, new string
		line           int
		field          string
	}{
		{"syntax", `"version": 1,`, `"version": 1,,`, 3, ""},
		{"unknown field", `"label": "an academy's policy",`, `"label": "an academy's policy", "colour": "red",`, 5, "colour"},
		{"wrong type", `"version": 1,`, `"version": "one",`, 3, "version"},
		{"unknown level", `"target": "junior"`, `"target": "grandmaster"`, 9, "levels[0].target"},
		{"unknown kind", `"kind": "years_of_work"`, `"kind": "charisma"`, 11, "levels[0].routes[0].criteria[0].kind"},
		{"zero years", `"years": 1}`, `"years": 0}`, 11, "levels[0].routes[0].criteria[0].years"},
		{"bad trade code", `"6-31-01-03"`, `"6-31-1-03"`, 7, "appliesTo.standards[0].occupationCode"},
		{"bad date", `"2024-01-01"`, `"2024-13-01"`, 4, "effectiveFrom"},
		{"owner", `"owner": "academy"`, `"owner": "mayor"`, 6, "owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(goodPolicy, tc.old, tc.new, 1)
			if doc == goodPolicy {
				t.Fatal("replacement did not apply")
			}
			_, err := policy.ParseNamed("acad-x.json", []byte(doc))
			var le *policy.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LoadError", err)
			}
			if !errors.Is(err, events.ErrInvalid) {
				t.Errorf("%v is not events.ErrInvalid", err)
			}
			if le.Line != tc.line || le.Field != tc.field {
				t.Errorf("got line %d field %q (%v), want line %d field %q", le.Line, le.Field, err, tc.line, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "acad-x.json:") {
				t.Errorf("message %q does not name the source", err)
			}
		})
	}
}

// defaultSet is the default policies and the set made of them.
func defaultSet(t *testing.T) ([]*policy.Policy, *policy.Set) {
	t.Helper()
	ps, err := policy.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(ps...)
	if err != nil {
		t.Fatal(err)
	}
	return ps, set
}

func TestDefaultsAndSet(t *testing.T) {
	ps, set := defaultSet(t)
	if err := set.Add(ps[0]); err == nil {
		t.Error("adding the same version twice succeeded")
	}
	v2 := *ps[0]
	v2.Version, v2.EffectiveFrom = 2, "2030-01-01"
	if err := v2.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := set.Add(&v2); err != nil {
		t.Fatal(err)
	}
	if p, _ := set.At(policy.TemplateA, time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC)); p.Version != 1 {
		t.Errorf("2029: version %d", p.Version)
	}
	if p, _ := set.At(policy.TemplateA, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); p.Version != 2 {
		t.Errorf("2030: version %d", p.Version)
	}
	if _, ok := set.At(policy.TemplateA, time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("a version before any effective date")
	}
	// Each name once (template-a has two versions now), sorted.
	var want []string
	for _, p := range ps {
		want = append(want, p.Name)
	}
	slices.Sort(want)
	if got := set.Names(); !slices.Equal(got, slices.Compact(want)) || !slices.Contains(got, policy.TemplateA) {
		t.Errorf("names %v, want %v", got, want)
	}
	// A published template round-trips through its event.
	doc, err := policy.TemplateJSON(policy.TemplateB)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.PolicyPublished{Name: policy.TemplateB, Version: 1, EffectiveFrom: "2000-01-01", Document: json.RawMessage(doc)}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.FromEvent(ev); err != nil {
		t.Fatal(err)
	}
	ev.EffectiveFrom = "2001-01-01"
	if _, err := policy.FromEvent(ev); err == nil {
		t.Error("event and document disagree but FromEvent accepted it")
	}
	comps, err := policy.DemoCompetitions()
	if err != nil || len(comps) != 4 {
		t.Fatalf("demo competitions: %d, %v", len(comps), err)
	}
}

func TestDefaultEvents(t *testing.T) {
	evs, err := policy.DefaultEvents()
	if err != nil || len(evs) != 3 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if _, err := policy.FromEvent(e); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
}

func TestForTrade(t *testing.T) {
	ps, err := policy.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	specific, err := policy.Parse([]byte(goodPolicy)) // academy policy for 6-31-01-03, junior only, from 2024
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(append(ps, specific)...)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		trade  string
		target events.Level
		at     time.Time
		want   string
	}{
		{"6-31-01-03", events.Junior, at, "acad-x"},                                              // keyed by its standard
		{"6-31-01-03", events.Junior, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), "template-a"}, // not yet in force: all-trades, by name
		{"6-18-02-04", events.Junior, at, "template-a"},                                          // not covered by the specific one
		{"6-31-01-03", events.Technician, at, "template-a"},                                      // the specific one has no routes to it
		{"6-31-01-03", events.ChiefTechnician, at, "upper-grades"},
	} {
		p, ok := set.ForTrade(tc.trade, tc.target, tc.at)
		if !ok || p.Name != tc.want {
			t.Errorf("ForTrade(%s, %s, %s) = %v, want %s", tc.trade, tc.target, tc.at.Format(time.DateOnly), p, tc.want)
		}
	}
}
