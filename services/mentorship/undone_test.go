package mentorship_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// TestSessionRetractionUndone: a session retracted on both workers, logged
// again (recorded anew), then the retractions reversed: that would count
// the session twice. Each reversal is 409 naming the later recording,
// nothing written.
func TestSessionRetractionUndone(t *testing.T) {
	t.Parallel()
	e := newRetractedEnv(t, mentorship.Options{})
	const s1 = `{"sessionId":"s1","hours":2,"occurredAt":"2025-04-01"}`
	first := e.post("session", "/v1/mentorships/m1/sessions", s1, 201)
	corr := map[string]string{}
	for w, id := range map[string]string{"master": first.Master.EventIDs[0], "app": first.Apprentice.EventIDs[0]} {
		e.post("retract on "+w, "/v1/craftsmen/"+w+"/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"wrong pairing"}`, id), 201)
		corr[w] = servicetest.EventID(t, e.Store, w, events.TypeEventCorrected)
	}
	again := e.post("session again", "/v1/mentorships/m1/sessions", s1, 201)
	later := map[string]string{"master": again.Master.EventIDs[0], "app": again.Apprentice.EventIDs[0]}
	for w, id := range corr {
		code, eb := e.Do("admin", "POST", "/v1/craftsmen/"+w+"/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the retraction was wrong"}`, id), nil)
		if code != 409 || !strings.Contains(eb.Message, later[w]) {
			t.Errorf("reverse on %s: %d %+v; want 409 naming %s", w, code, eb, later[w])
		}
		if n := e.Count("craftsman-"+w, events.TypeEventCorrected); n != 1 {
			t.Errorf("%s: %d corrections, want 1", w, n)
		}
	}
	for _, w := range []string{"master", "app"} {
		ms := servicetest.Career(t, e.Store, w).Mentorships
		if len(ms) != 1 {
			t.Fatalf("%s: %d pairings, want 1", w, len(ms))
		}
		for _, m := range ms {
			if m.Sessions != 1 {
				t.Errorf("%s's pairing %s: session s1 counted %d times", w, m.ID, m.Sessions)
			}
		}
	}
}
