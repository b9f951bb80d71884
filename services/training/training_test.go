package training_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/training"
)

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const (
	academy = "tj-college"
	elec    = "6-31-01-03"
)

type env struct {
	store *commandtest.Store
	url   string
	seed  *command.Handler
}

func newEnv(t testing.TB) *env { return newEnvWorkers(t, 8) }

// newEnvWorkers is newEnv with backfillWorkers concurrent back-fill commands.
func newEnvWorkers(t testing.TB, backfillWorkers int) *env {
	t.Helper()
	return newEnvBackfill(t, command.Backfill{Workers: backfillWorkers})
}

// newEnvBackfill is newEnv with the back-fill endpoints configured by bf.
func newEnvBackfill(t testing.TB, bf command.Backfill) *env {
	t.Helper()
	st := commandtest.StartStore(t)
	e := &env{store: st, url: serve(t, st, bf), seed: command.New(st, command.Options{Clock: func() time.Time { return now }, Seal: servicekit.Seal})}
	e.append(t, events.AcademyStream(academy), events.AcademyRegistered{AcademyID: academy, Name: "天津工匠学院", Kind: events.AcademyCollege, Region: "120000"})
	e.append(t, events.AcademyStream(academy), events.CourseAdded{AcademyID: academy, CourseID: "elec-201", Title: "电工中级", Trade: events.Trade{Code: elec, Name: "电工"}, Hours: 80, Mode: events.ModeClassroom})
	return e
}

// serve runs a training service over st behind its real HTTP handler (a
// replica: several may share a store) and returns its URL.
func serve(t testing.TB, st eventstore.Store, bf command.Backfill) string {
	t.Helper()
	return serveAt(t, st, bf, now)
}

