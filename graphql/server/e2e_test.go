package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/graphql/schema"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// ledger writes sealed events to the real embedded store over gRPC.
type ledger struct {
	t      testing.TB
	store  eventstore.Store
	heads  map[string]string
	last   eventstore.Position
	lastID string // id of the last event appended
}

func startStore(t testing.TB) *ledger {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatalf("start store: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &ledger{t: t, store: st, heads: map[string]string{}}
}

// add appends one payload, sealed onto its stream's hash chain.
func (l *ledger) add(stream string, p events.Payload, occurred time.Time, issuer string) eventstore.Position {
	l.t.Helper()
	typ, data, err := events.Encode(p)
	if err != nil {
		l.t.Fatalf("encode %s: %v", typ, err)
	}
	m := events.NewMetadata(typ, occurred, issuer, "user-"+issuer)
	if err := events.Check(p, m, time.Now()); err != nil {
		l.t.Fatalf("check %s: %v", typ, err)
	}
	sealed, meta, err := chain.Seal(l.heads[stream], typ, data, m)
	if err != nil {
		l.t.Fatalf("seal: %v", err)
	}
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	res, err := l.store.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: meta})
	if err != nil {
		l.t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
	l.heads[stream] = sealed.Hash
	l.last = res.Position
	l.lastID = id
	return res.Position
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	welder = events.Trade{Code: "6-18-02-04", Name: "welder"}
	fitter = events.Trade{Code: "6-20-01-01", Name: "fitter"}
)

// seed writes a small realistic ledger: an academy, a competition, two
// employers, craftsmen with training, certificates, placements, honours,
// a mentorship and a correction.
func seed(l *ledger, n int) {
	l.add("academy-acad1", events.AcademyRegistered{AcademyID: "acad1", Name: "Harbin Craftsman Academy", Kind: "enterprise", Region: "HLJ"}, day("2015-01-01"), "acad1")
	l.add("academy-acad1", events.CourseAdded{AcademyID: "acad1", CourseID: "weld-adv", Title: "Advanced welding", Trade: welder, Hours: 40, Mode: "classroom"}, day("2015-01-02"), "acad1")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%03d", i)
		s := events.CraftsmanStream(id)
		emp := "emp1"
		region := "HLJ"
		if i%2 == 1 {
			emp, region = "emp2", "LN"
		}
		l.add(s, events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("ab", 32), BirthDate: "1990-01-01", Region: region, Personal: &events.Personal{Name: "Worker " + id}}, day("2010-01-01"), emp)
		l.add(s, events.EmploymentStarted{CraftsmanID: id, EmploymentID: "e-" + id, EmployerOrgID: emp, Trade: welder}, day("2010-02-01"), emp)
		l.add(s, events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "weld-adv", Trade: welder, Hours: 40, Mode: "classroom", Passed: true}, day("2012-03-01"), "acad1")
		l.add(s, events.TrainingCompleted{CraftsmanID: id, AcademyID: "acad1", CourseID: "weld-online", Trade: welder, Hours: 16, Mode: "online_micro", Passed: true}, day("2013-03-01"), "acad1")
		level := events.Level(1 + i%4)
		for lv := events.Junior; lv <= level; lv++ {
			l.add(s, events.SkillLevelCertified{CraftsmanID: id, Trade: welder, Level: lv, CertificateNumber: fmt.Sprintf("S%s%d", id, lv), Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day(fmt.Sprintf("201%d-06-01", 1+int(lv))), "acad1")
		}
	}
}

type harness struct {
	t      testing.TB
	l      *ledger
	srv    *server.Server
	http   *httptest.Server
	cancel context.CancelFunc
	done   chan error
}

func startServer(t testing.TB, l *ledger, dataDir string, lim server.Limits) *harness {
	t.Helper()
	return startServerWith(t, l, server.Config{DataDir: dataDir, Limits: lim})
}

func startServerWith(t testing.TB, l *ledger, cfg server.Config) *harness {
	t.Helper()
	cfg.Store, cfg.Key = l.store, auth.DevKey()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if tt, ok := t.(*testing.T); ok {
		// Every answer a compiled plan gives in a test is compared, byte
		// for byte, with graphql-go's answer to the same request.
		server.SetPlanCheck(srv, func(query string, planned, reference []byte) {
			if !bytes.Equal(planned, reference) {
				tt.Errorf("compiled plan and graphql-go differ for %s\nplan:       %s\ngraphql-go: %s", query, planned, reference)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, l: l, srv: srv, http: httptest.NewServer(srv.Handler()), cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Run(ctx) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("projector: %v", err)
	}
	h.http.Close()
	h.cancel = nil
}

// caughtUp waits until the projection has applied the ledger's last append.
func (h *harness) caughtUp() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.srv.Projector().WaitFor(ctx, h.l.last); err != nil {
		h.t.Fatalf("projection did not catch up: %v", err)
	}
}

func token(t testing.TB, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint(auth.DevKey(), c, time.Hour)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return tok
}

type gqlResult struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
		Locations  []struct{ Line, Column int }
	}
}

