package mentorship_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

func start(id, master, apprentice string) string {
	return fmt.Sprintf(`{"mentorshipId":%q,"masterId":%q,"apprenticeId":%q,"trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":"2025-03-01"}`,
		id, master, apprentice, trade, orgAcademy)
}

func TestStartMentorship(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("junior", events.Intermediate)
	e.register("app", events.Junior)
	e.register("peer", events.Senior)

	var r mentorship.Response
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), &r); code != 201 {
		t.Fatalf("start: %d %+v", code, eb)
	}
	if r.Replayed || r.Mentorship.Stream != "mentorship-m1" || r.Master.Stream != "craftsman-master" || r.Apprentice.Stream != "craftsman-app" ||
		r.Mentorship.Revision != 0 || r.EventType != events.TypeMentorshipStarted {
		t.Errorf("response %+v", r)
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipStarted); n != 1 {
			t.Errorf("%s has %d starts", s, n)
		}
	}
	var again mentorship.Response
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), &again); code != 200 || !again.Replayed ||
		again.Master.Revision != r.Master.Revision || again.Position != r.Position {
		t.Errorf("repeat: %d %+v %+v", code, eb, again)
	}
	if n := e.Count("craftsman-master", events.TypeMentorshipStarted); n != 1 {
		t.Errorf("repeat wrote again: %d starts", n)
	}

	tests := []struct {
		name, caller, body string
		status             int
		code, field        string
	}{
		{"self-mentoring", "issuer", start("m2", "master", "master"), 400, "INVALID_ARGUMENT", "apprenticeId"},
		{"master below senior", "issuer", start("m2", "junior", "app"), 422, "FAILED_PRECONDITION", "masterId"},
		{"apprentice not below master", "issuer", start("m2", "master", "peer"), 422, "FAILED_PRECONDITION", "apprenticeId"},
		{"unknown master", "issuer", start("m2", "ghost", "app"), 404, "NOT_FOUND", "masterId"},
		{"unknown apprentice", "issuer", start("m2", "master", "ghost"), 404, "NOT_FOUND", "apprenticeId"},
		{"same id, other parties", "issuer", start("m1", "peer", "app"), 409, "CONFLICT", "mentorshipId"},
		{"the same pair twice at once", "issuer", start("m2", "master", "app"), 409, "CONFLICT", "apprenticeId"},
		{"too long", "issuer", strings.Replace(start("m2", "master", "app"), `"plannedMonths":24`, `"plannedMonths":48`, 1), 400, "INVALID_ARGUMENT", "plannedMonths"},
		{"too short", "issuer", strings.Replace(start("m2", "master", "app"), `"plannedMonths":24`, `"plannedMonths":6`, 1), 400, "INVALID_ARGUMENT", "plannedMonths"},
		{"no organisation", "issuer", strings.Replace(start("m2", "master", "app"), `"academyId":"`+orgAcademy+`",`, ``, 1), 400, "INVALID_ARGUMENT", "academyId"},
		{"bad trade", "issuer", strings.Replace(start("m2", "master", "app"), trade, "electric", 1), 400, "INVALID_ARGUMENT", "trade.code"},
		{"unknown kind", "issuer", strings.Replace(start("m2", "master", "app"), `"plannedMonths"`, `"kind":"guild","plannedMonths"`, 1), 400, "INVALID_ARGUMENT", "kind"},
		{"future", "issuer", strings.Replace(start("m2", "master", "app"), "2025-03-01", "2030-01-01", 1), 400, "INVALID_ARGUMENT", "occurredAt"},
		{"another academy", "otherIssuer", start("m2", "master", "app"), 403, "PERMISSION_DENIED", ""},
		{"hr may not record", "hr", start("m2", "master", "app"), 403, "PERMISSION_DENIED", ""},
		{"auditor may not record", "auditor", start("m2", "master", "app"), 403, "PERMISSION_DENIED", ""},
		{"no token", "", start("m2", "master", "app"), 401, "UNAUTHENTICATED", ""},
		{"unknown field", "issuer", strings.Replace(start("m2", "master", "app"), `"plannedMonths"`, `"mentor":"x","plannedMonths"`, 1), 400, "INVALID_ARGUMENT", "mentor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", "/v1/mentorships", tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	if got := e.Types("mentorship-m2"); got != nil {
		t.Errorf("refused starts wrote %v", got)
	}
	for _, s := range []string{"craftsman-master", "craftsman-junior", "craftsman-peer", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipStarted); n > 1 || (n == 1) != (s == "craftsman-master" || s == "craftsman-app") {
			t.Errorf("%s has %d starts after refusals", s, n)
		}
	}
}

