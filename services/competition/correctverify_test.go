package competition_test

import (
	"context"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/competition"
)

// An admin's correction grants the entitlement (recorded with the
// platform's issuer); the organiser's correction back withdraws it (an
// EventCorrected with the organiser's issuer): verify accepts both, as
// the organiser may record that grant.
func TestVerifyAcceptsOrganiserWithdrawingAdminsGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 30)
	var res competition.CorrectionResult
	if code, eb := e.Do("admin", "POST", "/v1/craftsmen/w/corrections", e.rerank("w", p.PlacementEventID, 1), &res); code != 201 || res.Entitlement == nil || res.Entitlement.Outcome != competition.EntitlementGranted {
		t.Fatalf("admin to rank 1: %d %+v %+v", code, eb, res.Entitlement)
	}
	back := e.correct("w", strings.Replace(e.rerank("w", p.PlacementEventID, 30), "misread", "misread again", 1), 201)
	if back.Entitlement == nil || back.Entitlement.Outcome != competition.EntitlementWithdrawn {
		t.Fatalf("organiser back to 30: %+v", back.Entitlement)
	}
	rep, err := audit.Verify(context.Background(), e.Store, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range seedless(rep.Findings) {
		t.Errorf("verify (store): %+v", f)
	}
	var all []eventstore.RecordedEvent
	for _, s := range []string{"competition-c1", "craftsman-w"} {
		evs, err := e.Store.ReadStream(context.Background(), s, eventstore.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, evs...)
	}
	rep, err = audit.VerifyFeed(context.Background(), nil, audit.VerifyOptions{}, audit.SliceFeed(all))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range seedless(rep.Findings) {
		t.Errorf("verify (feed): %+v", f)
	}
}

// seedless are findings but the seeded certificate's (servicetest.Register
// records the worker's level with the issuer "seed").
func seedless(fs []audit.Finding) []audit.Finding {
	var out []audit.Finding
	for _, f := range fs {
		if f.Issuer != "seed" {
			out = append(out, f)
		}
	}
	return out
}
