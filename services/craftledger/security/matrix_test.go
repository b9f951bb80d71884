package security_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// route is one command route of one service, as its Routes() lists it.
type route struct{ service, method, pattern, name string }

func (r route) key() string { return r.service + "." + r.name }

// allRoutes enumerates every command route of the five services.
func allRoutes() []route {
	var out []route
	for _, r := range registry.Routes() {
		out = append(out, route{"registry", r.Method, r.Pattern, r.Name})
	}
	for _, r := range training.Routes() {
		out = append(out, route{"training", r.Method, r.Pattern, r.Name})
	}
	for _, r := range competition.Routes() {
		out = append(out, route{"competition", r.Method, r.Pattern, r.Name})
	}
	for _, r := range mentorship.Routes() {
		out = append(out, route{"mentorship", r.Method, r.Pattern, r.Name})
	}
	for _, r := range honour.Routes() {
		out = append(out, route{"honour", r.Method, r.Pattern, r.Name})
	}
	return out
}

// openAPIPaths reads the paths a service's openapi.yaml documents.
func openAPIPaths(t *testing.T, service string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", service, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^  (/[^:]+):\s*$`)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// outcome of one caller on one route.
type outcome int

const (
	refused      outcome = iota // 403 PERMISSION_DENIED (401 UNAUTHENTICATED for invalid tokens), nothing written
	allowed                     // authorization passed: not 401/403, not a server error
	linesRefused                // back-fill: 200, every line PERMISSION_DENIED, nothing written
)

// cell is the matrix's row for a route: the request and who may send it.
type cell struct {
	path  string
	ctype string
	body  func(n int) string // n is unique per request
	// allow lists the valid callers that pass authorization; every other
	// valid caller is refused with 403, every invalid token with 401.
	allow []sectest.Caller
	// lines lists the callers a back-fill accepts as a file but refuses
	// line by line.
	lines []sectest.Caller
}

var (
	issuersAdmin = []sectest.Caller{sectest.IssuerB, sectest.Admin}
	anyIssuer    = []sectest.Caller{sectest.IssuerB, sectest.IssuerX, sectest.Admin}
	adminOnly    = []sectest.Caller{sectest.Admin}
	foreign      = []sectest.Caller{sectest.IssuerX}
)

const (
	ndjson = "application/x-ndjson"
	trade  = `{"code":"` + sectest.Trade + `","name":"电工"}`
)

// matrix is every command route; a route missing here fails the test.
func matrix(e *sectest.Env) map[string]cell {
	c1 := "/v1/craftsmen/" + sectest.Worker
	return map[string]cell{
		"registry.RegisterCraftsman": {path: "/v1/craftsmen", allow: anyIssuer, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"mx-%d","nationalId":"%s","birthDate":"1990-01-01","region":"120000","personal":{"name":"工匠"}}`, n, sectest.NationalID(300+n))
		}},
		"registry.ForgetCraftsman": {path: c1 + "/forget", allow: adminOnly, body: func(n int) string {
			return fmt.Sprintf(`{"reason":"erasure request %d"}`, n)
		}},
		"registry.UpdateProfile": {path: c1, allow: issuersAdmin, body: func(n int) string { return fmt.Sprintf(`{"region":"1200%02d"}`, n%100) }},
		"registry.EnterTrade": {path: c1 + "/trades", allow: issuersAdmin, body: func(int) string {
			return `{"trade":` + trade + `}`
		}},
		"registry.StartEmployment": {path: c1 + "/employments", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"employmentId":"emp-mx-%d","employerOrgId":"%s","trade":%s,"occurredAt":"2024-01-01"}`, n, sectest.AcademyB, trade)
		}},
		"registry.EndEmployment": {path: c1 + "/employments/" + sectest.Employ1 + "/end", allow: issuersAdmin, body: func(int) string {
			return `{"reason":"合同到期","occurredAt":"2024-06-01"}`
		}},
		"registry.RegisterAcademy": {path: "/v1/academies", allow: issuersAdmin, body: func(int) string {
			return `{"academyId":"` + sectest.AcademyB + `","name":"学院 academy-b","kind":"college","region":"120000"}`
		}},
		"registry.AddCourse": {path: "/v1/academies/" + sectest.AcademyB + "/courses", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"courseId":"course-mx-%d","title":"安全","trade":%s,"hours":8,"mode":"classroom"}`, n, trade)
		}},
		"registry.RegisterIssuer": {path: "/v1/issuers", allow: adminOnly, body: func(n int) string {
			return fmt.Sprintf(`{"issuerId":"issuer-mx-%d","name":"机构","kind":"academy"}`, n)
		}},
		"registry.AddIssuerUser": {path: "/v1/issuers/" + sectest.AcademyB + "/users", allow: adminOnly, body: func(n int) string {
			return fmt.Sprintf(`{"userId":"u-mx-%d","role":"issuer"}`, n)
		}},
		"registry.BackfillCraftsmen": {path: "/v1/backfill/craftsmen", ctype: ndjson, allow: anyIssuer, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"bf-%d","key":"bf-%d","nationalId":"%s","birthDate":"1990-01-01","region":"120000","personal":{"name":"工匠"}}`+"\n", n, n, sectest.NationalID(500+n))
		}},
		"registry.BackfillEmployments": {path: "/v1/backfill/employments", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfe-%d","employmentId":"emp-bf-%d","employerOrgId":"%s","trade":%s,"occurredAt":"2019-01-01","endedOn":"2019-12-31"}`+"\n",
				sectest.Worker, n, n, sectest.AcademyB, trade)
		}},
		"registry.BackfillTrades": {path: "/v1/backfill/trades", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bftr-%d","trade":%s,"occurredAt":"2008-03-01"}`+"\n", sectest.Worker, n, trade)
		}},
		"training.Enrol": {path: c1 + "/enrolments", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"enrolmentId":"en-mx-%d","academyId":"%s","courseId":"%s"}`, n, sectest.AcademyB, sectest.CourseB)
		}},
		"training.CompleteTraining": {path: c1 + "/completions", allow: issuersAdmin, body: func(int) string {
			return `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":true}`
		}},
		"training.RecordGraduation": {path: c1 + "/graduations", allow: issuersAdmin, body: func(int) string {
			return `{"schoolKind":"technical_school","speciality":"电气","trade":` + trade + `,"occurredAt":"2010-07-01"}`
		}},
		"training.RecordTitle": {path: c1 + "/titles", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"tier":"junior","title":"助理工程师","trade":%s,"certificateNumber":"T-%d","occurredAt":"2016-01-01"}`, trade, n)
		}},
		"training.RecordAssessment": {path: c1 + "/assessments", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"assessmentId":"as-mx-%d","trade":%s,"level":"junior","evaluatingOrgId":"%s","passed":true,"occurredAt":"2017-01-01"}`, n, trade, sectest.AcademyB)
		}},
		"training.CertifySkillLevel": {path: c1 + "/certificates", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"trade":%s,"level":"junior","certificateNumber":"CERT-MX-%d","family":"skill_level","evaluatingOrgId":"%s","issuingOrg":{"id":"%s","kind":"third_party"},"route":"regular","occurredAt":"2017-02-01"}`,
				trade, n, sectest.AcademyB, sectest.AcademyB)
		}},
		"training.BackfillCompletions": {path: "/v1/backfill/completions", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfc-%d","academyId":"%s","courseId":"%s","hours":4,"passed":true,"occurredAt":"2018-01-01"}`+"\n",
				sectest.Worker, n, sectest.AcademyB, sectest.CourseB)
		}},
		"training.BackfillCertificates": {path: "/v1/backfill/certificates", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfcert-%d","trade":%s,"level":"junior","certificateNumber":"CERT-BF-%d","family":"skill_level","evaluatingOrgId":"%s","issuingOrg":{"id":"%s","kind":"third_party"},"route":"regular","occurredAt":"2017-03-01"}`+"\n",
				sectest.Stranger, n, trade, n, sectest.AcademyB, sectest.AcademyB)
		}},
		"training.BackfillGraduations": {path: "/v1/backfill/graduations", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfg-%d","schoolKind":"technical_school","speciality":"电气","trade":%s,"occurredAt":"2009-07-01"}`+"\n", sectest.Worker, n, trade)
		}},
		"training.BackfillTitles": {path: "/v1/backfill/titles", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bft-%d","tier":"junior","title":"助理工程师","trade":%s,"certificateNumber":"T-BF-%d","occurredAt":"2015-01-01"}`+"\n", sectest.Worker, n, trade, n)
		}},
		"training.BackfillEnrolments": {path: "/v1/backfill/enrolments", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfen-%d","enrolmentId":"en-bf-%d","academyId":"%s","courseId":"%s","occurredAt":"2018-09-01"}`+"\n",
				sectest.Worker, n, n, sectest.AcademyB, sectest.CourseB)
		}},
		"training.BackfillAssessments": {path: "/v1/backfill/assessments", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","key":"bfas-%d","assessmentId":"as-bf-%d","trade":%s,"level":"junior","evaluatingOrgId":"%s","passed":true,"occurredAt":"2016-06-01"}`+"\n",
				sectest.Worker, n, n, trade, sectest.AcademyB)
		}},
		"competition.DefineCompetition": {path: "/v1/competitions", allow: issuersAdmin, body: func(n int) string {
			return sectest.CompetitionDef(fmt.Sprintf("comp-mx-%d", n), sectest.AcademyB)
		}},
		"competition.PublishResults": {path: "/v1/competitions/" + sectest.CompB + "/results", allow: issuersAdmin, body: func(int) string {
			return `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"` + sectest.Stranger + `","track":"employees","rank":10}]}`
		}},
		"competition.ApproveEntitlement": {path: c1 + "/entitlements/" + e.Entitlement + "/approve",
			allow: []sectest.Caller{sectest.HRA, sectest.Admin}, body: func(int) string { return `{"approvalRef":"人社核准-2025-1"}` }},
		"competition.BackfillResults": {path: "/v1/backfill/results", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"competitionId":"%s","occurredAt":"2025-09-05","craftsmanId":"%s","track":"employees","rank":%d}`+"\n", sectest.CompB, sectest.Spare, 11)
		}},
		"mentorship.StartMentorship": {path: "/v1/mentorships", allow: issuersAdmin, body: func(n int) string {
			return sectest.MentorshipStart(fmt.Sprintf("ms-mx-%d", n), sectest.Stranger)
		}},
		"mentorship.LogSession": {path: "/v1/mentorships/" + sectest.Mentor1 + "/sessions", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"sessionId":"s-%d","hours":4,"topic":"接线","occurredAt":"2024-02-01"}`, n)
		}},
		"mentorship.CompleteMentorship": {path: "/v1/mentorships/" + sectest.Mentor1 + "/complete", allow: issuersAdmin, body: func(int) string {
			return `{"levelReached":"intermediate"}`
		}},
		"mentorship.EndMentorship": {path: "/v1/mentorships/" + sectest.Mentor2 + "/end", allow: issuersAdmin, body: func(int) string {
			return `{"reason":"学徒调岗"}`
		}},
		"mentorship.BackfillMentorships": {path: "/v1/backfill/mentorships", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"mentorshipId":"ms-bf-%d","masterId":"%s","apprenticeId":"%s","trade":%s,"academyId":"%s","plannedMonths":12,"occurredAt":"2019-01-01"}`+"\n",
				n, sectest.Master, sectest.Spare, trade, sectest.AcademyB)
		}},
		"honour.ConferHonour": {path: c1 + "/honours", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"code":"star_%d","name":"之星","level":"academy","conferringBody":"学院","occurredAt":"2023-06-01"}`, n)
		}},
		"honour.WithdrawHonour": {path: c1 + "/honours/" + sectest.HonourB + "/withdraw", allow: issuersAdmin, body: func(int) string {
			return `{"reason":"撤销","occurredAt":"2024-01-01"}`
		}},
		"honour.RecogniseInnovation": {path: c1 + "/innovations", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"kind":"breakthrough","title":"攻关 %d","level":"enterprise","role":"leader","occurredAt":"2022-01-01"}`, n)
		}},
		"registry.Correct": {path: c1 + "/corrections", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"supersedesEventId":"%s","reason":"recorded in error %d"}`, e.EmploymentEvent, n)
		}},
		"training.Correct": {path: c1 + "/corrections", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"supersedesEventId":"%s","reason":"recorded in error %d"}`, e.TrainingEvent, n)
		}},
		"competition.Correct": {path: c1 + "/corrections", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"supersedesEventId":"%s","reason":"recorded in error %d"}`, e.PlacementEvent, n)
		}},
		"mentorship.Correct": {path: c1 + "/corrections", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"supersedesEventId":"%s","reason":"recorded in error %d"}`, e.MentorshipEvent, n)
		}},
		"honour.Correct": {path: c1 + "/corrections", allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"supersedesEventId":"%s","reason":"recorded in error %d"}`, e.HonourEvent, n)
		}},
		"honour.BackfillHonours": {path: "/v1/backfill/honours", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","code":"bf_star_%d","name":"之星","level":"academy","conferringBody":"学院","occurredAt":"2012-04-28"}`+"\n", sectest.Worker, n)
		}},
		"honour.BackfillInnovations": {path: "/v1/backfill/innovations", ctype: ndjson, allow: issuersAdmin, lines: foreign, body: func(n int) string {
			return fmt.Sprintf(`{"craftsmanId":"%s","kind":"breakthrough","title":"旧攻关 %d","level":"enterprise","role":"member","occurredAt":"2011-01-01"}`+"\n", sectest.Worker, n)
		}},
	}
}

