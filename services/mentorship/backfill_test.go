package mentorship_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

func TestBackfillMentorships(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Technician)
	for _, a := range []string{"a1", "a2", "a3"} {
		e.register(a, 0)
	}
	pair := func(id, app, extra string) string {
		return `{"mentorshipId":"` + id + `","masterId":"master","apprenticeId":"` + app + `","trade":{"code":"` + trade +
			`"},"academyId":"` + orgAcademy + `","plannedMonths":24,"occurredAt":"2023-03-01"` + extra + `}`
	}
	file := strings.Join([]string{
		pair("m1", "a1", `,"sessions":[{"hours":8,"occurredAt":"2023-05-01"},{"hours":8,"occurredAt":"2023-07-01"}],"completed":{"levelReached":"junior","occurredAt":"2025-03-01"}`),
		pair("m2", "a2", `,"ended":{"reason":"left","occurredAt":"2024-01-01"}`),
		pair("m3", "master", ``),
		pair("m4", "a3", `,"completed":{"levelReached":"junior"},"ended":{"reason":"x"}`),
		strings.Replace(pair("m5", "a3", ``), `,"occurredAt":"2023-03-01"`, ``, 1),
		pair("m6", "a3", `,"sessions":[{"hours":30,"occurredAt":"2023-05-01"}]`),
	}, "\n")
	code, lines, sum := e.Backfill("issuer", "/v1/backfill/mentorships", "application/x-ndjson", file)
	if code != 200 {
		t.Fatalf("backfill: %d", code)
	}
	want := map[int]string{1: "", 2: "", 3: "INVALID_ARGUMENT", 4: "INVALID_ARGUMENT", 5: "INVALID_ARGUMENT", 6: "INVALID_ARGUMENT"}
	for line, code := range want {
		if lr := lines[line]; lr.OK != (code == "") || lr.Code != code {
			t.Errorf("line %d: %+v, want code %q", line, lr, code)
		}
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-a1"} {
		if n := e.Count(s, events.TypeMentorshipSessionLogged); n != 2 {
			t.Errorf("%s has %d sessions, want 2", s, n)
		}
	}
	for _, s := range []string{"mentorship-m3", "mentorship-m4", "mentorship-m5", "mentorship-m6"} {
		if got := e.Types(s); got != nil {
			t.Errorf("a refused line wrote %s: %v", s, got)
		}
	}
	if n := e.Count("craftsman-a2", events.TypeMentorshipEndedEarly); n != 1 {
		t.Errorf("a2 has %d early ends", n)
	}
	_, lines, sum = e.Backfill("issuer", "/v1/backfill/mentorships", "application/x-ndjson", file)
	if sum.Summary.OK != 2 || sum.Summary.Replayed != 2 || !lines[1].Replayed {
		t.Errorf("re-import: %+v %+v", sum.Summary, lines[1])
	}
	if n := e.Count("craftsman-master", events.TypeMentorshipSessionLogged); n != 2 {
		t.Errorf("after re-import the master has %d sessions", n)
	}
	if code, _, _ := e.Backfill("hr", "/v1/backfill/mentorships", "application/x-ndjson", file); code != 403 {
		t.Errorf("hr: %d, want 403", code)
	}
	e.VerifyChain("craftsman-master")
}

// Every date of a back-filled line is checked before its first write: a
// session, completion or early end dated before the start or in the
// future, or a completion or early end without a date, refuses the line
// and nothing of it is written (its start would otherwise hold a place in
// the master's limit).
func TestBackfillLineDates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.Senior)
	lines := []struct{ extra, field string }{
		{`,"sessions":[{"hours":2,"occurredAt":"2024-06-01"},{"hours":2,"occurredAt":"2023-06-01"}]`, `"sessions[1]": field "occurredAt"`},
		{`,"sessions":[{"hours":2,"occurredAt":"2030-06-01"}]`, `"sessions[0]": field "occurredAt"`},
		{`,"completed":{"levelReached":"intermediate","occurredAt":"2023-01-01"}`, `"completed": field "occurredAt"`},
		{`,"completed":{"levelReached":"intermediate","occurredAt":"2030-01-01"}`, `"completed": field "occurredAt"`},
		{`,"completed":{"levelReached":"intermediate"}`, `"completed.occurredAt"`},
		{`,"ended":{"reason":"left","occurredAt":"2024-02-28"}`, `"ended": field "occurredAt"`},
		{`,"ended":{"reason":"left"}`, `"ended.occurredAt"`},
		{`,"sessions":[{"hours":2,"occurredAt":"2024-06-01"}],"completed":{"levelReached":"intermediate","occurredAt":"2025-03-01"}`, ``},
	}
	var file []string
	for i, l := range lines {
		app := fmt.Sprintf("a%d", i)
		e.register(app, events.Junior)
		file = append(file, `{"mentorshipId":"bf`+fmt.Sprint(i)+`","masterId":"master","apprenticeId":"`+app+`","trade":{"code":"`+trade+
			`"},"academyId":"`+orgAcademy+`","plannedMonths":24,"occurredAt":"2024-03-01"`+l.extra+`}`)
	}
	code, res, _ := e.Backfill("issuer", "/v1/backfill/mentorships", "application/x-ndjson", strings.Join(file, "\n"))
	if code != 200 {
		t.Fatalf("backfill: %d", code)
	}
	for i, l := range lines {
		lr := res[i+1]
		if l.field == "" {
			if !lr.OK {
				t.Errorf("line %d: %+v", i+1, lr)
			}
			continue
		}
		if lr.OK || lr.Code != "INVALID_ARGUMENT" || !strings.Contains(lr.Message, `field `+l.field) {
			t.Errorf("line %d: %+v, want INVALID_ARGUMENT on %s", i+1, lr, l.field)
		}
		if got := e.Types(fmt.Sprintf("mentorship-bf%d", i)); got != nil {
			t.Errorf("refused line %d wrote its pairing: %v", i+1, got)
		}
		if n := e.Count(fmt.Sprintf("craftsman-a%d", i), events.TypeMentorshipStarted); n != 0 {
			t.Errorf("refused line %d wrote its apprentice's start", i+1)
		}
	}
	var ids []string
	for _, m := range servicetest.Career(t, e.Store, "master").Mentorships {
		ids = append(ids, m.ID)
	}
	if want := fmt.Sprintf("bf%d", len(lines)-1); len(ids) != 1 || ids[0] != want {
		t.Errorf("the master's pairings: %v, want only %s", ids, want)
	}
}