func (r gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (h *harness) query(tok, q string, vars map[string]any, headers ...string) gqlResult {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResult
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("answer %q: %v", raw, err)
	}
	out.Status = resp.StatusCode
	return out
}

// path digs into a decoded answer: path(m, "craftsman", "trades", 0, "level").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func mustOK(t testing.TB, r gqlResult) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d errors %+v", r.Status, r.Errors)
	}
}

var (
	auditor = auth.Claims{Subject: "aud", Role: auth.RoleAuditor}
	hrEmp1  = auth.Claims{Subject: "hr1", Role: auth.RoleHR, OrgID: "emp1"}
)

func TestE2E(t *testing.T) {
	l := startStore(t)
	seed(l, 12)
	h := startServer(t, l, "", server.Limits{MaxPageSize: 5, MaxDepth: 6, MaxComplexity: 200, MinPosWait: 300 * time.Millisecond})
	t.Cleanup(func() {
		// The harness compared each planned answer with graphql-go's.
		n := server.Planned(h.srv)
		t.Logf("%d answers given by compiled plans and compared with graphql-go's", n)
		if n == 0 {
			t.Error("no query of the suite was answered by a compiled plan: nothing was compared")
		}
	})
	h.caughtUp()
	aud := token(t, auditor)

	t.Run("craftsman profile, levels, certificates, training totals", func(t *testing.T) {
		r := h.query(aud, `query($id: ID!) { craftsman(id: $id) { id name region employers
			trades { trade { code } level { api rank } evidence { stream revision } }
			certificates { number level { api } }
			training(mode: "classroom") { totalHours count }
			all: training { totalHours count byYear { year hours } }
			pathways { trade current { api } reached { level { api } since via certificateNumber evidence { stream revision } } } } }`, map[string]any{"id": "c003"})
		mustOK(t, r)
		c := path(r.Data, "craftsman")
		if got := path(c, "trades", 0, "level", "api"); got != "technician" {
			t.Errorf("level = %v, want technician (c003 holds levels 1..4)", got)
		}
		if got := len(path(c, "certificates").([]any)); got != 4 {
			t.Errorf("certificates = %d, want 4", got)
		}
		if got := path(c, "training", "totalHours"); got != 40.0 {
			t.Errorf("offline hours = %v, want 40", got)
		}
		if got := path(c, "all", "totalHours"); got != 56.0 {
			t.Errorf("all hours = %v, want 56", got)
		}
		if got := path(c, "all", "byYear", 1); !cmp.Equal(got, map[string]any{"year": 2013.0, "hours": 16.0}) {
			t.Errorf("2013 training = %v", got)
		}
		if got := len(path(c, "pathways", 0, "reached").([]any)); got != 4 {
			t.Errorf("pathway reached %d levels, want 4: %v", got, path(c, "pathways"))
		}
		if got := path(c, "pathways", 0, "reached", 3, "since"); got != "2015-06-01T00:00:00Z" {
			t.Errorf("technician since %v, want 2015-06-01", got)
		}
		if got := path(c, "employers", 0); got != "emp2" {
			t.Errorf("employer = %v", got)
		}
	})

	t.Run("pathway and eligibility explain themselves", func(t *testing.T) {
		r := h.query(aud, `{ craftsman(id: "c003") {
			eligibility(trade: "6-18-02-04", target: "senior_technician") { eligible policy policyVersion held { api }
				routes { id met criteria { kind required actual met evidence { stream revision } } } }
			pathway(trade: "6-18-02-04") { current { api } next { target { api } eligible earliestDate } } } }`, nil)
		mustOK(t, r)
		e := path(r.Data, "craftsman", "eligibility")
		if path(e, "held", "api") != "technician" || path(e, "policyVersion") == nil || path(e, "policy") == "" {
			t.Fatalf("eligibility = %v", e)
		}
		if path(e, "eligible") != true {
			t.Errorf("technician since 2015 should be eligible for senior technician under template A: %v", e)
		}
		evidence := 0
		for _, rt := range path(e, "routes").([]any) {
			for _, c := range path(rt, "criteria").([]any) {
				evidence += len(path(c, "evidence").([]any))
			}
		}
		if evidence == 0 {
			t.Errorf("no criterion cites evidence: %v", e)
		}
		if got := path(r.Data, "craftsman", "pathway", "next", 0, "target", "api"); got != "senior_technician" {
			t.Errorf("pathway next = %v", got)
		}
	})

	t.Run("levels agree with the domain's career fold", func(t *testing.T) {
		for i := 0; i < 12; i++ {
			r := h.query(aud, `query($id: ID!) { craftsman(id: $id) { trades { trade { code } level { api } } pathways { trade current { api } } } }`, map[string]any{"id": fmt.Sprintf("c%03d", i)})
			mustOK(t, r)
			mine := map[string]any{}
			for _, tl := range path(r.Data, "craftsman", "trades").([]any) {
				mine[path(tl, "trade", "code").(string)] = path(tl, "level", "api")
			}
			fold := map[string]any{}
			for _, pw := range path(r.Data, "craftsman", "pathways").([]any) {
				fold[path(pw, "trade").(string)] = path(pw, "current", "api")
			}
			if diff := cmp.Diff(fold, mine); diff != "" {
				t.Errorf("c%03d (-fold +trades):\n%s", i, diff)
			}
		}
	})

	t.Run("timeline pages in occurrence order with kind filter", func(t *testing.T) {
		q := `query($id: ID!, $after: String) { craftsman(id: $id) { timeline(first: 3, after: $after, kinds: ["training", "certificate"]) {
			totalCount edges { cursor node { kind date title } } pageInfo { hasNextPage endCursor } } } }`
		var kinds []string
		var dates []string
		var after any
		for page := 0; page < 5; page++ {
			r := h.query(aud, q, map[string]any{"id": "c003", "after": after})
			mustOK(t, r)
			tl := path(r.Data, "craftsman", "timeline")
			for _, e := range path(tl, "edges").([]any) {
				kinds = append(kinds, path(e, "node", "kind").(string))
				dates = append(dates, path(e, "node", "date").(string))
			}
			if path(tl, "pageInfo", "hasNextPage") != true {
				break
			}
			after = path(tl, "pageInfo", "endCursor")
		}
		if len(kinds) != 6 {
			t.Fatalf("got %d entries (%v), want 2 training + 4 certificates", len(kinds), kinds)
		}
		for i := 1; i < len(dates); i++ {
			if dates[i] < dates[i-1] {
				t.Errorf("timeline out of order: %v", dates)
			}
		}
	})

	t.Run("population with filters, sorting and cursor pagination", func(t *testing.T) {
		q := `query($after: String) { craftsmen(trade: "6-18-02-04", minLevel: "senior", sort: "level_desc", first: 2, after: $after) {
			totalCount edges { node { id level { rank } } } pageInfo { hasNextPage endCursor } } }`
		var ids []string
		var ranks []float64
		var after any
		for {
			r := h.query(aud, q, map[string]any{"after": after})
			mustOK(t, r)
			conn := path(r.Data, "craftsmen")
			if got := path(conn, "totalCount"); got != 6.0 {
				t.Fatalf("totalCount = %v, want 6 (levels 3 and 4 of 12)", got)
			}
			for _, e := range path(conn, "edges").([]any) {
				ids = append(ids, path(e, "node", "id").(string))
				ranks = append(ranks, path(e, "node", "level", "rank").(float64))
			}
			if path(conn, "pageInfo", "hasNextPage") != true {
				break
			}
			after = path(conn, "pageInfo", "endCursor")
		}
		if len(ids) != 6 {
			t.Fatalf("paged through %d, want 6: %v", len(ids), ids)
		}
		for i := 1; i < len(ranks); i++ {
			if ranks[i] > ranks[i-1] {
				t.Errorf("not sorted by level desc: %v", ranks)
			}
		}
		r := h.query(token(t, hrEmp1), `{ populationStats { total byLevel { key count } byRegion { key count } } }`, nil)
		mustOK(t, r)
		if got := path(r.Data, "populationStats", "total"); got != 6.0 {
			t.Errorf("hr emp1 sees %v craftsmen, want its 6", got)
		}
	})

	t.Run("population eligible now and by a date", func(t *testing.T) {
		s := "craftsman-c900"
		l.add(s, events.CraftsmanRegistered{CraftsmanID: "c900", NationalIDHash: strings.Repeat("cd", 32), Region: "HLJ", Personal: &events.Personal{Name: "late starter"}}, day("2020-01-01"), "emp1")
		l.add(s, events.EmploymentStarted{CraftsmanID: "c900", EmploymentID: "e900", EmployerOrgID: "emp1", Trade: welder}, day("2020-02-01"), "emp1")
		l.add(s, events.SkillLevelCertified{CraftsmanID: "c900", Trade: welder, Level: events.Senior, CertificateNumber: "S900", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day("2025-06-01"), "acad1")
		h.caughtUp()
		q := `query($by: String) { craftsmen(trade: "6-18-02-04", eligibleFor: "technician", eligibleBy: $by, first: 5) {
			totalCount nodes { id level { api } eligibility { eligible policy policyVersion } } } }`
		ids := func(by any) []string {
			r := h.query(token(t, hrEmp1), q, map[string]any{"by": by})
			mustOK(t, r)
			var out []string
			for _, n := range path(r.Data, "craftsmen", "nodes").([]any) {
				out = append(out, path(n, "id").(string))
				if path(n, "eligibility", "eligible") != true || path(n, "level", "api") == "technician" {
					t.Errorf("member %v is not an eligible candidate", n)
				}
			}
			return out
		}
		now := ids(nil)
		// emp1 holds the even craftsmen: levels junior (c000, c004, c008) and senior (c002, c006, c010); the seniors certified in 2014 qualify.
		if diff := cmp.Diff([]string{"c002", "c006", "c010"}, now); diff != "" {
			t.Errorf("eligible now (-want +got):\n%s", diff)
		}
		later := ids("2030-01-01")
		if diff := cmp.Diff([]string{"c002", "c006", "c010", "c900"}, later); diff != "" {
			t.Errorf("eligible by 2030 (-want +got):\n%s", diff)
		}
		// The same questions answered without the eligibility index (an
		// as-of query folds every candidate) agree with it, explanation included.
		exact := `query($by: String) { craftsmen(trade: "6-18-02-04", eligibleFor: "technician", eligibleBy: $by, asOf: $by, first: 5) {
			nodes { id eligibility { eligible policy policyVersion earliestDate routes { id met } } } } }`
		indexed := strings.Replace(exact, ", asOf: $by", "", 1)
		for _, by := range []string{"2027-01-01", "2029-05-31", "2029-06-01", "2031-01-01"} {
			a := h.query(token(t, hrEmp1), exact, map[string]any{"by": by})
			b := h.query(token(t, hrEmp1), indexed, map[string]any{"by": by})
			mustOK(t, a)
			mustOK(t, b)
			if diff := cmp.Diff(a.Data, b.Data); diff != "" {
				t.Errorf("by %s: folded vs indexed (-folded +indexed):\n%s", by, diff)
			}
		}
		r := h.query(aud, `{ craftsman(id: "c900") { eligibility(trade: "6-18-02-04", target: "technician") { eligible earliestDate } } }`, nil)
		mustOK(t, r)
		if got := path(r.Data, "craftsman", "eligibility", "earliestDate"); got != "2029-06-01T00:00:00Z" {
			t.Errorf("earliest date = %v, want 2029-06-01 (senior since 2025-06-01 + 4 years)", got)
		}
	})

	t.Run("catalogue: policies in force, academies, trades", func(t *testing.T) {
		r := h.query("", `{ policies { name version builtIn effectiveFrom } academies { id name courses { id hours } } trades { code } levels { api zh } }`, nil)
		mustOK(t, r)
		names := map[string]bool{}
		for _, p := range path(r.Data, "policies").([]any) {
			names[path(p, "name").(string)] = path(p, "builtIn").(bool)
		}
		for _, n := range []string{"template-a", "template-b", "upper-grades"} {
			if !names[n] {
				t.Errorf("default policy %s missing: %v", n, names)
			}
		}
		if got := path(r.Data, "academies", 0, "courses", 0, "hours"); got != 40.0 {
			t.Errorf("academy course = %v", path(r.Data, "academies"))
		}
		if got := len(path(r.Data, "levels").([]any)); got != 8 {
			t.Errorf("%d levels, want 8", got)
		}
	})

	t.Run("audit pages by position, with chain status", func(t *testing.T) {
		q := `query($after: String) { audit(stream: "craftsman-c001", first: 4, after: $after) { totalCount
			edges { node { revision type issuer chain position } } pageInfo { hasNextPage endCursor } } }`
		var revs []float64
		var after any
		for {
			r := h.query(aud, q, map[string]any{"after": after})
			mustOK(t, r)
			a := path(r.Data, "audit")
			for _, e := range path(a, "edges").([]any) {
				revs = append(revs, path(e, "node", "revision").(float64))
				if c := path(e, "node", "chain"); c != "ok" {
					t.Errorf("chain = %v, want ok", c)
				}
			}
			if path(a, "pageInfo", "hasNextPage") != true {
				break
			}
			after = path(a, "pageInfo", "endCursor")
		}
		for i, r := range revs {
			if r != float64(i) {
				t.Fatalf("revisions %v, want 0..n", revs)
			}
		}
		if len(revs) != 6 {
			t.Errorf("c001 has %d events, want 6", len(revs))
		}
	})

	t.Run("asOf rebuilds from the events recorded by then", func(t *testing.T) {
		cut := time.Now().UTC()
		pos := l.add("craftsman-c000", events.SkillLevelCertified{CraftsmanID: "c000", Trade: welder, Level: events.Intermediate, CertificateNumber: "LATE", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day("2020-01-01"), "acad1")
		q := `query($asOf: String, $pos: String) { craftsman(id: "c000", asOf: $asOf, minPosition: $pos) { trades { level { api } } } }`
		r := h.query(aud, q, map[string]any{"asOf": cut.Format(time.RFC3339Nano), "pos": schema.FormatPosition(pos)})
		mustOK(t, r)
		if got := path(r.Data, "craftsman", "trades", 0, "level", "api"); got != "junior" {
			t.Errorf("as of before the append: %v, want junior", got)
		}
		r = h.query(aud, q, map[string]any{"pos": schema.FormatPosition(pos)})
		mustOK(t, r)
		if got := path(r.Data, "craftsman", "trades", 0, "level", "api"); got != "intermediate" {
			t.Errorf("live after the append (read-your-writes): %v, want intermediate", got)
		}
	})

	t.Run("population as of a past moment", func(t *testing.T) {
		cut := time.Now().UTC()
		pos := l.add("craftsman-c004", events.SkillLevelCertified{CraftsmanID: "c004", Trade: welder, Level: events.Intermediate, CertificateNumber: "C004-2", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day("2021-03-01"), "acad1")
		q := `query($asOf: String, $pos: String) { populationStats(trade: "6-18-02-04", asOf: $asOf, minPosition: $pos) { byLevel { key count } } }`
		count := func(r gqlResult, level string) float64 {
			for _, c := range path(r.Data, "populationStats", "byLevel").([]any) {
				if path(c, "key") == level {
					return path(c, "count").(float64)
				}
			}
			return 0
		}
		then := h.query(aud, q, map[string]any{"asOf": cut.Format(time.RFC3339Nano), "pos": schema.FormatPosition(pos)})
		mustOK(t, then)
		now := h.query(aud, q, map[string]any{"pos": schema.FormatPosition(pos)})
		mustOK(t, now)
		if count(now, "intermediate") != count(then, "intermediate")+1 || count(now, "junior") != count(then, "junior")-1 {
			t.Errorf("c004's promotion: as of before %v, now %v", then.Data, now.Data)
		}
	})

	t.Run("a correction supersedes a certificate everywhere, and both stay in the timeline", func(t *testing.T) {
		l.add("craftsman-c005", events.SkillLevelCertified{CraftsmanID: "c005", Trade: welder, Level: events.Senior, CertificateNumber: "WRONG", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day("2016-06-01"), "acad1")
		wrong := l.lastID
		rep, err := events.NewReplacement(events.SkillLevelCertified{CraftsmanID: "c005", Trade: welder, Level: events.Intermediate, CertificateNumber: "RIGHT", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pos := l.add("craftsman-c005", events.EventCorrected{CraftsmanID: "c005", SupersedesEventID: wrong, Reason: "level entered wrongly", Replacement: rep}, day("2016-07-01"), "acad1")
		fix := l.lastID
		r := h.query(aud, `query($pos: String) { craftsman(id: "c005", minPosition: $pos) {
			trades { level { api } } certificates { number level { api } }
			pathway(trade: "6-18-02-04") { current { api } }
			timeline(first: 5, kinds: ["certificate", "correction"]) { nodes { kind supersededBy supersedes evidence { eventId } } } } }`,
			map[string]any{"pos": schema.FormatPosition(pos)})
		mustOK(t, r)
		c := path(r.Data, "craftsman")
		if got := path(c, "trades", 0, "level", "api"); got != "intermediate" {
			t.Errorf("level after correction = %v, want intermediate", got)
		}
		if got := path(c, "pathway", "current", "api"); got != "intermediate" {
			t.Errorf("pathway level after correction = %v, want intermediate", got)
		}
		numbers := ""
		for _, ce := range path(c, "certificates").([]any) {
			numbers += path(ce, "number").(string) + " "
		}
		if strings.Contains(numbers, "WRONG") || !strings.Contains(numbers, "RIGHT") {
			t.Errorf("certificates %q: the superseded one shows or the replacement does not", numbers)
		}
		var sawWrong, sawFix bool
		for _, n := range path(c, "timeline", "nodes").([]any) {
			switch path(n, "evidence", "eventId") {
			case wrong:
				sawWrong = path(n, "supersededBy") == fix
			case fix:
				sawFix = path(n, "supersedes") == wrong && path(n, "kind") == "correction"
			}
		}
		if !sawWrong || !sawFix {
			t.Errorf("timeline does not link the correction and what it corrects: %v", path(c, "timeline"))
		}

		// The audit log links both ways; the reference's cursor opens the
		// page that starts with the corrected event (linking across pages),
		// and a view as of before the correction does not know it yet.
		const aq = `query($asOf: String, $after: String, $n: Int) { audit(stream: "craftsman-c005", first: $n, asOf: $asOf, after: $after) {
			edges { node { id recordedAt supersedes { id found stream revision cursor } supersededBy { id found cursor } } }
			pageInfo { hasNextPage endCursor } } }`
		everything := func(asOf any) []any {
			var out []any
			for after := any(nil); ; {
				r := h.query(aud, aq, map[string]any{"n": 5, "asOf": asOf, "after": after})
				mustOK(t, r)
				out = append(out, path(r.Data, "audit", "edges").([]any)...)
				if path(r.Data, "audit", "pageInfo", "hasNextPage") != true {
					return out
				}
				after = path(r.Data, "audit", "pageInfo", "endCursor")
			}
		}
		var fixNode, wrongNode any
		for _, e := range everything(nil) {
			switch path(e, "node", "id") {
			case fix:
				fixNode = path(e, "node")
			case wrong:
				wrongNode = path(e, "node")
			}
		}
		if path(fixNode, "supersedes", "id") != wrong || path(fixNode, "supersedes", "found") != true || path(fixNode, "supersedes", "stream") != "craftsman-c005" || path(fixNode, "supersededBy") != nil {
			t.Fatalf("the correction's audit event does not name what it supersedes: %v", fixNode)
		}
		if path(wrongNode, "supersededBy", "id") != fix || path(wrongNode, "supersedes") != nil {
			t.Fatalf("the corrected audit event does not name its correction: %v", wrongNode)
		}
		page := h.query(aud, aq, map[string]any{"n": 1, "after": path(fixNode, "supersedes", "cursor")})
		mustOK(t, page)
		if got := path(page.Data, "audit", "edges", 0, "node", "id"); got != wrong {
			t.Fatalf("the supersedes cursor opens a page starting with %v, want the corrected event %v", got, wrong)
		}
		page = h.query(aud, aq, map[string]any{"n": 1, "after": path(wrongNode, "supersededBy", "cursor")})
		mustOK(t, page)
		if got := path(page.Data, "audit", "edges", 0, "node", "id"); got != fix {
			t.Fatalf("the supersededBy cursor opens a page starting with %v, want the correction %v", got, fix)
		}
		for _, e := range everything(path(wrongNode, "recordedAt")) {
			if path(e, "node", "id") == fix || path(e, "node", "supersededBy") != nil {
				t.Fatalf("as of before the correction the audit log knows it: %v", e)
			}
		}
	})

	t.Run("as occurred: a back-filled certificate counts from when it happened", func(t *testing.T) {
		// c008 (junior since 2012) gets a paper intermediate certificate of
		// 2014 recorded only now: as recorded just before it is absent; as
		// occurred by 2015 it is there.
		cut := time.Now().UTC()
		pos := l.add("craftsman-c008", events.SkillLevelCertified{CraftsmanID: "c008", Trade: welder, Level: events.Intermediate, CertificateNumber: "PAPER-2014", Family: events.FamilySkillLevel, EvaluatingOrgID: "acad1", IssuingOrg: events.Org{ID: "acad1", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, day("2014-03-01"), "acad1")
		q := `query($occ: String, $asOf: String, $pos: String) { craftsman(id: "c008", occurredBy: $occ, asOf: $asOf, minPosition: $pos) {
			pathway(trade: "6-18-02-04") { current { api } } trades { level { api } } } }`
		level := func(vars map[string]any) any {
			vars["pos"] = schema.FormatPosition(pos)
			r := h.query(aud, q, vars)
			mustOK(t, r)
			fold, mine := path(r.Data, "craftsman", "pathway", "current", "api"), path(r.Data, "craftsman", "trades", 0, "level", "api")
			if fold != mine {
				t.Errorf("%v: pathway says %v, trades say %v", vars, fold, mine)
			}
			return fold
		}
		if got := level(map[string]any{"occ": "2015-01-01"}); got != "intermediate" {
			t.Errorf("as occurred by 2015: %v, want intermediate", got)
		}
		if got := level(map[string]any{"occ": "2013-01-01"}); got != "junior" {
			t.Errorf("as occurred by 2013: %v, want junior", got)
		}
		if got := level(map[string]any{"asOf": cut.Format(time.RFC3339Nano)}); got != "junior" {
			t.Errorf("as recorded just before it was recorded: %v, want junior", got)
		}
	})

	t.Run("read-your-writes by header, and a clear timeout", func(t *testing.T) {
		pos := l.add("craftsman-c002", events.TrainingCompleted{CraftsmanID: "c002", AcademyID: "acad1", CourseID: "x", Trade: welder, Hours: 8, Mode: "classroom", Passed: true}, day("2021-01-01"), "acad1")
		r := h.query(aud, `{ craftsman(id: "c002") { training { totalHours } } }`, nil, "X-Min-Position", schema.FormatPosition(pos))
		mustOK(t, r)
		if got := path(r.Data, "craftsman", "training", "totalHours"); got != 64.0 {
			t.Errorf("hours after write = %v, want 64", got)
		}
		// The command's answer's position object, in the body's extensions.
		pos2 := l.add("craftsman-c002", events.TrainingCompleted{CraftsmanID: "c002", AcademyID: "acad1", CourseID: "y", Trade: welder, Hours: 2, Mode: "classroom", Passed: true}, day("2021-02-01"), "acad1")
		obj, _ := json.Marshal(map[string]any{"position": pos2})
		var answer struct {
			Position json.RawMessage `json:"position"`
		}
		_ = json.Unmarshal(obj, &answer)
		body, _ := json.Marshal(map[string]any{"query": `{ craftsman(id: "c002") { training { totalHours } } }`, "extensions": map[string]any{"minPosition": answer.Position}})
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+aud)
		resp, err := h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(raw, []byte(`"totalHours":66`)) {
			t.Errorf("extensions.minPosition %s: answer %s, want 66 hours", answer.Position, raw)
		}
		// A write outside the ledger's streams (an issuer's stream) is "seen"
		// as soon as no ledger event lies before it.
		foreign, err := l.store.Append(context.Background(), "issuer-x", eventstore.Any(), eventstore.EventData{Type: "IssuerRegistered.v1", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if r := h.query(aud, `{ projection { position } }`, nil, "X-Min-Position", schema.FormatPosition(foreign.Position)); r.code() != "" {
			t.Errorf("position of a write to a stream the projection does not follow: %+v", r.Errors)
		}
		far := eventstore.Position{Commit: pos.Commit + 1<<40, Prepare: pos.Prepare + 1<<40}
		r = h.query(aud, `{ projection { position } }`, nil, "X-Min-Position", schema.FormatPosition(far))
		if r.code() != "DEADLINE_EXCEEDED" || r.Status != http.StatusGatewayTimeout {
			t.Errorf("far position: status %d code %q, want 504 DEADLINE_EXCEEDED", r.Status, r.code())
		}
	})

	t.Run("authorization per role", func(t *testing.T) {
		cases := []struct {
			name   string
			claims *auth.Claims
			query  string
			code   string
		}{
			{"worker reads self", &auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c004"}, `{ craftsman(id: "c004") { id } }`, ""},
			{"worker refused another", &auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c004"}, `{ craftsman(id: "c005") { id } }`, "PERMISSION_DENIED"},
			{"worker refused population", &auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c004"}, `{ craftsmen { totalCount } }`, "PERMISSION_DENIED"},
			{"worker refused audit", &auth.Claims{Subject: "w", Role: auth.RoleWorker, CraftsmanID: "c004"}, `{ audit { totalCount } }`, "PERMISSION_DENIED"},
			{"hr reads own organisation", &hrEmp1, `{ craftsman(id: "c004") { id } }`, ""},
			{"hr refused other organisation", &hrEmp1, `{ craftsman(id: "c005") { id } }`, "PERMISSION_DENIED"},
			{"hr refused other employer's list", &hrEmp1, `{ craftsmen(employer: "emp2") { totalCount } }`, "PERMISSION_DENIED"},
			{"hr refused audit", &hrEmp1, `{ audit { totalCount } }`, "PERMISSION_DENIED"},
			{"auditor reads audit", &auditor, `{ streamIntegrity(stream: "craftsman-c004") { status } }`, ""},
			{"anonymous refused", nil, `{ craftsman(id: "c004") { id } }`, "UNAUTHENTICATED"},
			{"anonymous may read the catalogue", nil, `{ levels { api } academies { id courses { id } } }`, ""},
			{"unknown craftsman", &auditor, `{ craftsman(id: "nobody") { id } }`, "NOT_FOUND"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tok := ""
				if tc.claims != nil {
					tok = token(t, *tc.claims)
				}
				r := h.query(tok, tc.query, nil)
				if r.code() != tc.code {
					t.Fatalf("code %q (%+v), want %q", r.code(), r.Errors, tc.code)
				}
				if tc.code != "" && r.Data != nil {
					for k, v := range r.Data {
						if v != nil {
							t.Errorf("refused field %s answered %v", k, v)
						}
					}
				}
			})
		}
		// A refused field is null with its error; the others are answered.
		r := h.query(token(t, hrEmp1), `{ levels { api } audit { totalCount } craftsman(id: "c004") { id } }`, nil)
		if r.code() != "PERMISSION_DENIED" || path(r.Data, "audit") != nil || path(r.Data, "craftsman", "id") != "c004" || len(path(r.Data, "levels").([]any)) != 8 {
			t.Errorf("mixed query: data %v errors %+v", r.Data, r.Errors)
		}
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", strings.NewReader(`{"query":"{ levels { api } }"}`))
		req.Header.Set("Authorization", "Bearer not-a-token")
		resp, err := h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad token: status %d, want 401", resp.StatusCode)
		}
	})

	t.Run("limits", func(t *testing.T) {
		cases := []struct{ name, query, code string }{
			{"page too big", `{ audit(first: 6) { totalCount } }`, "INVALID_ARGUMENT"},
			{"depth 6 allowed", `{ craftsman(id: "c001") { timeline { edges { node { trade { code } } } } } }`, ""},
			{"depth 7 refused", `{ craftsman(id: "c001") { eligibility(trade: "6-18-02-04", target: "senior") { routes { criteria { of { evidence { stream } } } } } } }`, "RESOURCE_EXHAUSTED"},
			{"depth through a fragment", `query { craftsman(id: "c001") { ...T } } fragment T on Craftsman { eligibility(trade: "6-18-02-04", target: "senior") { routes { criteria { of { evidence { stream } } } } } }`, "RESOURCE_EXHAUSTED"},
			{"introspection does not count for depth", `{ __schema { queryType { fields { type { ofType { ofType { name } } } } } } }`, ""},
			{"too complex", `{ a: audit(first: 5) { edges { node { stream type revision position issuer chain data metadata recordedAt occurredAt } } } b: audit(first: 5) { edges { node { stream type revision position issuer chain data metadata recordedAt occurredAt } } } c: audit(first: 5) { edges { node { stream type revision position issuer chain data metadata recordedAt occurredAt } } } d: audit(first: 5) { edges { node { stream type revision position issuer chain data metadata recordedAt occurredAt } } } }`, "RESOURCE_EXHAUSTED"},
			{"syntax", `{ craftsman(id: `, "INVALID_ARGUMENT"},
			{"unknown field", `{ nope }`, "INVALID_ARGUMENT"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if got := h.query(aud, tc.query, nil).code(); got != tc.code {
					t.Errorf("code %q, want %q", got, tc.code)
				}
			})
		}
	})

	t.Run("operational routes", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/explorer"} {
			resp, err := h.http.Client().Get(h.http.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d %s", p, resp.StatusCode, body)
			}
			if p == "/metrics" && (!bytes.Contains(body, []byte("craftledger_projection_lag_seconds")) || !bytes.Contains(body, []byte("craftledger_projection_lag_positions 0"))) {
				t.Errorf("metrics lack the projection lag (or it is not 0 when caught up):\n%s", body)
			}
			if p == "/explorer" && (bytes.Contains(body, []byte("http://")) || bytes.Contains(body, []byte("https://"))) {
				t.Errorf("explorer loads something from elsewhere")
			}
		}
		resp, err := h.http.Client().Get(h.http.URL + "/graphql?query=" + "%7B%20levels%20%7B%20api%20%7D%20%7D")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET query: %d", resp.StatusCode)
		}
	})
}
