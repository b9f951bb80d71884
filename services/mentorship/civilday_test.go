package mentorship_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/mentorship"
)

// TestLaterFactsCompareChinaDays: a pairing's session, completion or end
// may not come before its start, counted in the ledger's calendar
// (China's civil days, docs/policy.md). A start given as the date
// 2025-03-01 and a session at 07:00 China time that day (23:00 UTC the
// day before) are the same day: accepted. A session on the China day
// before is refused, naming occurredAt, and the message gives the start's
// China date. Until the fourteenth session the exact instants were
// compared, which refused the first.
func TestLaterFactsCompareChinaDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("master", events.SeniorTechnician)
	e.register("app", 0)
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships", start("m1", "master", "app"), nil); code != 201 {
		t.Fatalf("start: %d %+v", code, eb)
	}
	sameDay := `{"sessionId":"s1","hours":2,"occurredAt":"2025-03-01T07:00:00+08:00"}`
	if code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/sessions", sameDay, nil); code != 201 {
		t.Errorf("a session at 07:00 China time on the start's day: %d %+v; want 201", code, eb)
	}
	dayBefore := `{"sessionId":"s2","hours":2,"occurredAt":"2025-02-28T23:00:00+08:00"}`
	code, eb := e.Do("issuer", "POST", "/v1/mentorships/m1/sessions", dayBefore, nil)
	if code != 400 || eb.Field != "occurredAt" {
		t.Errorf("a session on the China day before the start: %d %+v; want 400 on occurredAt", code, eb)
	}
	// A back-fill line (a start with its later facts) by the same rule.
	e.register("app2", 0)
	line := `{"mentorshipId":"m2","masterId":"master","apprenticeId":"app2","trade":{"code":"` + trade + `"},"academyId":"` + orgAcademy + `","plannedMonths":24,"occurredAt":"2025-03-01","sessions":[{"hours":2,"occurredAt":"2025-03-01T07:00:00+08:00"}]}`
	if code, lines, sum := e.Backfill("issuer", "/v1/backfill/mentorships", "application/x-ndjson", line+"\n"); code != 200 || sum.Summary.OK != 1 {
		t.Errorf("a line with a session at 07:00 China time on its start's day: %d %+v %+v; want it ok", code, lines, sum)
	}
}
