package honour_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestRetractionUndoneAfterRecordedAgain: an honour conferred, its
// conferral retracted, then conferred again (recorded anew, the next id of
// its chain). Reversing the retraction would put both conferrals in force
// (h2 conferred twice in the fold): 409 naming the later recording, nothing
// written. With the later recording retracted first, it is reversed.
func TestRetractionUndoneAfterRecordedAgain(t *testing.T) {
	e := newEnv(t)
	e.register("w", events.Technician)
	do := func(caller, path, body string, want int) command.Result {
		t.Helper()
		var r command.Result
		if code, eb := e.Do(caller, "POST", "/v1/craftsmen/w/"+path, body, &r); code != want {
			t.Fatalf("%s %s: %d %+v, want %d", path, body, code, eb, want)
		}
		return r
	}
	inForce := func() int {
		n := 0
		for _, h := range servicetest.Career(t, e.Store, "w").Honours {
			if h.ID == "h2" {
				n++
			}
		}
		return n
	}
	const h2 = `{"honourId":"h2","code":"city_model_worker","occurredAt":"2024-04-28"}`
	c1 := do("issuer", "honours", h2, 201)
	r1 := do("issuer", "corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded by mistake"}`, c1.EventIDs[0]), 201)
	c2 := do("issuer", "honours", h2, 201)
	if c2.EventIDs[0] == c1.EventIDs[0] {
		t.Fatalf("conferred again under the retracted id %s", c1.EventIDs[0])
	}
	reverse := fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the retraction was wrong"}`, r1.EventIDs[0])
	code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/corrections", reverse, nil)
	if code != 409 || eb.Field != "supersedesEventId" || !strings.Contains(eb.Message, c2.EventIDs[0]) {
		t.Errorf("reversing the retraction: %d %+v; want 409 naming %s", code, eb, c2.EventIDs[0])
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 1 {
		t.Errorf("refused reversal: %d corrections on the stream, want 1", n)
	}
	if n := inForce(); n != 1 {
		t.Errorf("h2 in force %d times, want once", n)
	}
	do("issuer", "corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded twice"}`, c2.EventIDs[0]), 201)
	do("admin", "corrections", reverse, 201)
	if n := inForce(); n != 1 {
		t.Errorf("after retracting the later recording and reversing: h2 in force %d times, want once", n)
	}
	if r := do("issuer", "honours", h2, 200); !r.Replayed || r.EventIDs[0] != c1.EventIDs[0] {
		t.Errorf("h2 sent again: %+v, want a replay of the reinstated %s", r, c1.EventIDs[0])
	}
}
