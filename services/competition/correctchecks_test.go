package competition_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// A correction dating a placement before its competition started is
// refused as publication refuses such results: the date decides the year
// of the yearly cap, so c2's placement dated into 2024 would be promoted
// beside c1's 2025 promotion (cap one a year).
func TestCorrectionCannotDatePlacementBeforeCompetition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	for _, c := range []string{"c1", "c2"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(c), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", c, code, eb)
		}
	}
	e.placedAs("w", 1) // c1: technician, the 2025 promotion
	var r2 competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", publish(pl("w", "employees", 1)), &r2); code != 201 {
		t.Fatalf("publish c2: %d %+v", code, eb)
	}
	if r2.Placements[0].Entitlement != nil {
		t.Fatalf("c2 granted beside c1 in 2025: %+v", r2.Placements[0].Entitlement)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", `{"occurredAt":"2024-12-01","placements":[{"craftsmanId":"x","rank":1,"track":"employees"}]}`, nil); code != 400 || eb.Field != "occurredAt" {
		t.Fatalf("publication dated 2024: %d %+v, want 400 on occurredAt", code, eb)
	}
	before := e.Types("craftsman-w")
	for _, date := range []string{"2024-12-01", "2025-08-31"} {
		body := strings.Replace(e.rerank("w", r2.Placements[0].PlacementEventID, 1), `"replacement":{`, `"replacement":{"occurredAt":"`+date+`",`, 1)
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", body, nil); code != 400 || eb.Field != "replacement.occurredAt" {
			t.Errorf("correction dated %s: %d %+v, want 400 on replacement.occurredAt", date, code, eb)
		}
	}
	if got := e.Types("craftsman-w"); !slices.Equal(got, before) {
		t.Errorf("refused corrections wrote: %v, was %v", got, before)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Entitlements) != 1 {
		t.Errorf("live entitlements %d, want c1's only", len(st.Entitlements))
	}
	// A date within the competition is still corrected.
	body := strings.Replace(e.rerank("w", r2.Placements[0].PlacementEventID, 2), `"replacement":{`, `"replacement":{"occurredAt":"2025-09-04",`, 1)
	e.correct("w", body, 201)
}

// A correction cannot move a placement into a trade the competition does
// not have (publication refuses it), nor into another trade or track at
// all: the placement's id names its trade and track, and the id must keep
// naming the placement (retract it and publish the right one instead).
func TestCorrectionKeepsPlacementTradeAndTrack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 30)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"w","track":"employees","rank":1,"trade":{"code":"2-02-07-04"}}]}`, nil); code != 400 || eb.Field != "placements[0].trade.code" {
		t.Fatalf("publication in a foreign trade: %d %+v", code, eb)
	}
	before := e.Types("craftsman-w")
	rank1 := e.rerank("w", p.PlacementEventID, 1)
	for _, tc := range []struct{ name, body, field string }{
		{"a trade c1 does not have", strings.Replace(rank1, `"code":"`+trade+`"`, `"code":"2-02-07-04"`, 1), "replacement.data.trade.code"},
		{"a track c1 does not have", strings.Replace(rank1, `"track":"employees"`, `"track":"apprentices"`, 1), "replacement.data.track"},
		{"another track of c1", strings.Replace(rank1, `"track":"employees"`, `"track":"students"`, 1), "replacement.data.track"},
	} {
		if tc.body == rank1 {
			t.Fatalf("%s: body unchanged", tc.name)
		}
		var res competition.CorrectionResult
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", tc.body, &res); code != 400 || eb.Field != tc.field {
			t.Errorf("%s: %d %+v %+v, want 400 on %s", tc.name, code, eb, res.Entitlement, tc.field)
		}
	}
	if got := e.Types("craftsman-w"); !slices.Equal(got, before) {
		t.Errorf("refused corrections wrote: %v, was %v", got, before)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Entitlements) != 0 {
		t.Errorf("live entitlements %d", len(st.Entitlements))
	}
}
