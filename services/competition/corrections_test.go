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

// A placement retracted by a correction takes its entitlement with it: the
// HR authority can no longer approve it, the training service certifies
// nothing through it (even approved before the retraction), and it no
// longer counts toward the yearly cap.
func TestRetractedPlacementWithdrawsItsEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	trainingURL := e.training(t)
	e.register("w", events.Senior)
	e.register("v", events.Senior)
	for _, c := range []string{"c1", "c2"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(c), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", c, code, eb)
		}
	}
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 3), pl("v", "employees", 4)), &r); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	approve := func(worker, ent string) (int, string) {
		code, eb := e.Do("hr", "POST", "/v1/craftsmen/"+worker+"/entitlements/"+ent+"/approve", `{"approvalRef":"津人社函〔2025〕17号","occurredAt":"2025-10-10"}`, nil)
		return code, eb.Code
	}
	retract := func(worker, placed string) {
		t.Helper()
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/"+worker+"/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"disqualified: doping"}`, placed), nil); code != 201 {
			t.Fatalf("retract %s's placement: %d %+v", worker, code, eb)
		}
	}
	wEnt, vEnt := r.Placements[0].Entitlement.EntitlementID, r.Placements[1].Entitlement.EntitlementID
	// w's entitlement was approved before the retraction; v's was not.
	if code, _ := approve("w", wEnt); code != 201 {
		t.Fatalf("approve w's entitlement: %d", code)
	}
	retract("w", r.Placements[0].PlacementEventID)
	retract("v", r.Placements[1].PlacementEventID)
	if code, ec := approve("v", vEnt); code != 422 || ec != "FAILED_PRECONDITION" {
		t.Errorf("approve the entitlement of a retracted placement: %d %s, want 422", code, ec)
	}
	if n := e.Count("craftsman-v", events.TypePromotionEntitlementApproved); n != 0 {
		t.Errorf("v's withdrawn entitlement approved %d times", n)
	}
	certify := `{"trade":{"code":"` + trade + `"},"level":"technician","certificateNumber":"EX-1","family":"skill_level",
		"evaluatingOrgId":"hr-authority","issuingOrg":{"id":"hr-authority","kind":"designated_body"},"route":"exceptional",
		"entitlementId":"` + wEnt + `","occurredAt":"2025-11-01"}`
	base := e.URL
	e.URL = trainingURL
	code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", certify, nil)
	e.URL = base
	if code != 422 || eb.Code != "FAILED_PRECONDITION" || eb.Field != "entitlementId" {
		t.Errorf("certificate through a withdrawn (approved) entitlement: %d %+v, want 422 on entitlementId", code, eb)
	}
	// Another competition the same year: the retracted placement's
	// entitlement does not use up the cap of one.
	var r2 competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", publish(pl("w", "employees", 3)), &r2); code != 201 {
		t.Fatalf("publish c2: %d %+v", code, eb)
	}
	p := r2.Placements[0]
	if p.Entitlement == nil || p.Withheld != "" {
		t.Fatalf("c2 after the retraction: entitlement %+v, withheld %q", p.Entitlement, p.Withheld)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Entitlements) != 1 || st.Entitlements[0].ID != p.Entitlement.EntitlementID {
		t.Errorf("w's entitlements %+v, want only c2's", st.Entitlements)
	}
}