// backfillLines parses a back-fill answer: the codes of the lines ("" for
// a good line) and whether a summary came.
func backfillLines(b []byte) (codes []string, summary bool) {
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var l struct {
			Line    int             `json:"line"`
			OK      bool            `json:"ok"`
			Code    string          `json:"code"`
			Summary json.RawMessage `json:"summary"`
		}
		if json.Unmarshal(line, &l) != nil {
			continue
		}
		if l.Summary != nil {
			summary = true
			continue
		}
		codes = append(codes, l.Code)
	}
	return codes, summary
}

// TestAuthorizationMatrix sends every command route of the five services,
// through the all-in-one's HTTP listener, as every caller: anonymous,
// expired, tampered, wrong-key and alg:none tokens must get 401
// UNAUTHENTICATED; callers without the right get 403 PERMISSION_DENIED;
// refused requests must leave $all exactly where it was. The callers with
// the right must pass authorization. A route of Routes() or of an OpenAPI
// file that the matrix does not cover fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	m := matrix(e)

	routes := allRoutes()
	covered := map[string]bool{}
	for _, r := range routes {
		covered[r.service+" "+r.pattern] = true
		if _, ok := m[r.key()]; !ok {
			t.Errorf("route %s %s (%s) is not in the authorization matrix", r.method, r.pattern, r.key())
		}
	}
	for _, svc := range []string{"registry", "training", "competition", "mentorship", "honour"} {
		paths := openAPIPaths(t, svc)
		if len(paths) == 0 {
			t.Errorf("%s: no paths read from openapi.yaml", svc)
		}
		for _, p := range paths {
			if !covered[svc+" "+p] {
				t.Errorf("%s openapi.yaml documents %s, which no route of the matrix covers", svc, p)
			}
		}
	}
	if len(m) != len(routes) {
		// Rows for routes a service no longer (or not yet) has are harmless.
		t.Logf("matrix has %d rows for %d routes", len(m), len(routes))
	}

	type row struct {
		name string
		r    route
		c    cell
	}
	var rows []row
	for _, r := range routes {
		if c, ok := m[r.key()]; ok {
			rows = append(rows, row{r.key(), r, c})
		}
	}
	for _, x := range employerRows(e) {
		i := slices.IndexFunc(routes, func(r route) bool { return r.key() == x.route })
		if i < 0 {
			t.Fatalf("employer row names route %s, which no service has", x.route)
		}
		rows = append(rows, row{x.route + " (" + x.what + ")", routes[i], x.c})
	}
	n := 0
	for _, x := range rows {
		r, c := x.r, x.c
		// Placeholders the fixture must have filled.
		if strings.Contains(c.path, "{") || strings.HasSuffix(c.path, "/") {
			t.Fatalf("%s: path %q not filled", r.key(), c.path)
		}
		path := "/api/" + r.service + c.path
		// Refusals first, so that a state change by an allowed caller
		// cannot be what a refusal is about.
		for _, caller := range orderRefusedFirst(c, sectest.Callers()) {
			n++
			want := expect(c, caller)
			t.Run(x.name+"/"+string(caller), func(t *testing.T) {
				before := e.End()
				resp := e.Do(caller, r.method, path, c.ctype, c.body(n))
				after := e.End()
				switch want {
				case refused:
					status, code := 403, "PERMISSION_DENIED"
					if caller.Invalid() {
						status, code = 401, "UNAUTHENTICATED"
					}
					if resp.Status != status || resp.Err().Code != code {
						t.Errorf("%s %s as %s: %s, want %d %s", r.method, path, caller, resp, status, code)
					}
					if after != before {
						t.Errorf("refused request wrote: $all end moved from %v to %v", before, after)
					}
				case linesRefused:
					codes, summary := backfillLines(resp.Body)
					if resp.Status != 200 || !summary || len(codes) == 0 {
						t.Fatalf("back-fill as %s: %s, want 200 with line results and a summary", caller, resp)
					}
					for i, code := range codes {
						if code != "PERMISSION_DENIED" {
							t.Errorf("line %d as %s: code %q, want PERMISSION_DENIED (%s)", i+1, caller, code, resp)
						}
					}
					if after != before {
						t.Errorf("refused lines wrote: $all end moved from %v to %v", before, after)
					}
				case allowed:
					if resp.Status == 401 || resp.Status == 403 || resp.Status >= 500 {
						t.Errorf("%s %s as %s: %s, want authorization to pass", r.method, path, caller, resp)
					}
					if c.ctype == ndjson {
						codes, summary := backfillLines(resp.Body)
						if !summary || slices.Contains(codes, "PERMISSION_DENIED") || slices.Contains(codes, "UNAUTHENTICATED") {
							t.Errorf("back-fill as %s: %s, want every line past authorization", caller, resp)
						}
					}
					t.Logf("%s as %s: %d %s", r.key(), caller, resp.Status, resp.Err().Code)
				}
			})
		}
	}
}

