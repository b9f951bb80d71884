package competition_test

import (
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
)

func TestBackfillResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w1", 0)
	e.register("w2", 0)
	for _, id := range []string{"c1", "c2"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOneOn(id, "2024-09-01"), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", id, code, eb)
		}
	}
	file := strings.Join([]string{
		`{"competitionId":"c1","occurredAt":"2024-09-05","craftsmanId":"w1","track":"employees","rank":3}`,
		`{"competitionId":"c2","occurredAt":"2024-10-05","craftsmanId":"w1","track":"employees","rank":1}`,
		`{"competitionId":"c1","occurredAt":"2024-09-05","craftsmanId":"ghost","track":"employees","rank":4}`,
		`{"competitionId":"nope","occurredAt":"2024-09-05","craftsmanId":"w2","track":"employees","rank":4}`,
		`{"competitionId":"c1","craftsmanId":"w2","track":"employees","rank":4}`,
		`{"competitionId":"c1","occurredAt":"2024-09-05","craftsmanId":"w2","track":"students","rank":1,"medal":"x"}`,
		`{"competitionId":"c1","occurredAt":"2024-09-05","craftsmanId":"w2","track":"students","rank":1}`,
	}, "\n")
	code, lines, sum := e.Backfill("issuer", "/v1/backfill/results", "application/x-ndjson", file)
	if code != 200 {
		t.Fatalf("backfill: %d", code)
	}
	want := map[int]string{1: "", 2: "", 3: "NOT_FOUND", 4: "NOT_FOUND", 5: "INVALID_ARGUMENT", 6: "INVALID_ARGUMENT", 7: ""}
	for line, code := range want {
		if lr := lines[line]; lr.OK != (code == "") || lr.Code != code {
			t.Errorf("line %d: %+v, want code %q", line, lr, code)
		}
	}
	if sum.Summary.OK != 3 || sum.Summary.Failed != 4 {
		t.Errorf("summary %+v", sum.Summary)
	}
	// w1's lines ran in file order: the first earned the year's promotion,
	// the second was capped.
	if p, g := e.Count("craftsman-w1", events.TypeCompetitionPlaced), e.Count("craftsman-w1", events.TypePromotionEntitlementGranted); p != 2 || g != 1 {
		t.Errorf("w1: %d placements, %d entitlements; want 2 and 1", p, g)
	}
	_, lines, sum = e.Backfill("issuer", "/v1/backfill/results", "application/x-ndjson", file)
	if sum.Summary.OK != 3 || sum.Summary.Replayed != 3 || !lines[1].Replayed {
		t.Errorf("re-import: %+v", sum.Summary)
	}
	if p := e.Count("craftsman-w1", events.TypeCompetitionPlaced); p != 2 {
		t.Errorf("after re-import w1 has %d placements", p)
	}
	if code, _, _ := e.Backfill("otherIssuer", "/v1/backfill/results", "application/x-ndjson", file); code != 200 {
		t.Errorf("other issuer: %d (refused per line, not as a whole)", code)
	} else if _, lines, _ := e.Backfill("otherIssuer", "/v1/backfill/results", "application/x-ndjson", file); lines[7].Code != "PERMISSION_DENIED" {
		t.Errorf("other issuer's line: %+v", lines[7])
	}
	if code, _, _ := e.Backfill("hr", "/v1/backfill/results", "application/x-ndjson", file); code != 403 {
		t.Errorf("hr: %d, want 403", code)
	}
	e.VerifyChain("craftsman-w1")
}
