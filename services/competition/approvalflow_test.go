package competition_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
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
	trainingURL := e.training(t)

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

// training serves the training service over e's store; it returns its URL.
func (e *env) training(t *testing.T) string {
	t.Helper()
	tsvc, err := training.New(e.Store, func() time.Time { return now }, training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(training.NewHTTPHandler(tsvc, slog.New(slog.NewTextHandler(io.Discard, nil)), auth.DevKey(), training.HTTPOptions{}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// A level is certified by the exceptional route only after the HR
// department approves the entitlement — two events, not one (POLICY.md):
// rules that grant levels must require approval, so an issuer cannot
// define its own competition and promote a worker on its results alone;
// and an entitlement granted under rules that did not ask for approval
// (recorded before they had to) is certified only once approved, which
// the HR department may still do.
func TestExceptionalCertificateNeedsApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	trainingURL := e.training(t)
	e.register("w", events.Junior)
	self := `{"competitionId":"self","name":"厂内比武","tier":"national_class_1","trades":[{"code":"` + trade + `"}],"tracks":["employees"],
	"rules":{"grants":[{"id":"g","band":{"track":"employees","fromRank":1,"toRank":1},"level":"senior_technician"}]}}`
	if code, eb := e.Do("otherIssuer", "POST", "/v1/competitions", self, nil); code != 400 || eb.Field != "rules.requiresApproval" {
		t.Errorf("grants without approval: %d %+v, want 400 on rules.requiresApproval", code, eb)
	}
	if got := e.Types("competition-self"); got != nil {
		t.Errorf("a refused definition wrote %v", got)
	}

	// An entitlement recorded under rules without requiresApproval.
	placement := events.PlacementID("old", "w", trade, events.TrackEmployees)
	ent := policy.EntitlementID(placement)
	e.Seed(events.CraftsmanStream("w"), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		events.CompetitionPlaced{CraftsmanID: "w", CompetitionID: "old", PlacementID: placement, Tier: events.TierEnterprise,
			Track: events.TrackEmployees, TeamSize: 1, Trade: events.Trade{Code: trade}, Rank: 1, Award: events.AwardNone},
		events.PromotionEntitlementGranted{CraftsmanID: "w", EntitlementID: ent, Trade: events.Trade{Code: trade}, Level: events.Intermediate,
			Source: events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "old", PlacementID: placement, RuleID: "g"}})
	certify := `{"trade":{"code":"` + trade + `"},"level":"intermediate","certificateNumber":"EX-1","family":"skill_level",
		"evaluatingOrgId":"org-other","issuingOrg":{"id":"org-other","kind":"registered_employer"},"route":"exceptional",
		"entitlementId":"` + ent + `","occurredAt":"2025-11-01"}`
	base := e.URL
	e.URL = trainingURL
	code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", certify, nil)
	e.URL = base
	if code != 422 || eb.Code != "FAILED_PRECONDITION" || eb.Field != "entitlementId" {
		t.Fatalf("certificate from an entitlement never approved: %d %+v, want 422 on entitlementId", code, eb)
	}
	if code, eb := e.Do("hr", "POST", "/v1/craftsmen/w/entitlements/"+ent+"/approve", `{"approvalRef":"津人社函〔2025〕18号","occurredAt":"2025-10-10"}`, nil); code != 201 {
		t.Fatalf("approve an entitlement whose rules did not ask for approval: %d %+v", code, eb)
	}
	e.URL = trainingURL
	defer func() { e.URL = base }()
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/certificates", certify, nil); code != 201 {
		t.Errorf("certificate after approval: %d %+v", code, eb)
	}
}