// employerRow is a further row of a route, about another craftsman than
// the route's own row.
type employerRow struct {
	route, what string
	c           cell
}

// employerRows are the rows about a craftsman that the foreign issuer
// (X) employs and B registered: X made itself their employer by
// recording an employment for its own organisation (which any issuer may:
// the domain trusts registered issuers). An employer records trades;
// only the registrar (B) or an admin changes the profile (the security
// review's takeover: an employment, then a renaming).
func employerRows(e *sectest.Env) []employerRow {
	const id = "mx-employed"
	e.MustWrite(sectest.IssuerB, "POST", "/api/registry/v1/craftsmen",
		`{"craftsmanId":"`+id+`","nationalId":"`+sectest.NationalID(999)+`","birthDate":"1990-01-01","region":"120000","personal":{"name":"工匠 mx"}}`)
	e.MustWrite(sectest.IssuerX, "POST", "/api/registry/v1/craftsmen/"+id+"/employments",
		`{"employmentId":"emp-x","employerOrgId":"`+sectest.AcademyX+`","trade":`+trade+`,"occurredAt":"2024-01-01"}`)
	p := "/v1/craftsmen/" + id
	return []employerRow{
		{"registry.UpdateProfile", "a craftsman X employs", cell{path: p, allow: issuersAdmin, body: func(n int) string {
			return fmt.Sprintf(`{"region":"1200%02d","personal":{"name":"改名 %d"}}`, n%100, n)
		}}},
		{"registry.EnterTrade", "a craftsman X employs", cell{path: p + "/trades", allow: anyIssuer, body: func(int) string {
			return `{"trade":` + trade + `}`
		}}},
	}
}

func expect(c cell, caller sectest.Caller) outcome {
	switch {
	case caller.Invalid():
		return refused
	case slices.Contains(c.allow, caller):
		return allowed
	case slices.Contains(c.lines, caller):
		return linesRefused
	}
	return refused
}

// orderRefusedFirst puts the callers that must be refused before those
// that pass, keeping the order otherwise.
func orderRefusedFirst(c cell, callers []sectest.Caller) []sectest.Caller {
	var first, last []sectest.Caller
	for _, x := range callers {
		if expect(c, x) == allowed {
			last = append(last, x)
		} else {
			first = append(first, x)
		}
	}
	return append(first, last...)
}
