package honour_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestCorrectionsKeepDates: a correction of a conferral or a withdrawal
// may not leave what ConferHonour and WithdrawHonour refuse, counted in
// China days as they count them: a withdrawal re-dated before its
// conferral, a conferral re-dated after its withdrawal or before the
// placement that triggered it, or a replacement linking a placement after
// the conferral's date (400) or not on the stream (404). Refusals write
// nothing. Until the fourteenth session each was 201.
func TestCorrectionsKeepDates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	pid := events.PlacementID("c1", "w", trade, events.TrackEmployees)
	e.Seed("craftsman-w", time.Date(2025, 9, 5, 0, 0, 0, 0, time.UTC), events.CompetitionPlaced{CraftsmanID: "w", CompetitionID: "c1",
		PlacementID: pid, Tier: events.TierNationalClass1, Track: events.TrackEmployees, TeamSize: 1, Trade: events.Trade{Code: trade}, Rank: 2, Award: events.AwardSilver})
	var kinds = map[string]events.HonourKind{}
	for _, k := range events.HonourCatalogue() {
		kinds[k.Code] = k
	}
	post := func(path, body string) string {
		t.Helper()
		var r command.Result
		if code, eb := e.Do("issuer", "POST", path, body, &r); code != 201 {
			t.Fatalf("%s %s: %d %+v", path, body, code, eb)
		}
		return r.EventIDs[0]
	}
	// honour is the payload of honour id of code, linked to placement.
	honour := func(id, code, placement string) events.HonourConferred {
		k := kinds[code]
		return events.HonourConferred{CraftsmanID: "w", HonourID: id, Code: code, Name: k.Chinese, Level: k.Level, ConferringBody: k.ConferringBody, PlacementID: placement}
	}
	correct := func(orig string, data any, at string) string {
		b, _ := json.Marshal(map[string]any{"supersedesEventId": orig, "reason": "the paper says otherwise",
			"replacement": map[string]any{"data": data, "occurredAt": at}})
		return string(b)
	}
	conf := post("/v1/craftsmen/w/honours", `{"honourId":"h-1","code":"city_craftsman","occurredAt":"2024-05-01"}`)
	wd := post("/v1/craftsmen/w/honours/h-1/withdraw", `{"reason":"revoked","occurredAt":"2024-06-01"}`)
	linked := post("/v1/craftsmen/w/honours", `{"honourId":"h-2","code":"national_technical_expert","placementId":"`+pid+`","occurredAt":"2025-10-01"}`)
	unlinked := post("/v1/craftsmen/w/honours", `{"honourId":"h-3","code":"national_technical_expert","occurredAt":"2025-01-01"}`)
	withdrawal := map[string]string{"craftsmanId": "w", "honourId": "h-1", "reason": "revoked"}

	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"a withdrawal re-dated to the China day before its conferral", correct(wd, withdrawal, "2024-04-30T23:00:00+08:00"), 400, "replacement.occurredAt"},
		{"a conferral re-dated after its withdrawal", correct(conf, honour("h-1", "city_craftsman", ""), "2024-06-02"), 400, "replacement.occurredAt"},
		{"a placement's honour re-dated before the placement", correct(linked, honour("h-2", "national_technical_expert", pid), "2025-09-04T23:00:00+08:00"), 400, "replacement.occurredAt"},
		{"a replacement linking a placement after the conferral", correct(unlinked, honour("h-3", "national_technical_expert", pid), ""), 400, "replacement.data.placementId"},
		{"a replacement linking a placement not on the stream", correct(unlinked, honour("h-3", "national_technical_expert", "pl-nope"), ""), 404, "replacement.data.placementId"},
	} {
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", tc.body, nil); code != tc.code || eb.Field != tc.field {
			t.Errorf("%s: %d %+v, want %d on %q", tc.name, code, eb, tc.code, tc.field)
		}
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 0 {
		t.Fatalf("refusals wrote %d corrections", n)
	}

	// The same days are accepted: the rules count China days, not instants.
	for _, body := range []string{
		correct(wd, withdrawal, "2024-05-01T07:00:00+08:00"),
		correct(conf, honour("h-1", "city_craftsman", ""), "2024-05-01T23:00:00+08:00"),
		correct(linked, honour("h-2", "national_technical_expert", pid), "2025-09-05T01:00:00+08:00"),
	} {
		post("/v1/craftsmen/w/corrections", body)
	}
	// Retracting the withdrawal frees the conferral's date.
	post("/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"never withdrawn"}`, wd))
	post("/v1/craftsmen/w/corrections", correct(conf, honour("h-1", "city_craftsman", ""), "2024-07-01"))
	st := e.Count("craftsman-w", events.TypeEventCorrected)
	if st != 5 {
		t.Errorf("%d corrections, want 5", st)
	}
	e.VerifyChain("craftsman-w")
}

