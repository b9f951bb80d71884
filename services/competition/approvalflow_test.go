package competition_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/training"
)

// TestEntitlementApprovalFlow: a placement grants an entitlement; the
// training service refuses an exceptional certificate citing it until the
// HR authority has approved it, then accepts it once.
func TestEntitlementApprovalFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tsvc, err := training.New(e.Store, func() time.Time { return now }, training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(training.NewHTTPHandler(tsvc, slog.New(slog.NewTextHandler(io.Discard, nil)), auth.DevKey(), training.HTTPOptions{}))
	t.Cleanup(ts.Close)
	trainingURL := ts.URL

	e.register("w", events.Senior)
	e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil)
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 3)), &r); code != 201 {
		t.Fatalf("publish: %d %+v", code, eb)
	}
	ent := r.Placements[0].Entitlement
	if ent == nil || ent.Level != events.Technician || !ent.RequiresApproval {
		t.Fatalf("entitlement %+v", ent)
	}
	certify := `{"trade":{"code":"` + trade + `"},"level":"technician","certificateNumber":"EX-2025-1","family":"skill_level",
		"evaluatingOrgId":"hr-authority","issuingOrg":{"id":"hr-authority","kind":"designated_body"},"route":"exceptional",
		"entitlementId":"` + ent.EntitlementID + `","occurredAt":"2025-11-01"}`
	base := e.URL
	e.URL = trainingURL
	code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", certify, nil)
	e.URL = base
	if code != 422 || eb.Field != "entitlementId" {
		t.Fatalf("certificate before approval: %d %+v", code, eb)
	}
	if code, eb := e.Do("hr", "POST", "/v1/craftsmen/w/entitlements/"+ent.EntitlementID+"/approve", `{"approvalRef":"津人社函〔2025〕17号","occurredAt":"2025-10-10"}`, nil); code != 201 {
		t.Fatalf("approve: %d %+v", code, eb)
	}
	e.URL = trainingURL
	defer func() { e.URL = base }()
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", certify, nil); code != 201 {
		t.Fatalf("certificate after approval: %d %+v", code, eb)
	}
	again := `{"trade":{"code":"` + trade + `"},"level":"technician","certificateNumber":"EX-2025-2","family":"skill_level",
		"evaluatingOrgId":"hr-authority","issuingOrg":{"id":"hr-authority","kind":"designated_body"},"route":"exceptional",
		"entitlementId":"` + ent.EntitlementID + `","occurredAt":"2025-11-02"}`
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", again, nil); code != 422 || eb.Field != "entitlementId" {
		t.Errorf("a second certificate from one entitlement: %d %+v", code, eb)
	}
	// Competition, HR approval and training events chain on one stream.
	e.VerifyChain("craftsman-w")
}
