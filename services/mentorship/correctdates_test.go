package mentorship_test

import (
	"encoding/json"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// TestCorrectionsKeepDates: a correction of a pairing's fact may not leave,
// on the worker's stream as corrected, a session, completion or early end
// dated before the pairing's start, counted in China days as the commands
// count them — neither by re-dating the later fact nor by re-dating the
// start after it (400 on replacement.occurredAt), nor by reversing a
// correction that had moved the start earlier (400 on supersedesEventId).
// Refusals write nothing. The start compared is the one on the corrected
// worker's stream: a start corrected there to an earlier date lets that
// worker's session move before the pairing's recorded start, while the
// other worker's stream, whose start is uncorrected, refuses the same.
// Until the fourteenth session each refusal was 201.
func TestCorrectionsKeepDates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.SeniorTechnician)
	e.register("app", 0)
	e.register("app2", 0)
	for _, r := range []struct{ path, body string }{
		{"/v1/mentorships", start("m1", "master", "app")}, // 2025-03-01
		{"/v1/mentorships/m1/sessions", `{"sessionId":"s1","hours":2,"occurredAt":"2025-04-01"}`},
		{"/v1/mentorships/m1/complete", `{"levelReached":"intermediate","occurredAt":"2025-09-01"}`},
		{"/v1/mentorships", start("m2", "master", "app2")},
		{"/v1/mentorships/m2/end", `{"reason":"moved away","occurredAt":"2025-05-01"}`},
	} {
		if code, eb := e.Do("issuer", "POST", r.path, r.body, nil); code != 201 {
			t.Fatalf("%s: %d %+v", r.path, code, eb)
		}
	}
	id := func(worker, typ string) string { return servicetest.EventID(t, e.Store, worker, typ) }
	parties := func(m, app string) events.MentorshipParties {
		return events.MentorshipParties{MentorshipID: m, MasterID: "master", ApprenticeID: app}
	}
	level := events.Intermediate
	started := events.MentorshipStarted{MentorshipParties: parties("m1", "app"), Kind: events.MentorshipMasterApprentice,
		Trade: events.Trade{Code: trade}, AcademyID: orgAcademy, PlannedMonths: 24}
	session := events.MentorshipSessionLogged{MentorshipParties: parties("m1", "app"), Hours: 2}
	completed := events.MentorshipCompleted{MentorshipParties: parties("m1", "app"), Trade: events.Trade{Code: trade}, LevelReached: &level}
	ended := events.MentorshipEndedEarly{MentorshipParties: parties("m2", "app2"), Reason: "moved away"}
	redate := func(orig string, data any, at string) string {
		b, _ := json.Marshal(map[string]any{"supersedesEventId": orig, "reason": "the log book says otherwise",
			"replacement": map[string]any{"data": data, "occurredAt": at}})
		return string(b)
	}
	correct := func(worker, body string, code int, field string) string {
		t.Helper()
		var r struct {
			EventIDs []string `json:"eventIds"`
		}
		if got, eb := e.Do("issuer", "POST", "/v1/craftsmen/"+worker+"/corrections", body, &r); got != code || (field != "" && eb.Field != field) {
			t.Errorf("%s: %d %+v, want %d on %q", body, got, eb, code, field)
		}
		if len(r.EventIDs) == 0 {
			return ""
		}
		return r.EventIDs[0]
	}
	const before = "2025-02-28T23:00:00+08:00" // the China day before the start
	correct("app", redate(id("app", events.TypeMentorshipSessionLogged), session, before), 400, "replacement.occurredAt")
	correct("app", redate(id("app", events.TypeMentorshipCompleted), completed, before), 400, "replacement.occurredAt")
	correct("app2", redate(id("app2", events.TypeMentorshipEndedEarly), ended, before), 400, "replacement.occurredAt")
	correct("app", redate(id("app", events.TypeMentorshipStarted), started, "2025-04-02"), 400, "replacement.occurredAt")
	for _, w := range []string{"app", "app2", "master"} {
		if n := e.Count("craftsman-"+w, events.TypeEventCorrected); n != 0 {
			t.Fatalf("refusals wrote %d corrections on %s", n, w)
		}
	}

	// The same China day is accepted.
	correct("app", redate(id("app", events.TypeMentorshipSessionLogged), session, "2025-03-01T07:00:00+08:00"), 201, "")
	// The start moved earlier on the apprentice's stream: their session
	// may follow it there, before the pairing's recorded start...
	moved := correct("app", redate(id("app", events.TypeMentorshipStarted), started, "2025-02-01"), 201, "")
	if moved == "" {
		t.Fatal("the start's correction was not recorded")
	}
	correct("app", redate(id("app", events.TypeMentorshipSessionLogged), session, "2025-02-15"), 201, "")
	// ...but not on the master's, whose start is not corrected.
	correct("master", redate(id("master", events.TypeMentorshipSessionLogged), session, "2025-02-15"), 400, "replacement.occurredAt")
	// Reversing the start's correction would leave the session before it.
	correct("app", `{"supersedesEventId":"`+moved+`","reason":"the first date was right"}`, 400, "supersedesEventId")
	if n := e.Count("craftsman-app", events.TypeEventCorrected); n != 3 {
		t.Errorf("%d corrections on the apprentice's stream, want 3", n)
	}
	if n := e.Count("craftsman-master", events.TypeEventCorrected); n != 0 {
		t.Errorf("%d corrections on the master's stream, want 0", n)
	}
	e.VerifyChain("craftsman-app")
}