// TestCorrectionsKeepOneHonour: a correction may not leave an honour
// conferred twice (409: a conferral's retraction reversed after it was
// conferred again), withdrawn twice (409: likewise a withdrawal's), or
// withdrawn without its conferral (404: the conferral retracted while its
// withdrawal stands). Refusals write nothing. Until the fourteenth session
// each was 201.
func TestCorrectionsKeepOneHonour(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	post := func(path, body string) string {
		t.Helper()
		var r command.Result
		if code, eb := e.Do("issuer", "POST", path, body, &r); code != 201 {
			t.Fatalf("%s %s: %d %+v", path, body, code, eb)
		}
		return r.EventIDs[0]
	}
	retract := func(id string) string {
		return fmt.Sprintf(`{"supersedesEventId":%q,"reason":"recorded by mistake"}`, id)
	}
	// h-1 withdrawn: its conferral cannot be retracted alone.
	conf1 := post("/v1/craftsmen/w/honours", `{"honourId":"h-1","code":"city_craftsman","occurredAt":"2024-05-01"}`)
	post("/v1/craftsmen/w/honours/h-1/withdraw", `{"reason":"revoked","occurredAt":"2024-06-01"}`)
	// h-2 retracted, then conferred again.
	conf2 := post("/v1/craftsmen/w/honours", `{"honourId":"h-2","code":"city_craftsman","occurredAt":"2024-05-01"}`)
	undo2 := post("/v1/craftsmen/w/corrections", retract(conf2))
	post("/v1/craftsmen/w/honours", `{"honourId":"h-2","code":"city_craftsman","occurredAt":"2024-05-02"}`)
	// h-3's withdrawal retracted, then withdrawn again.
	post("/v1/craftsmen/w/honours", `{"honourId":"h-3","code":"city_craftsman","occurredAt":"2024-05-01"}`)
	wd3 := post("/v1/craftsmen/w/honours/h-3/withdraw", `{"reason":"revoked","occurredAt":"2024-06-01"}`)
	undo3 := post("/v1/craftsmen/w/corrections", retract(wd3))
	post("/v1/craftsmen/w/honours/h-3/withdraw", `{"reason":"revoked at last","occurredAt":"2024-07-01"}`)
	written := e.Count("craftsman-w", events.TypeEventCorrected)

	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"a withdrawn honour's conferral retracted", retract(conf1), 404},
		{"a conferral's retraction reversed after it was conferred again", retract(undo2), 409},
		// servicekit.Corrector: the withdrawal recorded again is in force.
		{"a withdrawal's retraction reversed after it was withdrawn again", retract(undo3), 409},
	} {
		if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", tc.body, nil); code != tc.code || eb.Field != "supersedesEventId" {
			t.Errorf("%s: %d %+v, want %d on supersedesEventId", tc.name, code, eb, tc.code)
		}
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != written {
		t.Errorf("refusals wrote %d corrections", n-written)
	}
	if st := servicetest.Career(t, e.Store, "w"); len(st.Honours) != 3 {
		t.Errorf("honours %+v", st.Honours)
	}
}
