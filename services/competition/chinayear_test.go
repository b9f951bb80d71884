package competition_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/competition"
)

// Results dated in the first hours of a competition's first day in China
// (UTC+8) fall on that civil date, though their UTC date is the day before
// (and here the year before): they are not dated before the competition.
func TestResultsAtChinaNewYear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, w := range []string{"w0", "w1", "w2", "w3"} {
		e.register(w, events.Senior)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOneOn("c3", "2025-01-01"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	for i, at := range []string{"2025-01-01T01:00:00+08:00", "2024-12-31T17:00:00Z", "2025-01-01"} {
		w := fmt.Sprintf("w%d", i)
		if code, eb := e.Do("issuer", "POST", "/v1/competitions/c3/results", `{"occurredAt":"`+at+`","placements":[`+pl(w, "employees", 9)+`]}`, nil); code != 201 {
			t.Errorf("results dated %s (China's 2025-01-01): %d %+v", at, code, eb)
		}
	}
	// The evening before in China is still refused.
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c3/results", `{"occurredAt":"2024-12-31T15:59:59Z","placements":[`+pl("w3", "employees", 9)+`]}`, nil); code != 400 {
		t.Errorf("results dated China's 2024-12-31 23:59:59: %d %+v, want 400", code, eb)
	}
}

// A correction moving a placement from China's 2024 into China's 2025
// (both in UTC's 2024) does not keep the entitlement granted in 2024: the
// cap counts China's calendar years, so a later placement in China's 2025
// is not granted a second promotion (cap one a year).
func TestCorrectionKeepsAcrossChinaYear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	for c, day := range map[string]string{"c2": "2024-12-31", "c3": "2025-01-05"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOneOn(c, day), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", c, code, eb)
		}
	}
	var r2 competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", `{"occurredAt":"2024-12-31T10:00:00Z","placements":[`+pl("w", "employees", 1)+`]}`, &r2); code != 201 || r2.Placements[0].Entitlement == nil {
		t.Fatalf("publish c2: %d %+v %+v", code, eb, r2)
	}
	body := strings.Replace(e.rerank("w", r2.Placements[0].PlacementEventID, 2), `"replacement":{`, `"replacement":{"occurredAt":"2024-12-31T17:00:00Z",`, 1)
	res := e.correct("w", body, 201)
	if res.Entitlement == nil || res.Entitlement.Outcome == competition.EntitlementKept {
		t.Errorf("correction into China's 2025-01-01 01:00 kept the 2024 grant: %+v", res.Entitlement)
	}
	var r3 competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c3/results", `{"occurredAt":"2025-01-05","placements":[`+pl("w", "employees", 1)+`]}`, &r3); code != 201 {
		t.Fatalf("publish c3: %d %+v", code, eb)
	}
	if r3.Placements[0].Entitlement != nil {
		t.Errorf("c3 (2025-01-05) granted beside c2's placement corrected to China's 2025-01-01: %+v", r3.Placements[0].Entitlement)
	}
}
