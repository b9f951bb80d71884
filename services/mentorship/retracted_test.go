package mentorship_test

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// retractedEnv is a pairing m1 of master and app started on 2025-03-01,
// with the callers' helpers of the tests below.
type retractedEnv struct {
	*env
	t *testing.T
}

func newRetractedEnv(t *testing.T, opts mentorship.Options) retractedEnv {
	e := retractedEnv{newEnv(t, opts), t}
	e.register("master", events.SeniorTechnician)
	e.register("app", 0)
	e.register("app2", 0)
	e.start("m1", "app", 201)
	return e
}

func (e retractedEnv) start(id, apprentice string, want int) mentorship.Response {
	e.t.Helper()
	return e.post("start "+id, "/v1/mentorships", fmt.Sprintf(`{"mentorshipId":%q,"masterId":"master","apprenticeId":%q,"trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":"2025-03-01"}`,
		id, apprentice, trade, orgAcademy), want)
}

func (e retractedEnv) post(what, path, body string, want int) mentorship.Response {
	e.t.Helper()
	var r mentorship.Response
	if code, eb := e.Do("issuer", "POST", path, body, &r); code != want {
		e.t.Fatalf("%s: %d %+v, want %d", what, code, eb, want)
	}
	return r
}

// retract retracts the copies of r's fact on both workers' streams (the
// pairing's fact is corrected on each: docs/services-2.md).
func (e retractedEnv) retract(r mentorship.Response) {
	e.t.Helper()
	for w, res := range map[string][]string{"master": r.Master.EventIDs, "app": r.Apprentice.EventIDs} {
		e.post("retract on "+w, "/v1/craftsmen/"+w+"/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded on the wrong pairing"}`, res[0]), 201)
	}
}

// TestCompleteAfterRetractedCompletion: the pairing's decisions see the
// corrections of its facts, which are on the workers' streams. A
// completion retracted on both is no longer in force: the pairing is
// active again (sessions, a completion at another level, an early end),
// and completing it again records the completion again on all three
// streams. The pairing's stream used to keep it completed for good: a
// session 422 "is completed", the same completion 200 replayed with
// nothing written, another level 409, an early end 422 — while the
// master's fold counted the pairing active, one of their places (R6).
func TestCompleteAfterRetractedCompletion(t *testing.T) {
	t.Parallel()
	e := newRetractedEnv(t, mentorship.Options{MaxActiveApprentices: 1})
	const intermediate = `{"levelReached":"intermediate","occurredAt":"2025-10-01"}`
	done := e.post("complete", "/v1/mentorships/m1/complete", intermediate, 201)
	e.retract(done)
	// Active again: it holds the master's only place.
	e.start("m2", "app2", 422)
	e.post("session after the retracted completion", "/v1/mentorships/m1/sessions", `{"sessionId":"s9","hours":2,"occurredAt":"2025-10-02"}`, 201)
	again := e.post("complete again", "/v1/mentorships/m1/complete", intermediate, 201)
	if again.Replayed || again.Mentorship.EventIDs[0] == done.Mentorship.EventIDs[0] || again.Master.EventIDs[0] == done.Master.EventIDs[0] || again.Apprentice.EventIDs[0] == done.Apprentice.EventIDs[0] {
		t.Errorf("completed again: %+v, want new recordings (not %+v)", again, done)
	}
	if r := e.post("complete again, retried", "/v1/mentorships/m1/complete", intermediate, 200); !r.Replayed || r.Mentorship.EventIDs[0] != again.Mentorship.EventIDs[0] || r.Master.EventIDs[0] != again.Master.EventIDs[0] {
		t.Errorf("retry: %+v, want a replay of %+v", r, again)
	}
	e.post("another level, now completed", "/v1/mentorships/m1/complete", `{"levelReached":"senior","occurredAt":"2025-10-01"}`, 409)
	e.post("end, now completed", "/v1/mentorships/m1/end", `{"reason":"x"}`, 422)
	// Completed again: the master's place is free.
	e.start("m2", "app2", 201)

	// Retracted a second time, the pairing ends early instead.
	e.retract(again)
	e.post("end after two retracted completions", "/v1/mentorships/m2/end", `{"reason":"moved"}`, 201)
	e.post("end m1", "/v1/mentorships/m1/end", `{"reason":"the apprentice left"}`, 201)
	e.post("complete, now ended", "/v1/mentorships/m1/complete", intermediate, 422)
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipCompleted); n != 2 {
			t.Errorf("%s: %d completions, want 2: %v", s, n, e.Types(s))
		}
		e.VerifyChain(s)
	}
}

// TestRelogAfterRetractedSession: a session a correction retracted on the
// workers' streams is recorded again when sent again; it used to be
// answered as a replay with nothing written.
func TestRelogAfterRetractedSession(t *testing.T) {
	t.Parallel()
	e := newRetractedEnv(t, mentorship.Options{})
	const s1 = `{"sessionId":"s1","hours":2,"occurredAt":"2025-04-01"}`
	first := e.post("session", "/v1/mentorships/m1/sessions", s1, 201)
	e.retract(first)
	again := e.post("session again", "/v1/mentorships/m1/sessions", s1, 201)
	if again.Replayed || again.Master.EventIDs[0] == first.Master.EventIDs[0] || again.Mentorship.EventIDs[0] == first.Mentorship.EventIDs[0] {
		t.Errorf("logged again: %+v, want new recordings (not %+v)", again, first)
	}
	for _, s := range []string{"mentorship-m1", "craftsman-master", "craftsman-app"} {
		if n := e.Count(s, events.TypeMentorshipSessionLogged); n != 2 {
			t.Errorf("%s: %d sessions, want 2: %v", s, n, e.Types(s))
		}
	}
}

// TestRetractedStart: a pairing whose start the workers' corrections
// retracted takes no further fact, and is not started again under its id
// (nothing written).
func TestRetractedStart(t *testing.T) {
	t.Parallel()
	e := newRetractedEnv(t, mentorship.Options{})
	started := func(w string) command.Result {
		return command.Result{EventIDs: []string{servicetest.EventID(t, e.Store, w, events.TypeMentorshipStarted)}}
	}
	e.retract(mentorship.Response{Master: started("master"), Apprentice: started("app")})
	before := len(e.Types("craftsman-master")) + len(e.Types("craftsman-app")) + len(e.Types("mentorship-m1"))
	e.post("session after the retracted start", "/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":2,"occurredAt":"2025-04-01"}`, 422)
	e.post("start again", "/v1/mentorships", fmt.Sprintf(`{"mentorshipId":"m1","masterId":"master","apprenticeId":"app","trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":"2025-03-01"}`, trade, orgAcademy), 422)
	if after := len(e.Types("craftsman-master")) + len(e.Types("craftsman-app")) + len(e.Types("mentorship-m1")); after != before {
		t.Errorf("%d events written", after-before)
	}
}
