package competition_test

import (
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/competition"
)

// TestApprovalByChinaDays: "approval cannot precede the grant" counts days
// of the ledger's calendar (China's), as every date rule does: results
// published at 10:00 China time grant an entitlement that may be approved
// at 07:00 that China day; an approval on the China day before is refused
// on occurredAt, its message giving the grant's China date. Until the
// fourteenth session the instants were compared (a review found it).
func TestApprovalByChinaDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil)
	var r competition.PublishResultsResponse
	body := strings.Replace(publish(pl("w", "employees", 1)), `"2025-09-05"`, `"2025-09-05T10:00:00+08:00"`, 1)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", body, &r); code != 201 || r.Placements[0].Entitlement == nil {
		t.Fatalf("publish: %d %+v %+v", code, eb, r)
	}
	path := "/v1/craftsmen/w/entitlements/" + r.Placements[0].Entitlement.EntitlementID + "/approve"
	code, eb := e.Do("hr", "POST", path, `{"approvalRef":"津人社函〔2025〕19号","occurredAt":"2025-09-04T23:00:00+08:00"}`, nil)
	if code != 400 || eb.Field != "occurredAt" || !strings.Contains(eb.Message, "2025-09-05") {
		t.Errorf("an approval on the China day before the grant: %d %+v; want 400 on occurredAt naming 2025-09-05", code, eb)
	}
	if code, eb := e.Do("hr", "POST", path, `{"approvalRef":"津人社函〔2025〕19号","occurredAt":"2025-09-05T07:00:00+08:00"}`, nil); code != 201 {
		t.Errorf("an approval at 07:00 China time on the grant's day (granted 10:00): %d %+v; want 201", code, eb)
	}
}
