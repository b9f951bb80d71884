package competition_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// The same correction sent again after it was reversed is recorded again
// (a new event, the rules run again), not answered as a replay of the
// reversed one; sent once more it is a replay of the new one.
func TestCorrectionResentAfterReversalIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 1)
	body := e.rerank("w", p.PlacementEventID, 30)
	c := e.correct("w", body, 201)
	e.correct("w", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the first reading was right"}`, c.EventIDs[0]), 201)
	if st := servicetest.Career(t, e.Store, "w"); st.Competitions[0].Rank != 1 || len(st.Entitlements) != 1 {
		t.Fatalf("after the reversal: rank %d, %d entitlements", st.Competitions[0].Rank, len(st.Entitlements))
	}
	var again competition.CorrectionResult
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", body, &again); code != 201 || again.Replayed ||
		again.Entitlement == nil || again.Entitlement.Outcome != competition.EntitlementWithdrawn || again.EventIDs[0] == c.EventIDs[0] {
		t.Errorf("re-applied: %d %+v replayed=%v ids %v (first %v) entitlement %+v", code, eb, again.Replayed, again.EventIDs, c.EventIDs, again.Entitlement)
	}
	if st := servicetest.Career(t, e.Store, "w"); st.Competitions[0].Rank != 30 || len(st.Entitlements) != 0 {
		t.Errorf("in force: rank %d, %d entitlements", st.Competitions[0].Rank, len(st.Entitlements))
	}
	var replay competition.CorrectionResult
	n := len(e.Types("craftsman-w"))
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", body, &replay); code != 200 || !replay.Replayed ||
		!slices.Equal(replay.EventIDs, again.EventIDs[:1]) || replay.Entitlement == nil || replay.Entitlement.Outcome != competition.EntitlementWithdrawn {
		t.Errorf("sent once more: %d %+v %+v, want the replay of %v", code, eb, replay, again.EventIDs[0])
	}
	if len(e.Types("craftsman-w")) != n {
		t.Errorf("the replay wrote")
	}
	// The reversal's own replay stays a replay (it is in force).
	if code, _ := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the first reading was right"}`, c.EventIDs[0]), nil); code != 200 {
		t.Errorf("the reversal sent again: %d, want 200", code)
	}
}