// The default limit: a master has at most 8 active apprentices; ending a
// pairing frees a place.
func TestMentorLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Technician)
	for i := range 9 {
		e.register(fmt.Sprintf("a%d", i), 0)
	}
	for i := range 8 {
		if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start(fmt.Sprintf("m%d", i), "master", fmt.Sprintf("a%d", i)), nil); code != 201 {
			t.Fatalf("start %d: %d %+v", i, code, eb)
		}
	}
	code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m8", "master", "a8"), nil)
	if code != 422 || eb.Code != "FAILED_PRECONDITION" || eb.Field != "masterId" || !strings.Contains(eb.Message, "8 active apprentices") {
		t.Fatalf("ninth: %d %+v", code, eb)
	}
	if e.Types("mentorship-m8") != nil || e.Count("craftsman-a8", events.TypeMentorshipStarted) != 0 {
		t.Error("the refused ninth pairing was written")
	}
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m0/end", `{"reason":"moved away","occurredAt":"2025-06-01"}`, nil); code != 201 {
		t.Fatalf("end: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m8", "master", "a8"), nil); code != 201 {
		t.Errorf("ninth after an end: %d %+v", code, eb)
	}
}

// Concurrent starts for one master never exceed the (configured) limit:
// the master's stream is appended at the revision the decision read.
func TestMentorLimitConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{MaxActiveApprentices: 2})
	e.register("master", events.Senior)
	for i := range 6 {
		e.register(fmt.Sprintf("a%d", i), 0)
	}
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = e.Do("issuer", "POST", "/v1/mentorships", start(fmt.Sprintf("m%d", i), "master", fmt.Sprintf("a%d", i)), nil)
		}()
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		switch c {
		case 201:
			ok++
		case 422, 409: // refused by the limit, or lost the race too often
		default:
			t.Errorf("start %d: %d", i, c)
		}
	}
	if n := e.Count("craftsman-master", events.TypeMentorshipStarted); n != ok || n != 2 {
		t.Errorf("master has %d starts, %d answered 201; want 2", n, ok)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.SeniorTechnician)
	e.register("app", 0)
	e.register("app2", 0)
	e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil)
	e.Do("issuer", "POST", "/v1/mentorships", start("m2", "master", "app2"), nil)

	session := `{"sessionId":"s1","hours":3.5,"topic":"TIG welding","occurredAt":"2025-04-01"}`
	var s1, s1again mentorship.Response
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/sessions", session, &s1); code != 201 || s1.EventType != events.TypeMentorshipSessionLogged {
		t.Fatalf("session: %d %+v %+v", code, eb, s1)
	}
	if code, _ := e.Do("issuer", "POST", "/v1/mentorships/m1/sessions", session, &s1again); code != 200 || !s1again.Replayed || s1again.Apprentice.Revision != s1.Apprentice.Revision {
		t.Errorf("session again: %d %+v", code, s1again)
	}
	// Without a session id, the Idempotency-Key header identifies the session.
	for range 2 {
		if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/sessions", `{"hours":2,"occurredAt":"2025-04-08"}`, nil, "Idempotency-Key", "k-2"); code >= 300 {
			t.Fatalf("keyed session: %d %+v", code, eb)
		}
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipSessionLogged); n != 2 {
			t.Errorf("%s has %d sessions, want 2", s, n)
		}
	}
	rejections := []struct {
		name, caller, path, body string
		status                   int
		code, field              string
	}{
		{"zero hours", "issuer", "/v1/mentorships/m1/sessions", `{"hours":0}`, 400, "INVALID_ARGUMENT", "hours"},
		{"unknown pairing", "issuer", "/v1/mentorships/nope/sessions", `{"hours":1}`, 404, "NOT_FOUND", ""},
		{"another academy", "otherIssuer", "/v1/mentorships/m1/sessions", `{"hours":1}`, 403, "PERMISSION_DENIED", ""},
		{"before the start", "issuer", "/v1/mentorships/m1/sessions", `{"hours":1,"occurredAt":"2024-01-01"}`, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"complete without level", "issuer", "/v1/mentorships/m1/complete", `{}`, 400, "INVALID_ARGUMENT", "levelReached"},
		{"complete with unknown level", "issuer", "/v1/mentorships/m1/complete", `{"levelReached":"wizard"}`, 400, "INVALID_ARGUMENT", ""},
		{"end without reason", "issuer", "/v1/mentorships/m2/end", `{}`, 400, "INVALID_ARGUMENT", "reason"},
	}
	for _, tc := range rejections {
		t.Run(tc.name, func(t *testing.T) {
			code, eb := e.Do(tc.caller, "POST", tc.path, tc.body, nil)
			if code != tc.status || eb.Code != tc.code || eb.Field != tc.field {
				t.Errorf("got %d %+v, want %d %s field %q", code, eb, tc.status, tc.code, tc.field)
			}
		})
	}
	var done mentorship.Response
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`, &done); code != 201 || done.EventType != events.TypeMentorshipCompleted {
		t.Fatalf("complete: %d %+v", code, eb)
	}
	if code, _ := e.Do("issuer", "POST", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`, nil); code != 200 {
		t.Errorf("complete again: %d, want 200 (replay)", code)
	}
	for _, p := range []struct{ path, body string }{
		{"/v1/mentorships/m1/sessions", `{"hours":1}`},
		{"/v1/mentorships/m1/end", `{"reason":"x"}`},
	} {
		if code, eb := e.Do("issuer", "POST", p.path, p.body, nil); code != 422 || eb.Code != "FAILED_PRECONDITION" {
			t.Errorf("%s after completion: %d %+v", p.path, code, eb)
		}
	}
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m2/end", `{"reason":"apprentice left the company"}`, nil); code != 201 {
		t.Errorf("end: %d %+v", code, eb)
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipCompleted); n != 1 {
			t.Errorf("%s has %d completions", s, n)
		}
	}
	if n := e.Count("craftsman-app2", events.TypeMentorshipEndedEarly); n != 1 {
		t.Errorf("app2 has %d early ends", n)
	}
	for _, s := range []string{"mentorship-m1", "mentorship-m2", "craftsman-master", "craftsman-app", "craftsman-app2"} {
		e.VerifyChain(s)
	}
}

