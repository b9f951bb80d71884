package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/graphql/readmodel"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
)

// pathwayQuery is the query of BenchmarkScale's pathway+eligibility.
const pathwayQuery = `query($id: ID!) { craftsman(id: $id) { trades { level { api } }
		pathway(trade: "6-18-02-04") { current { api } next { target { api } eligible earliestDate policyVersion routes { id met missing } } }
		eligibility(trade: "6-18-02-04", target: "technician") { eligible earliestDate policy policyVersion routes { id met criteria { kind required actual met evidence { stream revision } } } } } }`

// TestPlanMatchesGraphQLGo runs queries that a compiled plan answers and
// queries it leaves to graphql-go; the harness compares every planned
// answer byte for byte with graphql-go's (startServerWith), and this test
// checks which requests were planned, so that the comparison cannot pass
// by never running a plan.
func TestPlanMatchesGraphQLGo(t *testing.T) {
	l := startStore(t)
	seed(l, 12)
	h := startServer(t, l, "", server.Limits{})
	h.caughtUp()
	worker3 := auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c003"}
	aud, hr, worker := token(t, auditor), token(t, hrEmp1), token(t, worker3)
	cases := []struct {
		name, tok, q string
		vars         map[string]any
		planned      bool
	}{
		{"benchmark craftsman", aud, benchQuery, map[string]any{"id": "c003"}, true},
		{"pathway and eligibility", aud, pathwayQuery, map[string]any{"id": "c004"}, true},
		{"pathway as hr", hr, pathwayQuery, map[string]any{"id": "c002"}, true},
		{"own record as worker", worker, pathwayQuery, map[string]any{"id": worker3.CraftsmanID}, true},
		{"aliases, fragments, inline fragments, asOf", aud, `query Q($id: ID!, $d: String = "2099-12-31") {
			a: craftsman(id: $id, asOf: $d) { ...F trades { ... on TradeLevel { level { rank zh } } } }
			b: craftsman(id: "c001") { ...F pathways(policies: ["template-a"]) { trade current { api } reached { since via route certificateNumber } } } }
			fragment F on Craftsman { id name asOf employers certificates { number issuedOn level { api } } training(mode: "classroom") { totalHours passedHours count byYear { year hours count } } }`, map[string]any{"id": "c005"}, true},
		{"timeline page", aud, `{ craftsman(id: "c003") { timeline(first: 3, kinds: ["certificate", "training"]) { totalCount edges { cursor node { date kind type title(lang: "zh") trade { code } evidence { stream revision } } } pageInfo { hasNextPage endCursor } } } }`, nil, true},
		{"population", aud, `{ populationStats(trade: "6-18-02-04") { total byLevel { key count } } craftsmen(trade: "6-18-02-04", first: 4) { totalCount nodes { id eligibility { eligible policyVersion } } } }`, nil, true},
		{"catalogue", aud, `{ levels { api rank } trades { code name } projection { caughtUp } viewer { role subject canAudit } }`, nil, true},
		// Left to graphql-go: introspection, errors, refusals.
		{"typename", aud, `{ craftsman(id: "c001") { __typename id } }`, nil, false},
		{"schema introspection", aud, `{ __schema { queryType { name } } }`, nil, false},
		{"not found", aud, `{ craftsman(id: "nobody") { id } }`, nil, false},
		{"worker refused another record", worker, pathwayQuery, map[string]any{"id": "c001"}, false},
		{"anonymous", "", `{ craftsman(id: "c001") { id } }`, nil, false},
		{"bad argument", aud, `{ craftsman(id: "c001") { eligibility(trade: "6-18-02-04", target: "no-such-level") { eligible } } }`, nil, false},
		{"missing variable", aud, pathwayQuery, nil, false},
		{"minPosition", aud, `{ craftsman(id: "c001", minPosition: "1") { id } }`, nil, false},
	}
	for _, c := range cases {
		before := server.Planned(h.srv)
		r := h.query(c.tok, c.q, c.vars)
		if c.planned {
			mustOK(t, r)
		}
		if got := server.Planned(h.srv) > before; got != c.planned {
			t.Errorf("%s: planned = %v, want %v (errors %+v)", c.name, got, c.planned, r.Errors)
		}
	}
}

// BenchmarkPathwayQuery is the pathway+eligibility query of BenchmarkScale
// in process (no sockets), through the compiled plan and through
// graphql-go's executor, for CPU profiles of the server's own work.
func BenchmarkPathwayQuery(b *testing.B) {
	l := startStore(b)
	seed(l, 64)
	for _, mode := range []string{"plan", "graphql-go"} {
		b.Run(mode, func(b *testing.B) {
			h := startServer(b, l, "", server.Limits{})
			h.caughtUp()
			if mode == "graphql-go" {
				server.DisablePlans(h.srv)
			}
			tok := token(b, auditor)
			bodies := make([]string, 64)
			for i := range bodies {
				v, _ := json.Marshal(map[string]any{"query": pathwayQuery, "variables": map[string]any{"id": fmt.Sprintf("c%03d", i)}})
				bodies[i] = string(v)
			}
			hd := h.srv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(bodies[i%64]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				hd.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/query")
		})
	}
}

// TestViewFoldServesThePathway: the fold a live view's levels came from,
// handed to pathway and eligibility for another instant (View.CareerAt),
// is exactly the domain's fold at that instant, for a generated population
// (some of it with occurrences after now, where it must decline).
func TestViewFoldServesThePathway(t *testing.T) {
	n := 300
	evs := population(t, n)
	m := readmodel.NewMemory()
	for i := 0; i < len(evs); i += 4096 {
		j := min(i+4096, len(evs))
		if err := m.Apply(evs[i:j], evs[j-1].Position); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	reused, declined := 0, 0
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("p%07d", i)
		v, _, ok := m.Craftsman(id, time.Time{}, time.Time{})
		if !ok {
			t.Fatalf("%s: no view", id)
		}
		for _, at := range []time.Time{now, now.AddDate(12, 0, 0)} {
			st, ok := v.CareerAt(at)
			if !ok {
				declined++
				continue
			}
			reused++
			if want := career.Fold(v.Records, at, career.AsRecorded); !reflect.DeepEqual(st, want) {
				t.Fatalf("%s at %s: the view's fold differs from the domain's\ngot  %+v\nwant %+v", id, at, st, want)
			}
		}
		past, _, ok := m.Craftsman(id, now, time.Time{})
		if ok {
			if _, ok := past.CareerAt(now); ok {
				t.Fatalf("%s: a view with asOf offered its fold", id)
			}
		}
	}
	if reused == 0 || declined == 0 {
		t.Fatalf("reused %d, declined %d: both cases must be exercised", reused, declined)
	}
}

// TestPlanTimeout: a request whose time is up while its plan runs answers
// 504 DEADLINE_EXCEEDED, as it did through graphql-go's executor.
func TestPlanTimeout(t *testing.T) {
	l := startStore(t)
	seed(l, 4)
	h := startServer(t, l, "", server.Limits{Timeout: time.Nanosecond})
	h.caughtUp()
	r := h.query(token(t, auditor), pathwayQuery, map[string]any{"id": "c001"})
	if r.Status != http.StatusGatewayTimeout || r.code() != "DEADLINE_EXCEEDED" {
		t.Fatalf("status %d code %q, want 504 DEADLINE_EXCEEDED", r.Status, r.code())
	}
	if n := server.Planned(h.srv); n != 0 {
		t.Fatalf("%d requests planned after their time was up", n)
	}
}
