package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
)

// TestEligibleForAsOfSeesOnlyWhatWasRecorded: craftsmen(eligibleFor, asOf,
// eligibleBy) judges each craftsman on the events recorded by asOf (a
// certificate recorded later does not count, though it occurred before)
// under the policy versions recorded by asOf (one published later does
// not apply), evaluated at eligibleBy; and the explained answers agree.
func TestEligibleForAsOfSeesOnlyWhatWasRecorded(t *testing.T) {
	g := &popGen{t: t, m: readmodel.NewMemory(), rev: map[string]uint64{}, home: map[string]string{}}
	welder := popTrades[0]
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	cert := func(id string, lv events.Level) events.SkillLevelCertified {
		return events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: lv, CertificateNumber: fmt.Sprintf("%s-%d", id, lv),
			Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}
	}
	for _, id := range []string{"w1", "w2"} {
		g.add(id, d(2010, 1, 1), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1985-05-05", Region: "R1"}, "emp1")
		g.add(id, d(2010, 1, 1), events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: "emp1", Trade: welder}, "emp1")
		g.add(id, d(2011, 1, 1), cert(id, events.Junior), "acad1")
	}
	// w2's intermediate certificate occurred in 2015, recorded in 2026.
	g.addTo(events.CraftsmanStream("w2"), d(2015, 1, 1), d(2026, 1, 1), cert("w2", events.Intermediate), "acad1")
	policyAt := func(version int, recorded time.Time, intermediate string) {
		doc := fmt.Sprintf(`{"name":"template-a","version":%d,"effectiveFrom":"2000-01-0%d","label":"test","owner":"national_standard","appliesTo":{"allTrades":true},"levels":[
			{"target":"intermediate","routes":[{"id":"i","label":"i","criteria":[{"kind":"level","level":"junior","yearsSince":%s}]}]},
			{"target":"senior","routes":[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":3}]}]},
			{"target":"technician","routes":[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":3}]}]}]}`, version, version, intermediate)
		g.addTo(events.PolicyStream("template-a"), recorded, recorded, events.PolicyPublished{Name: "template-a", Version: version, EffectiveFrom: fmt.Sprintf("2000-01-0%d", version), Document: json.RawMessage(doc)}, "ministry")
	}
	policyAt(2, d(2020, 1, 1), "30") // intermediate: 30 years a junior
	policyAt(3, d(2026, 1, 1), "1")  // intermediate: a year a junior, published after asOf
	g.flush()
	s := mustSchema(t, Deps{Model: g.m, Waiter: nopWaiter{}, MaxPageSize: 100, Now: eligNow})
	aud := auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})
	members := func(target, asOf string) string {
		t.Helper()
		args := fmt.Sprintf(`trade: "6-18-02-04", eligibleFor: %q, eligibleBy: "2030-12-31"`, target)
		if asOf != "" {
			args += fmt.Sprintf(", asOf: %q", asOf)
		}
		q := `{ craftsmen(` + args + `, first: 10) { nodes { id eligibility { eligible } } } populationStats(` + args + `) { total } }`
		r := graphql.Do(graphql.Params{Schema: s, RequestString: q, Context: aud})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %v", q, r.Errors)
		}
		var ids []string
		for _, n := range r.Data.(map[string]any)["craftsmen"].(map[string]any)["nodes"].([]any) {
			n := n.(map[string]any)
			if e, _ := n["eligibility"].(map[string]any); e == nil || e["eligible"] != true {
				t.Errorf("%s: member %v is not eligible by its explained answer", q, n["id"])
			}
			ids = append(ids, n["id"].(string))
		}
		total := r.Data.(map[string]any)["populationStats"].(map[string]any)["total"].(int)
		if total != len(ids) {
			t.Errorf("%s: populationStats total %d, %d members", q, total, len(ids))
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct{ target, asOf, want string }{
		{"senior", "", "w2"},                     // live: w2's intermediate counts
		{"senior", "2025-06-01", ""},             // not recorded by then
		{"intermediate", "", "w1"},               // live: version 3 applies
		{"intermediate", "2025-06-01", ""},       // version 3 not published by then
		{"intermediate", "2026-02-01", "w1"},     // now it is
		{"senior", "2026-02-01T00:00:00Z", "w2"}, // and the certificate recorded
	} {
		if got := members(c.target, c.asOf); got != c.want {
			t.Errorf("eligibleFor %s, asOf %q, eligibleBy 2030-12-31: members %q, want %q", c.target, c.asOf, got, c.want)
		}
	}
}

