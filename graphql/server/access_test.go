package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
)

// TestReadAccessNeedsAStandingLink: hr and issuers read a craftsman only
// through a standing link — the registrar, an employment (current or
// past) or training at their academy, none retracted. Recording an
// assessment about a craftsman opens nothing (the security review's
// attack: an assessment, then the full record by name), nor does an
// employment once retracted.
func TestReadAccessNeedsAStandingLink(t *testing.T) {
	l := startStore(t)
	seed(l, 4) // c000, c002 registered and employed by emp1; c001, c003 by emp2; all trained at acad1
	c0, c1, c2 := events.CraftsmanStream("c000"), events.CraftsmanStream("c001"), events.CraftsmanStream("c002")
	// The attack: academy-dev records a failed assessment about c000.
	l.add(c0, events.AssessmentRecorded{CraftsmanID: "c000", AssessmentID: "r7-a1", Trade: welder, Level: events.Junior, EvaluatingOrgID: "academy-dev"},
		day("2024-01-01"), "academy-dev")
	// emp9 records an employment of c001, then retracts it.
	l.add(c1, events.EmploymentStarted{CraftsmanID: "c001", EmploymentID: "e-x", EmployerOrgID: "emp9", Trade: welder}, day("2024-01-01"), "emp9")
	l.add(c1, events.EventCorrected{CraftsmanID: "c001", SupersedesEventID: l.lastID, Reason: "recorded in error"}, day("2024-01-02"), "emp9")
	// emp3 employed c002 for a while: a past employer.
	l.add(c2, events.EmploymentStarted{CraftsmanID: "c002", EmploymentID: "e-3", EmployerOrgID: "emp3", Trade: welder}, day("2018-01-01"), "emp3")
	l.add(c2, events.EmploymentEnded{CraftsmanID: "c002", EmploymentID: "e-3", Reason: "moved"}, day("2019-01-01"), "emp3")
	// reg-only registered c900 and nothing else.
	l.add(events.CraftsmanStream("c900"), events.CraftsmanRegistered{CraftsmanID: "c900", NationalIDHash: strings.Repeat("cd", 32),
		Region: "HLJ", Personal: &events.Personal{Name: "Registered Only"}}, day("2020-01-01"), "reg-only")
	h := startServer(t, l, "", server.Limits{MinPosWait: 300 * time.Millisecond})
	h.caughtUp()

	issuer := func(org string) auth.Claims {
		return auth.Claims{Subject: "u-" + org, Role: auth.RoleIssuer, OrgID: org}
	}
	hr := func(org string) auth.Claims { return auth.Claims{Subject: "hr-" + org, Role: auth.RoleHR, OrgID: org} }
	const record = `query($id: ID!) { craftsman(id: $id) { id name birthDate region employers } }`
	cases := []struct {
		name   string
		claims auth.Claims
		id     string
		code   string
	}{
		{"an issuer that recorded an assessment", issuer("academy-dev"), "c000", "PERMISSION_DENIED"},
		{"hr of the organisation that recorded an assessment", hr("academy-dev"), "c000", "PERMISSION_DENIED"},
		{"an issuer whose employment was retracted", issuer("emp9"), "c001", "PERMISSION_DENIED"},
		{"the registrar and employer", issuer("emp1"), "c000", ""},
		{"hr of the employer", hr("emp1"), "c000", ""},
		{"the academy trained at", issuer("acad1"), "c000", ""},
		{"a past employer", issuer("emp3"), "c002", ""},
		{"hr of a past employer", hr("emp3"), "c002", ""},
		{"the registrar alone", issuer("reg-only"), "c900", ""},
		{"another employer", hr("emp2"), "c000", "PERMISSION_DENIED"},
		{"the auditor", auditor, "c000", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.query(token(t, tc.claims), record, map[string]any{"id": tc.id})
			if r.code() != tc.code {
				t.Fatalf("code %q (%+v), want %q", r.code(), r.Errors, tc.code)
			}
			if tc.code != "" {
				if path(r.Data, "craftsman") != nil {
					t.Errorf("refused, yet answered %v", path(r.Data, "craftsman"))
				}
				return
			}
			if path(r.Data, "craftsman", "name") == nil {
				t.Errorf("no name: %v", r.Data)
			}
		})
	}
	// Population queries follow the same links.
	for org, want := range map[string]float64{"academy-dev": 0, "emp9": 0, "emp3": 1, "reg-only": 1, "acad1": 4} {
		r := h.query(token(t, issuer(org)), `{ craftsmen { totalCount } populationStats { total } }`, nil)
		mustOK(t, r)
		if got := path(r.Data, "craftsmen", "totalCount"); got != want {
			t.Errorf("issuer of %s lists %v craftsmen, want %v", org, got, want)
		}
		if got := path(r.Data, "populationStats", "total"); got != want {
			t.Errorf("issuer of %s counts %v craftsmen, want %v", org, got, want)
		}
	}
}
