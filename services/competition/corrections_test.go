package competition_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// Corrections of a placement over real HTTP against the embedded store:
// the organiser retracts or fixes it, both stay in the history, a repeat
// is replayed; other organisations, the HR authority and foreign facts are
// refused.
func TestCorrect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", 0)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 2)), nil); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	orig := servicetest.EventID(t, e.Store, "w", events.TypeCompetitionPlaced)
	entitlement := servicetest.EventID(t, e.Store, "w", events.TypePromotionEntitlementGranted)
	retract := fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the sheet was transcribed against the wrong worker"}`, orig)
	for _, tc := range []struct {
		name, caller, body string
		code               int
		field              string
	}{
		{"another organisation", "otherIssuer", retract, 403, ""},
		{"the HR authority", "hr", retract, 403, ""},
		{"an entitlement (not a placement)", "admin", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r"}`, entitlement), 400, "supersedesEventId"},
		{"a replacement for another placement", "issuer", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"r","replacement":{"data":{"craftsmanId":"w","competitionId":"c1","competitionName":"n","placementId":"other","tier":"national_class_1","year":2025,"track":"employees","teamSize":1,"trade":{"code":%q},"rank":3,"award":"none"}}}`, orig, trade), 400, "replacement.data.placementId"},
	} {
		if code, eb := e.Do(tc.caller, "POST", "/v1/craftsmen/w/corrections", tc.body, nil); code != tc.code || (tc.field != "" && eb.Field != tc.field) {
			t.Errorf("%s: %d %+v, want %d on %q", tc.name, code, eb, tc.code, tc.field)
		}
	}
	var c1, again command.Result
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", retract, &c1); code != 201 {
		t.Fatalf("retract: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", retract, &again); code != 200 || !again.Replayed || again.EventIDs[0] != c1.EventIDs[0] {
		t.Errorf("repeat: %d %+v %+v", code, eb, again)
	}
	if p, c := e.Count("craftsman-w", events.TypeCompetitionPlaced), e.Count("craftsman-w", events.TypeEventCorrected); p != 1 || c != 1 {
		t.Errorf("%d placements and %d corrections, want both 1 (the original stays)", p, c)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Competitions) != 0 || len(st.Corrections) != 1 {
		t.Errorf("after the retraction: %+v %+v", st.Competitions, st.Corrections)
	}
	e.VerifyChain("craftsman-w")
}

// A placement retracted by a correction stays retracted when the
// competition's results are published again with its line: the line is
// answered as replayed (no entitlement, no honour) and the placement's
// event id is not written a second time.
func TestRepublishAfterRetraction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	e.register("w2", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 3)), &r); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	placed := r.Placements[0].PlacementEventID
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"disqualified"}`, placed), nil); code != 201 {
		t.Fatalf("retract: %d %+v", code, eb)
	}
	var again competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 3), pl("w2", "employees", 8)), &again); code != 201 {
		t.Fatalf("publication adding w2: %d %+v", code, eb)
	}
	if p := again.Placements[0]; !p.Replayed || len(p.EventIDs) == 0 || p.EventIDs[0] != placed || p.Entitlement != nil || len(p.Honours) != 0 {
		t.Errorf("retracted placement published again: %+v", p)
	}
	if p := again.Placements[1]; p.Replayed || p.Entitlement == nil {
		t.Errorf("w2: %+v", p)
	}
	evs, err := e.Store.ReadStream(context.Background(), "craftsman-w", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Errorf("event id %s (%s) written twice", ev.ID, ev.Type)
		}
		seen[ev.ID] = true
	}
	if n := e.Count("craftsman-w", events.TypeCompetitionPlaced); n != 1 {
		t.Errorf("%d placements on w's stream, want 1", n)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Competitions) != 0 {
		t.Errorf("the retracted placement is back: %+v", st.Competitions)
	}
	e.VerifyChain("craftsman-w")
}