// TestEligibleFromSaysNowOrWhen: the members of an eligibleFor answer by a
// later date say whether they are eligible at the query's moment (asOf,
// else now) and, when not, from when (the policy's earliest date).
func TestEligibleFromSaysNowOrWhen(t *testing.T) {
	g := &popGen{t: t, m: readmodel.NewMemory(), rev: map[string]uint64{}, home: map[string]string{}}
	welder := popTrades[0]
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for id, junior := range map[string]time.Time{"w1": d(2011, 1, 1), "w3": d(2025, 1, 1)} {
		g.add(id, d(2010, 1, 1), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1985-05-05", Region: "R1"}, "emp1")
		g.add(id, d(2010, 1, 1), events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: "emp1", Trade: welder}, "emp1")
		g.add(id, junior, events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: events.Junior, CertificateNumber: id + "-1",
			Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, "acad1")
	}
	g.publish(2, "2000-01-01", [3]string{
		`[{"id":"i","label":"i","criteria":[{"kind":"level","level":"junior","yearsSince":3}]}]`,
		`[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":3}]}]`,
		`[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":3}]}]`})
	g.flush()
	for _, plain := range []bool{false, true} { // through the eligibility index, and by full evaluation
		var model readmodel.Reader = g.m
		if plain {
			model = plainReader{g.m}
		}
		s := mustSchema(t, Deps{Model: model, Waiter: nopWaiter{}, MaxPageSize: 100, Now: eligNow})
		aud := auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})
		for _, c := range []struct {
			asOf, by string
			want     string
		}{
			{"", "2030-12-31", "w1 now 2026-03-01, w3 2028-01-01"},
			{"2026-01-01T00:00:00Z", "2030-12-31", "w1 now 2026-01-01, w3 2028-01-01"},
			// eligibleBy at 00:00 China time on w3's earliest date (16:00Z the
			// day before): from that date, not from eligibleBy's UTC date.
			{"", "2027-12-31T16:00:00Z", "w1 now 2026-03-01, w3 2028-01-01"},
			{"", "2028-01-01", "w1 now 2026-03-01, w3 2028-01-01"},
			{"", "2027-12-31T15:59:59Z", "w1 now 2026-03-01"},
		} {
			args := fmt.Sprintf(`trade: "6-18-02-04", eligibleFor: "intermediate", eligibleBy: %q`, c.by)
			if c.asOf != "" {
				args += fmt.Sprintf(", asOf: %q", c.asOf)
			}
			q := `{ craftsmen(` + args + `, first: 10) { nodes { id eligibleNow eligibleFrom } } }`
			r := graphql.Do(graphql.Params{Schema: s, RequestString: q, Context: aud})
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %v", q, r.Errors)
			}
			var got []string
			for _, n := range r.Data.(map[string]any)["craftsmen"].(map[string]any)["nodes"].([]any) {
				n := n.(map[string]any)
				from, _ := n["eligibleFrom"].(string)
				if len(from) >= 10 {
					from = from[:10]
				}
				if n["eligibleNow"] == true {
					from = "now " + from
				}
				got = append(got, fmt.Sprint(n["id"], " ", from))
			}
			if g := strings.Join(got, ", "); g != c.want {
				t.Errorf("plain %v, asOf %q, eligibleBy %s: members %q, want %q", plain, c.asOf, c.by, g, c.want)
			}
		}
	}
}

// policyCounter counts the model's Policies calls: each is one build of a
// policy set (builder.policySet).
type policyCounter struct {
	*readmodel.Memory
	n *atomic.Int64
}

func (m policyCounter) Policies() map[string][]events.Recorded {
	m.n.Add(1)
	return m.Memory.Policies()
}

// TestEligibleForBuildsItsPolicySetOnce: a craftsmen(eligibleFor) query,
// live (the eligibility index) and as of a date (every candidate folded),
// asking for the members' explained answers and eligibleFrom, builds its
// policy set once, shared by the scan, the evaluation and the lazy
// answers (before: once each, three times).
func TestEligibleForBuildsItsPolicySetOnce(t *testing.T) {
	g := &popGen{t: t, m: readmodel.NewMemory(), rev: map[string]uint64{}, home: map[string]string{}}
	welder := popTrades[0]
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for id, junior := range map[string]time.Time{"w1": d(2011, 1, 1), "w3": d(2025, 1, 1)} {
		g.add(id, d(2010, 1, 1), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1985-05-05", Region: "R1"}, "emp1")
		g.add(id, d(2010, 1, 1), events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e" + id, EmployerOrgID: "emp1", Trade: welder}, "emp1")
		g.add(id, junior, events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: events.Junior, CertificateNumber: id + "-1",
			Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, "acad1")
	}
	g.publish(2, "2000-01-01", [3]string{
		`[{"id":"i","label":"i","criteria":[{"kind":"level","level":"junior","yearsSince":3}]}]`,
		`[{"id":"s","label":"s","criteria":[{"kind":"level","level":"intermediate","yearsSince":3}]}]`,
		`[{"id":"t","label":"t","criteria":[{"kind":"level","level":"senior","yearsSince":3}]}]`})
	g.flush()
	builds := new(atomic.Int64)
	s := mustSchema(t, Deps{Model: policyCounter{g.m, builds}, Waiter: nopWaiter{}, MaxPageSize: 100, Now: eligNow})
	aud := auth.WithClaims(context.Background(), auth.Claims{Subject: "a", Role: auth.RoleAuditor})
	for _, asOf := range []string{"", "2026-01-01T00:00:00Z"} {
		args := `trade: "6-18-02-04", eligibleFor: "intermediate", eligibleBy: "2030-12-31"`
		if asOf != "" {
			args += fmt.Sprintf(", asOf: %q", asOf)
		}
		q := `{ craftsmen(` + args + `, first: 10) { nodes { id eligibility { eligible } eligibleNow eligibleFrom } } }`
		builds.Store(0)
		r := graphql.Do(graphql.Params{Schema: s, RequestString: q, Context: aud})
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %v", q, r.Errors)
		}
		if nodes := r.Data.(map[string]any)["craftsmen"].(map[string]any)["nodes"].([]any); len(nodes) != 2 {
			t.Fatalf("asOf %q: %d members, want w1 and w3", asOf, len(nodes))
		}
		if n := builds.Load(); n != 1 {
			t.Errorf("asOf %q: the query built its policy set %d times, want once", asOf, n)
		}
	}
}
