package competition_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// A certificate's retraction cannot be reversed (nor the certificate
// replaced) once a placement's correction withdrew the entitlement it
// used: it would be in force through an entitlement the worker no longer
// has.
func TestCertificateNotReinstatedThroughWithdrawnEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	trainingURL := e.training(t)
	e.register("w", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 1)
	ent := p.Entitlement.EntitlementID
	if code, _ := e.approve("w", ent); code != 201 {
		t.Fatal("approve")
	}
	training := &env{&servicetest.Env{}}
	*training.Env = *e.Env
	training.URL = trainingURL
	if code, eb := e.certifyExceptional(trainingURL, "w", ent); code != 201 {
		t.Fatalf("certify: %d %+v", code, eb)
	}
	cert := ""
	for _, c := range servicetest.Career(t, e.Store, "w").Certificates {
		cert = c.Ref.EventID
	}
	var retr command.Result
	if code, eb := training.Do("admin", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"issued in error"}`, cert), &retr); code != 201 {
		t.Fatalf("retract certificate: %d %+v", code, eb)
	}
	if ch := e.correct("w", e.rerank("w", p.PlacementEventID, 30), 201).Entitlement; ch == nil || ch.Outcome != competition.EntitlementWithdrawn {
		t.Fatalf("1 -> 30: %+v", ch)
	}
	n := len(e.Types("craftsman-w"))
	code, eb := training.Do("admin", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the retraction was wrong"}`, retr.EventIDs[0]), nil)
	if code != 422 || eb.Field != "supersedesEventId" || !strings.Contains(eb.Message, ent) {
		t.Errorf("reverse the certificate's retraction: %d %+v, want 422 on supersedesEventId", code, eb)
	}
	// Nor by replacing the retraction's target with the certificate again.
	rep := fmt.Sprintf(`{"supersedesEventId":%q,"reason":"reissued","replacement":{"data":{"craftsmanId":"w","trade":{"code":%q},"level":"technician","certificateNumber":"EX-1","family":"skill_level","evaluatingOrgId":"hr-authority","issuingOrg":{"id":"hr-authority","kind":"designated_body"},"route":"exceptional","entitlementId":%q}}}`, cert, trade, ent)
	if code, eb := training.Do("admin", "POST", "/v1/craftsmen/w/corrections", rep, nil); code != 422 || eb.Field != "supersedesEventId" {
		t.Errorf("replace the retracted certificate: %d %+v, want 422 on supersedesEventId", code, eb)
	}
	if len(e.Types("craftsman-w")) != n {
		t.Errorf("refused corrections wrote")
	}
	for _, c := range servicetest.Career(t, e.Store, "w").Certificates {
		if c.EntitlementID == ent {
			t.Errorf("certificate %s in force through withdrawn entitlement %s", c.Number, ent)
		}
	}
	// Back to rank 1 (the entitlement is granted again under a new id):
	// the old certificate still cites the withdrawn one.
	e.correct("w", strings.Replace(e.rerank("w", p.PlacementEventID, 1), "misread", "misread twice", 1), 201)
	if code, _ := training.Do("admin", "POST", "/v1/craftsmen/w/corrections", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the retraction was wrong"}`, retr.EventIDs[0]), nil); code != 422 {
		t.Errorf("reverse after the regrant: %d, want 422", code)
	}
}