// With the store stopped, commands fail fast with 503 and Retry-After and
// write nothing; once it is back, the service recovers by itself.
func TestStoreDown(t *testing.T) {
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("app", 0)
	e.DB.Stop(t)
	for range 3 {
		req, _ := http.NewRequest("POST", e.URL+"/v1/mentorships", strings.NewReader(start("m1", "master", "app")))
		req.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("store down: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	e.DB.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil)
		if code == 201 {
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("after restart: %d %+v", code, eb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipStarted); n != 1 {
			t.Errorf("%s has %d starts", s, n)
		}
	}
}

// A session, completion or early end sent again under the same id is a
// replay only when it records the same data (its date aside: a retry
// without occurredAt may come on another day); other data is 409 naming
// the field, and nothing is written.
func TestFollowSameIDOtherData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	e.register("app", events.Junior)
	e.register("app2", events.Junior)
	for id, app := range map[string]string{"m1": "app", "m2": "app2"} {
		if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start(id, "master", app), nil); code != 201 {
			t.Fatalf("start %s: %d %+v", id, code, eb)
		}
	}
	steps := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"session", "/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":2,"topic":"a","occurredAt":"2025-04-01"}`, 201, ""},
		{"same session, other day", "/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":2,"topic":"a","occurredAt":"2025-04-02"}`, 200, ""},
		{"same session id, other hours", "/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":9,"topic":"a","occurredAt":"2025-04-01"}`, 409, "hours"},
		{"same session id, other topic", "/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":2,"topic":"b","occurredAt":"2025-04-01"}`, 409, "topic"},
		{"keyed session", "/v1/mentorships/m1/sessions", `{"hours":1,"occurredAt":"2025-04-03"}`, 201, ""},
		{"same key, other hours", "/v1/mentorships/m1/sessions", `{"hours":3,"occurredAt":"2025-04-03"}`, 409, "hours"},
		{"completion", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`, 201, ""},
		{"same completion without a date", "/v1/mentorships/m1/complete", `{"levelReached":"intermediate"}`, 200, ""},
		{"completion at another level", "/v1/mentorships/m1/complete", `{"levelReached":"senior","occurredAt":"2025-10-05"}`, 409, "levelReached"},
		{"early end", "/v1/mentorships/m2/end", `{"reason":"moved away","occurredAt":"2025-06-01"}`, 201, ""},
		{"same early end", "/v1/mentorships/m2/end", `{"reason":"moved away","occurredAt":"2025-06-01"}`, 200, ""},
		{"early end for another reason", "/v1/mentorships/m2/end", `{"reason":"fell ill","occurredAt":"2025-06-01"}`, 409, "reason"},
	}
	for _, st := range steps {
		var headers []string
		if strings.HasPrefix(st.name, "keyed") || strings.HasPrefix(st.name, "same key") {
			headers = []string{"Idempotency-Key", "k-1"}
		}
		var r mentorship.Response
		code, eb := e.Do("issuer", "POST", st.path, st.body, &r, headers...)
		if code != st.status || eb.Field != st.field || (code == 409) != (eb.Code == "CONFLICT") || (code == 200) != r.Replayed {
			t.Errorf("%s: %d %+v replayed=%v, want %d field %q", st.name, code, eb, r.Replayed, st.status, st.field)
		}
	}
	for _, c := range []struct {
		stream, typ string
		n           int
	}{
		{"mentorship-m1", events.TypeMentorshipSessionLogged, 2}, {"craftsman-master", events.TypeMentorshipSessionLogged, 2}, {"craftsman-app", events.TypeMentorshipSessionLogged, 2},
		{"mentorship-m1", events.TypeMentorshipCompleted, 1}, {"craftsman-master", events.TypeMentorshipCompleted, 1}, {"craftsman-app", events.TypeMentorshipCompleted, 1},
		{"mentorship-m2", events.TypeMentorshipEndedEarly, 1}, {"craftsman-master", events.TypeMentorshipEndedEarly, 1}, {"craftsman-app2", events.TypeMentorshipEndedEarly, 1},
	} {
		if n := e.Count(c.stream, c.typ); n != c.n {
			t.Errorf("%s has %d %s, want %d", c.stream, n, c.typ, c.n)
		}
	}
	for _, m := range servicetest.Career(t, e.Store, "app").Mentorships {
		if m.LevelReached == nil || *m.LevelReached != events.Intermediate {
			t.Errorf("app's pairing %s reached %v, want intermediate", m.ID, m.LevelReached)
		}
	}
}
