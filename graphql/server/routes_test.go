package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/server"
)

// TestEveryRouteOfTemplateA records, for every route of the default
// template A, a career that meets it (and for some a career just short of
// it), through the store, and checks the eligibility the API answers: the
// pipeline store → projection → fold → policy → GraphQL, route by route.
func TestEveryRouteOfTemplateA(t *testing.T) {
	l := startStore(t)
	h := startServer(t, l, "", server.Limits{})
	now := time.Now().UTC()
	ago := func(years float64) time.Time {
		return now.Add(-time.Duration(years*365.25*24)*time.Hour - 30*24*time.Hour)
	}
	soon := func(years float64) time.Time {
		return now.Add(-time.Duration(years*365.25*24)*time.Hour + 60*24*time.Hour)
	}
	lv := func(l events.Level) *events.Level { return &l }

	type fact func(id string) (events.Payload, time.Time)
	employed := func(since time.Time) fact {
		return func(id string) (events.Payload, time.Time) {
			return events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e-" + id, EmployerOrgID: "emp1", Trade: welder}, since
		}
	}
	cert := func(l events.Level, on time.Time) fact {
		return func(id string) (events.Payload, time.Time) {
			return events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: l, CertificateNumber: fmt.Sprintf("%s-%d", id, l), Family: events.FamilySkillLevel,
				EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, on
		}
	}
	graduated := func(kind string, target *events.Level, preparatory bool) fact {
		return func(id string) (events.Payload, time.Time) {
			return events.Graduated{CraftsmanID: id, SchoolKind: kind, Speciality: "welding", Trade: welder, ProgrammeTarget: target, PreparatoryTechnician: preparatory}, ago(3)
		}
	}
	apprenticed := func(id string) (events.Payload, time.Time) {
		return events.MentorshipStarted{MentorshipParties: events.MentorshipParties{MentorshipID: "m-" + id, MasterID: "master1", ApprenticeID: id},
			Kind: events.MentorshipApprenticeship, Trade: welder}, ago(1.5)
	}
	apprenticeDone := func(id string) (events.Payload, time.Time) {
		return events.MentorshipCompleted{MentorshipParties: events.MentorshipParties{MentorshipID: "m-" + id, MasterID: "master1", ApprenticeID: id}, Trade: welder}, ago(0.2)
	}

	cases := []struct {
		route, target string
		facts         []fact
		met           bool
	}{
		{"A5-work", "junior", []fact{employed(ago(1))}, true},
		{"A5-work", "junior", []fact{employed(soon(1))}, false},
		{"A5-apprentice", "junior", []fact{apprenticed, apprenticeDone}, true},
		{"A4-cert", "intermediate", []fact{employed(ago(4)), cert(events.Junior, ago(4))}, true},
		{"A4-cert", "intermediate", []fact{employed(ago(4)), cert(events.Junior, soon(4))}, false},
		{"A4-work", "intermediate", []fact{employed(ago(6))}, true},
		{"A4-work", "intermediate", []fact{employed(soon(6))}, false},
		{"A4-techschool", "intermediate", []fact{graduated(events.SchoolTechnical, nil, false)}, true},
		{"A4-vocational", "intermediate", []fact{graduated(events.SchoolSecondaryVocational, lv(events.Intermediate), false)}, true},
		{"A4-vocational", "intermediate", []fact{graduated(events.SchoolSecondaryVocational, lv(events.Junior), false)}, false},
		{"A3-cert", "senior", []fact{employed(ago(5)), cert(events.Intermediate, ago(5))}, true},
		{"A3-techcollege", "senior", []fact{cert(events.Intermediate, ago(0.5)), graduated(events.SchoolTechnicianCollege, nil, false)}, true},
		{"A3-highervoc", "senior", []fact{cert(events.Intermediate, ago(0.5)), graduated(events.SchoolHigherVocational, lv(events.Senior), false)}, true},
		{"A3-college", "senior", []fact{employed(ago(2)), cert(events.Intermediate, ago(2)), graduated(events.SchoolCollege, nil, false)}, true},
		{"A3-college", "senior", []fact{employed(ago(2)), cert(events.Intermediate, soon(2)), graduated(events.SchoolCollege, nil, false)}, false},
		{"A2-cert", "technician", []fact{employed(ago(4)), cert(events.Senior, ago(4))}, true},
		{"A2-cert", "technician", []fact{employed(ago(4)), cert(events.Senior, soon(4))}, false},
		{"A2-techcollege", "technician", []fact{employed(ago(3)), cert(events.Senior, ago(3)), graduated(events.SchoolSeniorTechnical, nil, false)}, true},
		{"A2-preparatory", "technician", []fact{employed(ago(2)), graduated(events.SchoolTechnicianCollege, nil, true)}, true},
		{"A2-preparatory", "technician", []fact{employed(soon(2)), graduated(events.SchoolTechnicianCollege, nil, true)}, false},
		{"A1-cert", "senior_technician", []fact{employed(ago(4)), cert(events.Technician, ago(4))}, true},
		{"A1-cert", "senior_technician", []fact{employed(ago(4)), cert(events.Technician, soon(4))}, false},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("r%02d", i)
		s := events.CraftsmanStream(id)
		l.add(s, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", 1000+i), BirthDate: "1980-01-01", Region: "HLJ", Personal: &events.Personal{Name: id}}, ago(30), "emp1")
		l.add(s, events.TradeEntered{CraftsmanID: id, Trade: welder}, ago(20), "emp1")
		for _, f := range tc.facts {
			p, on := f(id)
			l.add(s, p, on, "emp1")
		}
	}
	h.caughtUp()
	aud := token(t, auditor)
	for i, tc := range cases {
		id := fmt.Sprintf("r%02d", i)
		name := tc.route + map[bool]string{true: " met", false: " just short"}[tc.met]
		t.Run(name, func(t *testing.T) {
			r := h.query(aud, `query($id: ID!, $target: String!) { craftsman(id: $id) { eligibility(trade: "6-18-02-04", target: $target, policies: ["template-a"]) {
				eligible policy earliestDate routes { id met missing criteria { kind met required actual evidence { stream revision } } } } } }`,
				map[string]any{"id": id, "target": tc.target})
			mustOK(t, r)
			e := path(r.Data, "craftsman", "eligibility")
			if path(e, "policy") != "template-a" {
				t.Fatalf("policy %v", path(e, "policy"))
			}
			var route any
			for _, rt := range path(e, "routes").([]any) {
				if path(rt, "id") == tc.route {
					route = rt
				}
			}
			if route == nil {
				t.Fatalf("route %s missing from %v", tc.route, e)
			}
			if got := path(route, "met"); got != tc.met {
				t.Fatalf("route %s met = %v, want %v: %v", tc.route, got, tc.met, route)
			}
			if tc.met {
				if path(e, "eligible") != true {
					t.Errorf("route met but not eligible: %v", e)
				}
				for _, c := range path(route, "criteria").([]any) {
					if len(path(c, "evidence").([]any)) == 0 && !strings.HasPrefix(path(c, "kind").(string), "n_of") {
						t.Errorf("criterion %v cites no evidence", c)
					}
				}
				return
			}
			if path(e, "eligible") == true {
				t.Errorf("just short of %s, yet eligible: %v", tc.route, e)
			}
			if tc.route != "A4-vocational" && path(e, "earliestDate") == nil {
				t.Errorf("only time is missing, but no earliest date: %v", e)
			}
		})
	}
}