// serveAt is serve with the service's clock stopped at at (replicas in
// other processes do not share a clock).
func serveAt(t testing.TB, st eventstore.Store, bf command.Backfill, at time.Time) string {
	t.Helper()
	svc, err := training.New(st, func() time.Time { return at }, training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc = training.LoggingMiddleware(logger)(training.InstrumentingMiddleware(kit.NewMetrics("training"))(svc))
	srv := httptest.NewServer(training.NewHTTPHandler(svc, logger, auth.DevKey(), training.HTTPOptions{Backfill: bf}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// append writes setup events the way another service would (registry,
// competition), through pkg/command on the real store.
func (e *env) append(t testing.TB, stream string, ps ...events.Payload) {
	t.Helper()
	e.appendAs(t, "seed", stream, ps...)
}

// appendAs is append on the authority of organisation org.
func (e *env) appendAs(t testing.TB, org, stream string, ps ...events.Payload) {
	t.Helper()
	_, err := e.seed.Execute(context.Background(), command.Command{Name: "seed", Stream: stream,
		Meta: command.Meta{Issuer: org, Actor: "test"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			out := make([]command.Event, len(ps))
			for i, p := range ps {
				out[i] = command.Event{Type: p.EventType(), Data: p, OccurredAt: now.AddDate(-5, 0, 0)}
			}
			return out, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// craftsman registers craftsman id as the academy would (its registrar).
func (e *env) craftsman(t testing.TB, id string) {
	t.Helper()
	e.appendAs(t, academy, events.CraftsmanStream(id), events.CraftsmanRegistered{CraftsmanID: id,
		NationalIDHash: strings.Repeat("ab", 32), Personal: &events.Personal{Name: "赵磊"}})
}

func (e *env) count(t testing.TB, stream string) int {
	t.Helper()
	h, err := command.Load(context.Background(), e.store, stream)
	if err != nil {
		t.Fatal(err)
	}
	return len(h.Events)
}

func (e *env) do(t testing.TB, path, token string, body any, headers ...string) commandtest.Response {
	t.Helper()
	return commandtest.Do(t, "POST", e.url+path, token, body, headers...)
}

func issuer(t testing.TB, org string) string { return commandtest.Token(t, auth.RoleIssuer, org, "") }

type step struct {
	name, path, token string
	body              any
	status            int
	code, field       string
}

// run performs steps in order on craftsman stream s, checking statuses,
// error codes and fields, and that rejected commands write nothing.
func (e *env) run(t *testing.T, stream string, steps []step) {
	t.Helper()
	for _, s := range steps {
		before := e.count(t, stream)
		r := e.do(t, s.path, s.token, s.body)
		if r.Status != s.status {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.status)
		}
		after := e.count(t, stream)
		if s.status >= 400 {
			if code, field := r.Error(t); code != s.code || field != s.field {
				t.Fatalf("%s: code %s field %q (%s), want %s %q", s.name, code, field, r.Body, s.code, s.field)
			}
			if after != before {
				t.Fatalf("%s: a rejected command wrote %d events", s.name, after-before)
			}
		} else if after != before+1 {
			t.Fatalf("%s: %d events, want %d", s.name, after, before+1)
		}
	}
}

func TestTrainingCommands(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "w1")
	iss := issuer(t, academy)
	other := issuer(t, "other-academy")
	p := "/v1/craftsmen/w1"
	enrol := map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-09-01"}
	complete := map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 80, "score": 91.5, "passed": true, "occurredAt": "2024-12-20"}
	e.run(t, "craftsman-w1", []step{
		{"enrol in unknown academy", p + "/enrolments", issuer(t, "nowhere"), map[string]any{"enrolmentId": "en1", "academyId": "nowhere", "courseId": "elec-201"}, 404, "NOT_FOUND", "academyId"},
		{"enrol in unknown course", p + "/enrolments", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "cooking"}, 404, "NOT_FOUND", "courseId"},
		{"enrol by another academy", p + "/enrolments", other, enrol, 403, "PERMISSION_DENIED", ""},
		{"enrol unknown craftsman", "/v1/craftsmen/ghost/enrolments", iss, enrol, 404, "NOT_FOUND", ""},
		{"enrol bad mode", p + "/enrolments", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "mode": "telepathy"}, 400, "INVALID_ARGUMENT", "mode"},
		{"enrol", p + "/enrolments", iss, enrol, 201, "", ""},
		{"enrol twice", p + "/enrolments", iss, enrol, 409, "CONFLICT", ""},
		{"complete negative hours", p + "/completions", iss, map[string]any{"academyId": academy, "courseId": "elec-201", "hours": -3}, 400, "INVALID_ARGUMENT", "hours"},
		{"complete hours as text", p + "/completions", iss, map[string]any{"academyId": academy, "courseId": "elec-201", "hours": "80"}, 400, "INVALID_ARGUMENT", "hours"},
		{"complete unknown enrolment", p + "/completions", iss, map[string]any{"enrolmentId": "en9", "academyId": academy, "courseId": "elec-201", "hours": 8}, 404, "NOT_FOUND", "enrolmentId"},
		{"complete score over 100", p + "/completions", iss, map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 8, "score": 120}, 400, "INVALID_ARGUMENT", "score"},
		{"complete by another academy", p + "/completions", other, complete, 403, "PERMISSION_DENIED", ""},
		{"complete", p + "/completions", iss, complete, 201, "", ""},
		{"complete twice", p + "/completions", iss, complete, 422, "FAILED_PRECONDITION", ""},
		{"complete without enrolment", p + "/completions", iss, map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 12, "mode": "online_micro", "passed": true}, 201, "", ""},
		{"graduation bad school", p + "/graduations", iss, map[string]any{"schoolKind": "kindergarten", "speciality": "电气", "trade": map[string]any{"code": elec}}, 400, "INVALID_ARGUMENT", "schoolKind"},
		{"graduation", p + "/graduations", iss, map[string]any{"schoolKind": "technician_college", "schoolName": "天津技师学院", "speciality": "电气自动化", "trade": map[string]any{"code": elec}, "occurredAt": "2012-07-01"}, 201, "", ""},
		{"title missing tier", p + "/titles", iss, map[string]any{"title": "助理工程师", "trade": map[string]any{"code": elec}}, 400, "INVALID_ARGUMENT", "tier"},
		{"title", p + "/titles", iss, map[string]any{"tier": "junior", "title": "助理工程师", "series": "工程", "trade": map[string]any{"code": elec}, "occurredAt": "2018-10-01"}, 201, "", ""},
		{"title by a worker", p + "/titles", commandtest.Token(t, auth.RoleWorker, "", "w1"), map[string]any{"tier": "junior", "title": "x", "trade": map[string]any{"code": elec}}, 403, "PERMISSION_DENIED", ""},
		{"assessment by another organisation", p + "/assessments", other, map[string]any{"assessmentId": "as1", "trade": map[string]any{"code": elec}, "level": "intermediate", "evaluatingOrgId": academy, "passed": true}, 403, "PERMISSION_DENIED", ""},
		{"assessment without its outcome", p + "/assessments", iss, map[string]any{"assessmentId": "as1", "trade": map[string]any{"code": elec}, "level": "intermediate", "evaluatingOrgId": academy}, 400, "INVALID_ARGUMENT", "passed"},
		{"assessment bad level", p + "/assessments", iss, map[string]any{"assessmentId": "as1", "trade": map[string]any{"code": elec}, "level": "chief_technician", "evaluatingOrgId": academy, "passed": true}, 400, "INVALID_ARGUMENT", "level"},
		{"assessment", p + "/assessments", iss, map[string]any{"assessmentId": "as1", "trade": map[string]any{"code": elec}, "level": "intermediate", "evaluatingOrgId": academy, "theoryScore": 82, "practicalScore": 88, "passed": true, "occurredAt": "2025-01-10"}, 201, "", ""},
		{"assessment twice", p + "/assessments", iss, map[string]any{"assessmentId": "as1", "trade": map[string]any{"code": elec}, "level": "intermediate", "evaluatingOrgId": academy, "passed": true}, 409, "CONFLICT", ""},
	})
}

func TestGraduationAndTitleNeedALink(t *testing.T) {
	e := newEnv(t)
	e.appendAs(t, "other-academy", events.CraftsmanStream("l1"), events.CraftsmanRegistered{CraftsmanID: "l1", NationalIDHash: strings.Repeat("cd", 32)})
	p := "/v1/craftsmen/l1"
	grad := map[string]any{"schoolKind": "technician_college", "speciality": "电气自动化", "trade": map[string]any{"code": elec}, "occurredAt": "2012-07-01"}
	title := map[string]any{"tier": "junior", "title": "助理工程师", "trade": map[string]any{"code": elec}, "occurredAt": "2018-10-01"}
	steel := issuer(t, "steelworks")
	e.run(t, "craftsman-l1", []step{
		{"graduation by an unrelated issuer", p + "/graduations", steel, grad, 403, "PERMISSION_DENIED", ""},
		{"title by an unrelated issuer", p + "/titles", steel, title, 403, "PERMISSION_DENIED", ""},
		{"graduation by the registrar", p + "/graduations", issuer(t, "other-academy"), grad, 201, "", ""},
		{"title by an admin", p + "/titles", commandtest.Token(t, auth.RoleAdmin, "", ""), title, 201, "", ""},
	})
	e.appendAs(t, "steelworks", events.CraftsmanStream("l1"), events.EmploymentStarted{CraftsmanID: "l1", EmploymentID: "e1", EmployerOrgID: "steelworks", Trade: events.Trade{Code: elec}})
	e.run(t, "craftsman-l1", []step{{"title by the current employer", p + "/titles", steel, title, 201, "", ""}})
	e.appendAs(t, "steelworks", events.CraftsmanStream("l1"), events.EmploymentEnded{CraftsmanID: "l1", EmploymentID: "e1"})
	e.run(t, "craftsman-l1", []step{{"title by a former employer", p + "/titles", steel, title, 403, "PERMISSION_DENIED", ""}})
	e.run(t, "craftsman-l1", []step{{"enrol by its own academy (enrolment creates the link)", p + "/enrolments", issuer(t, academy), map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201"}, 201, "", ""}})
	e.run(t, "craftsman-l1", []step{{"graduation by the enrolling academy", p + "/graduations", issuer(t, academy), grad, 201, "", ""}})
}

func cert(number, route, entitlement, level string) map[string]any {
	b := map[string]any{"trade": map[string]any{"code": elec, "name": "电工"}, "level": level, "certificateNumber": number,
		"family": "skill_level", "evaluatingOrgId": academy, "issuingOrg": map[string]any{"id": academy, "kind": "third_party"},
		"route": route, "occurredAt": "2025-02-01"}
	if entitlement != "" {
		b["entitlementId"] = entitlement
	}
	return b
}

func TestCertificates(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "w2")
	w := events.CraftsmanStream("w2")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nsc-2023", PlacementID: "pl-1"}
	e.append(t, w,
		events.PromotionEntitlementGranted{CraftsmanID: "w2", EntitlementID: "ent-ok", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "w2", EntitlementID: "ent-ok", ApprovalRef: "津人社核〔2025〕12号", ApprovingOrgID: "hr-tj"},
		events.PromotionEntitlementGranted{CraftsmanID: "w2", EntitlementID: "ent-pending", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		// Granted under rules that did not ask for approval (recorded
		// before rules that grant levels had to): never approved.
		events.PromotionEntitlementGranted{CraftsmanID: "w2", EntitlementID: "ent-unasked", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src},
	)
	iss := issuer(t, academy)
	p := "/v1/craftsmen/w2/certificates"
	e.run(t, w, []step{
		{"regular certificate", p, iss, cert("S001", "regular", "", "senior"), 201, "", ""},
		{"same number again", p, iss, cert("S001", "regular", "", "senior"), 409, "CONFLICT", "certificateNumber"},
		{"issuer of neither organisation", p, issuer(t, "other"), cert("S002", "regular", "", "senior"), 403, "PERMISSION_DENIED", ""},
		{"regular citing an entitlement", p, iss, cert("S002", "regular", "ent-ok", "technician"), 400, "INVALID_ARGUMENT", "entitlementId"},
		{"uncertifiable level", p, iss, cert("S002", "regular", "", "chief_technician"), 400, "INVALID_ARGUMENT", "level"},
		{"bad family", p, iss, map[string]any{"trade": map[string]any{"code": elec}, "level": "senior", "certificateNumber": "S002", "family": "diploma", "evaluatingOrgId": academy, "issuingOrg": map[string]any{"id": academy, "kind": "third_party"}, "route": "regular"}, 400, "INVALID_ARGUMENT", "family"},
		{"exceptional without entitlement", p, iss, cert("X001", "exceptional", "", "technician"), 400, "INVALID_ARGUMENT", "entitlementId"},
		{"exceptional citing an unknown entitlement", p, iss, cert("X001", "exceptional", "ent-none", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
		{"exceptional citing an unapproved entitlement", p, iss, cert("X001", "exceptional", "ent-pending", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
		{"exceptional citing an entitlement never approved (rules did not ask)", p, iss, cert("X001", "exceptional", "ent-unasked", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
		{"exceptional at another level", p, iss, cert("X001", "exceptional", "ent-ok", "senior_technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
		{"exceptional certificate", p, iss, cert("X001", "exceptional", "ent-ok", "technician"), 201, "", ""},
		{"entitlement used twice", p, iss, cert("X002", "exceptional", "ent-ok", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
	})
}

func TestIdempotentCompletion(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "w3")
	body := map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 16, "passed": true}
	var results []command.Result
	for i := 0; i < 3; i++ {
		r := e.do(t, "/v1/craftsmen/w3/completions", issuer(t, academy), body, "Idempotency-Key", "paper-2019-0042")
		var res command.Result
		r.JSON(t, &res)
		if want := map[bool]int{true: 201, false: 200}[i == 0]; r.Status != want {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
		results = append(results, res)
	}
	if results[2].Revision != results[0].Revision || results[2].Position != results[0].Position || !results[2].Replayed {
		t.Fatalf("replays %+v", results)
	}
	if n := e.count(t, "craftsman-w3"); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestConcurrentCompletions(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "w4")
	const n = 24
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := commandtest.Do(t, "POST", e.url+"/v1/craftsmen/w4/enrolments", issuer(t, academy),
				map[string]any{"enrolmentId": fmt.Sprintf("en%d", i), "academyId": academy, "courseId": "elec-201"})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 {
			t.Fatalf("enrolment %d: %d", i, s)
		}
	}
	if got := e.count(t, "craftsman-w4"); got != n+1 {
		t.Fatalf("%d events, want %d", got, n+1)
	}
}

// backfill posts a file and parses the NDJSON answer.
func (e *env) backfill(t testing.TB, path, contentType, body string) (map[int]command.LineResult, command.Summary) {
	t.Helper()
	return e.backfillAs(t, issuer(t, academy), path, contentType, body)
}

func (e *env) backfillAs(t testing.TB, token, path, contentType, body string) (map[int]command.LineResult, command.Summary) {
	t.Helper()
	return servicetest.BackfillOK(t, e.url+path, token, contentType, body)
}

func TestBackfillCompletionsJSONLines(t *testing.T) {
	e := newEnv(t)
	for _, w := range []string{"b1", "b2"} {
		e.craftsman(t, w)
	}
	var b strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, `{"craftsmanId":"b%d","academyId":"%s","courseId":"elec-201","hours":%d,"passed":true,"occurredAt":"2016-0%d-15"}`+"\n", i%2+1, academy, 4+i, i%9+1)
	}
	bad := map[int]string{ // line -> expected code
		21: "INVALID_ARGUMENT",  // negative hours
		22: "NOT_FOUND",         // unknown craftsman
		23: "INVALID_ARGUMENT",  // malformed JSON
		24: "INVALID_ARGUMENT",  // unknown field
		25: "PERMISSION_DENIED", // another academy's record
		26: "NOT_FOUND",         // unknown course
		27: "INVALID_ARGUMENT",  // occurred in the future
	}
	b.WriteString(`{"craftsmanId":"b1","academyId":"` + academy + `","courseId":"elec-201","hours":-1}` + "\n")
	b.WriteString(`{"craftsmanId":"ghost","academyId":"` + academy + `","courseId":"elec-201","hours":3}` + "\n")
	b.WriteString(`{"craftsmanId":"b1",` + "\n")
	b.WriteString(`{"craftsmanId":"b1","academyId":"` + academy + `","courseId":"elec-201","hours":3,"teacher":"x"}` + "\n")
	b.WriteString(`{"craftsmanId":"b1","academyId":"other","courseId":"elec-201","hours":3}` + "\n")
	b.WriteString(`{"craftsmanId":"b1","academyId":"` + academy + `","courseId":"nope","hours":3}` + "\n")
	b.WriteString(`{"craftsmanId":"b1","academyId":"` + academy + `","courseId":"elec-201","hours":3,"occurredAt":"2031-01-01"}` + "\n")
	lines, sum := e.backfill(t, "/v1/backfill/completions", "application/x-ndjson", b.String())
	if sum.Lines != 27 || sum.OK != 20 || sum.Failed != 7 {
		t.Fatalf("summary %+v", sum)
	}
	for line, code := range bad {
		if lines[line].OK || lines[line].Code != code {
			t.Errorf("line %d: %+v, want %s", line, lines[line], code)
		}
	}
	if n := e.count(t, "craftsman-b1") + e.count(t, "craftsman-b2"); n != 22 {
		t.Fatalf("%d events, want 22", n)
	}
	// Back-filled events say so, keep their historical date, and chain.
	h, _ := command.Load(context.Background(), e.store, "craftsman-b1")
	raw := make([]events.Raw, len(h.Events))
	for i, ev := range h.Events {
		raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Fatalf("hash chain of a back-filled stream: %v", brk)
	}
	m, _ := command.DecodeMetadata(h.Events[1].Metadata)
	if m.Source != "import" || m.OccurredAt.Year() != 2016 || !strings.HasPrefix(m.CorrelationID, "backfill-") {
		t.Fatalf("metadata %+v", m)
	}
	// The same file again writes nothing new: every good line is a replay.
	_, again := e.backfill(t, "/v1/backfill/completions", "application/x-ndjson", b.String())
	if again.OK != 20 || again.Replayed != 20 || again.Failed != 7 {
		t.Fatalf("second run %+v", again)
	}
	if n := e.count(t, "craftsman-b1") + e.count(t, "craftsman-b2"); n != 22 {
		t.Fatalf("%d events after the second run, want 22", n)
	}
}

func TestBackfillCertificatesCSV(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "c1")
	csv := "craftsmanId,key,tradeCode,tradeName,level,certificateNumber,family,evaluatingOrgId,issuingOrgId,issuingOrgKind,route,occurredAt\n" +
		"c1,k1," + elec + ",电工,junior,P-2010-1,vocational_qualification," + academy + "," + academy + ",designated_body,regular,2010-05-01\n" +
		"c1,k2," + elec + ",电工,intermediate,P-2014-7,vocational_qualification," + academy + "," + academy + ",designated_body,regular,2014-05-01\n" +
		"c1,k3," + elec + ",电工,grandmaster,P-2016-1,skill_level," + academy + "," + academy + ",third_party,regular,2016-05-01\n" +
		"c1,k4," + elec + ",电工,senior,P-2014-7,skill_level," + academy + "," + academy + ",third_party,regular,2018-05-01\n" +
		"c1,k5," + elec + ",电工,senior\n" +
		"c1,k6," + elec + ",电工,technician,P-2020-3,skill_level," + academy + "," + academy + ",third_party,exceptional,2020-05-01\n"
	lines, sum := e.backfill(t, "/v1/backfill/certificates", "text/csv; charset=utf-8", csv)
	if sum.Lines != 6 || sum.OK != 2 || sum.Failed != 4 {
		t.Fatalf("summary %+v lines %+v", sum, lines)
	}
	want := map[int]string{4: "INVALID_ARGUMENT", 5: "CONFLICT", 6: "INVALID_ARGUMENT", 7: "INVALID_ARGUMENT"}
	for line, code := range want {
		if lines[line].OK || lines[line].Code != code {
			t.Errorf("line %d: %+v, want %s", line, lines[line], code)
		}
	}
	if !lines[2].OK || !lines[3].OK {
		t.Fatalf("good lines: %+v %+v", lines[2], lines[3])
	}
	if n := e.count(t, "craftsman-c1"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	// Refused as a whole: a worker, and a format the endpoint does not take.
	r := commandtest.Do(t, "POST", e.url+"/v1/backfill/certificates", commandtest.Token(t, auth.RoleWorker, "", "c1"), csv)
	if r.Status != 403 && r.Status != 400 {
		t.Fatalf("worker back-fill: %d %s", r.Status, r.Body)
	}
	req, _ := http.NewRequest("POST", e.url+"/v1/backfill/certificates", strings.NewReader(csv))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+commandtest.Token(t, auth.RoleWorker, "", "c1"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("worker back-fill: %d", resp.StatusCode)
	}
}

func TestStoreDownAndBack(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "d1")
	body := map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 2, "passed": true}
	e.store.Stop(t)
	for i := 0; i < 5; i++ {
		r := e.do(t, "/v1/craftsmen/d1/completions", issuer(t, academy), map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 2})
		if code, _ := r.Error(t); r.Status != 503 || code != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("store down: %d %s", r.Status, r.Body)
		}
	}
	e.store.Restart(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.do(t, "/v1/craftsmen/d1/completions", issuer(t, academy), body, "Idempotency-Key", "retry-me")
		if r.Status == 201 {
			break
		}
		if r.Status != 503 || time.Now().After(deadline) {
			t.Fatalf("after restart: %d %s", r.Status, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.count(t, "craftsman-d1"); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestBackfillGraduationsAndTitles(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "g1")
	csv := "craftsmanId,key,schoolKind,speciality,tradeCode,programmeTarget,seniorClass,occurredAt\n" +
		"g1,k1,technical_school,电工,6-31-01-03,intermediate,false,2009-07-01\n" +
		"g1,k2,kindergarten,电工,6-31-01-03,,,2010-07-01\n" + // bad school kind
		"g1,k3,technician_college,电工,6-31-01-03,,maybe,2011-07-01\n" + // bad boolean
		"g1,k4,technician_college,电工,6-31-01-03,grandmaster,,2011-07-01\n" // bad level
	lines, sum := e.backfill(t, "/v1/backfill/graduations", "text/csv", csv)
	if sum.OK != 1 || sum.Failed != 3 {
		t.Fatalf("graduations %+v %+v", sum, lines)
	}
	for line, field := range map[int]string{3: "schoolKind", 4: "seniorClass", 5: "programmeTarget"} {
		if lines[line].OK || lines[line].Code != "INVALID_ARGUMENT" || !strings.HasPrefix(lines[line].Message, fmt.Sprintf("field %q: ", field)) || strings.Count(lines[line].Message, "field ") != 1 {
			t.Errorf("line %d: %+v, want a %s error", line, lines[line], field)
		}
	}
	jsonl := `{"craftsmanId":"g1","key":"t1","tier":"junior","title":"助理工程师","trade":{"code":"6-31-01-03"},"occurredAt":"2016-10-01"}` + "\n" +
		`{"craftsmanId":"g1","key":"t2","tier":"chief","title":"x","trade":{"code":"6-31-01-03"}}` + "\n" +
		`{"craftsmanId":"nobody","key":"t3","tier":"junior","title":"x","trade":{"code":"6-31-01-03"}}` + "\n"
	lines, sum = e.backfill(t, "/v1/backfill/titles", "application/x-ndjson", jsonl)
	if sum.OK != 1 || sum.Failed != 2 || lines[2].Code != "INVALID_ARGUMENT" || lines[3].Code != "NOT_FOUND" {
		t.Fatalf("titles %+v %+v", sum, lines)
	}
	if _, again := e.backfill(t, "/v1/backfill/titles", "application/x-ndjson", jsonl); again.Replayed != 1 {
		t.Fatalf("second run %+v", again)
	}
	if n := e.count(t, "craftsman-g1"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

// TestBackfillEnrolmentsAndAssessments: historical enrolments and
// assessments back-filled from CSV and JSON Lines, each line checked as its
// command is (unknown course, another academy's line, a bad level or
// score), a re-run replayed, and only the good lines written.
func TestBackfillEnrolmentsAndAssessments(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "h1")
	csv := "craftsmanId,key,enrolmentId,academyId,courseId,module,mode,occurredAt\n" +
		"h1,e1,en-2019,tj-college,elec-201,电机控制,,2019-09-01\n" +
		"h1,e2,en-2020,tj-college,cooking,,,2020-09-01\n" + // unknown course
		"h1,e3,en-2021,tj-college,elec-201,,telepathy,2021-09-01\n" + // bad mode
		"h1,e4,en-2022,other-college,elec-201,,,2022-09-01\n" // not the issuer's academy
	lines, sum := e.backfill(t, "/v1/backfill/enrolments", "text/csv", csv)
	if sum.OK != 1 || sum.Failed != 3 {
		t.Fatalf("enrolments %+v %+v", sum, lines)
	}
	for line, want := range map[int][2]string{3: {"NOT_FOUND", "courseId"}, 4: {"INVALID_ARGUMENT", "mode"}, 5: {"PERMISSION_DENIED", "other-college"}} {
		if l := lines[line]; l.OK || l.Code != want[0] || !strings.Contains(l.Message, want[1]) {
			t.Errorf("enrolment line %d: %+v, want %s naming %q", line, l, want[0], want[1])
		}
	}
	if again, sum := e.backfill(t, "/v1/backfill/enrolments", "text/csv", csv); sum.Replayed != 1 || !again[2].Replayed {
		t.Fatalf("second run %+v %+v", sum, again)
	}

	csv = "craftsmanId,key,assessmentId,tradeCode,level,evaluatingOrgId,theoryScore,practicalScore,passed,occurredAt\n" +
		"h1,a1,as-2013,6-31-01-03,junior,tj-college,71,80,true,2013-06-15\n" +
		"h1,a2,as-2014,6-31-01-03,grandmaster,tj-college,,,true,2014-06-15\n" + // bad level
		"h1,a3,as-2015,6-31-01-03,intermediate,tj-college,seventy,,true,2015-06-15\n" + // bad score
		"h1,a4,as-2016,6-31-01-03,intermediate,tj-college,,,perhaps,2016-06-15\n" + // bad boolean
		"h1,a7,as-2018,6-31-01-03,intermediate,tj-college,,,,2018-06-15\n" // no outcome: not a failure
	lines, sum = e.backfill(t, "/v1/backfill/assessments", "text/csv", csv)
	if sum.OK != 1 || sum.Failed != 4 {
		t.Fatalf("assessments %+v %+v", sum, lines)
	}
	for line, field := range map[int]string{3: "level", 4: "theoryScore", 5: "passed", 6: "passed"} {
		if l := lines[line]; l.OK || l.Code != "INVALID_ARGUMENT" || !strings.HasPrefix(l.Message, fmt.Sprintf("field %q: ", field)) || strings.Count(l.Message, "field ") != 1 {
			t.Errorf("assessment line %d: %+v, want one INVALID_ARGUMENT about %s", line, l, field)
		}
	}
	jsonl := `{"craftsmanId":"h1","key":"a5","assessmentId":"as-2017","trade":{"code":"6-31-01-03"},"level":"intermediate","evaluatingOrgId":"tj-college","practicalScore":77,"passed":true,"occurredAt":"2017-06-15"}` + "\n" +
		`{"craftsmanId":"h1","key":"a6","assessmentId":"as-2013","trade":{"code":"6-31-01-03"},"level":"senior","evaluatingOrgId":"tj-college","passed":false}` + "\n" + // the id a1 used
		`{"craftsmanId":"h1","key":"a8","assessmentId":"as-2019","trade":{"code":"6-31-01-03"},"level":"senior","evaluatingOrgId":"tj-college"}` + "\n" // no outcome
	lines, sum = e.backfill(t, "/v1/backfill/assessments", "application/x-ndjson", jsonl)
	if sum.OK != 1 || sum.Failed != 2 || lines[2].Code != "CONFLICT" || lines[3].Code != "INVALID_ARGUMENT" || !strings.HasPrefix(lines[3].Message, `field "passed": `) {
		t.Fatalf("assessments (JSON Lines) %+v %+v", sum, lines)
	}
	if n := e.count(t, "craftsman-h1"); n != 4 { // registration, 1 enrolment, 2 assessments
		t.Fatalf("%d events, want 4", n)
	}
}
