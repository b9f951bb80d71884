package competition_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// placedAs publishes worker's placement at rank in competition c1
// (classOne) and returns the publication's answer for it.
func (e *env) placedAs(worker string, rank int) competition.PlacementResult {
	e.T.Helper()
	var r competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl(worker, "employees", rank)), &r); code != 201 {
		e.T.Fatalf("publish %s at rank %d: %d %+v", worker, rank, code, eb)
	}
	return r.Placements[0]
}

// rerank is the body of a correction replacing placement event placed of
// worker with the same placement at rank.
func (e *env) rerank(worker, placed string, rank int) string {
	e.T.Helper()
	evs, err := e.Store.ReadStream(context.Background(), events.CraftsmanStream(worker), eventstore.ReadOptions{})
	if err != nil {
		e.T.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ID != placed {
			continue
		}
		var data map[string]any
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			e.T.Fatal(err)
		}
		data["rank"] = rank
		b, err := json.Marshal(map[string]any{"supersedesEventId": placed, "reason": "the judges' sheet was misread",
			"replacement": map[string]any{"data": data}})
		if err != nil {
			e.T.Fatal(err)
		}
		return string(b)
	}
	e.T.Fatalf("%s has no event %s", worker, placed)
	return ""
}

// correct sends a correction of worker's stream as the organiser.
func (e *env) correct(worker, body string, want int) competition.CorrectionResult {
	e.T.Helper()
	var res competition.CorrectionResult
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/"+worker+"/corrections", body, &res); code != want {
		e.T.Fatalf("correction: %d %+v, want %d", code, eb, want)
	}
	return res
}

func (e *env) approve(worker, ent string) (int, string) {
	e.T.Helper()
	code, eb := e.Do("hr", "POST", "/v1/craftsmen/"+worker+"/entitlements/"+ent+"/approve", `{"approvalRef":"津人社函〔2025〕17号","occurredAt":"2025-10-10"}`, nil)
	return code, eb.Code
}

// certifyExceptional certifies worker as technician by the exceptional
// route through ent, on the training service at url.
func (e *env) certifyExceptional(url, worker, ent string) (int, kit.ErrorDetail) {
	e.T.Helper()
	body := `{"trade":{"code":"` + trade + `"},"level":"technician","certificateNumber":"EX-1","family":"skill_level",
		"evaluatingOrgId":"hr-authority","issuingOrg":{"id":"hr-authority","kind":"designated_body"},"route":"exceptional",
		"entitlementId":"` + ent + `","occurredAt":"2025-11-01"}`
	base := e.URL
	e.URL = url
	defer func() { e.URL = base }()
	return e.Do("admin", "POST", "/v1/craftsmen/"+worker+"/certificates", body, nil)
}

// A placement corrected to a rank outside every band loses its
// entitlement, in the correction's append: the HR authority can no longer
// approve it (even approved before), the training service certifies
// nothing through it, it no longer counts toward the yearly cap, and the
// same correction again is a replay.
func TestCorrectedOutOfBandWithdrawsEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	trainingURL := e.training(t)
	e.register("w", events.Senior)
	for _, c := range []string{"c1", "c2"} {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(c), nil); code != 201 {
			t.Fatalf("define %s: %d %+v", c, code, eb)
		}
	}
	p := e.placedAs("w", 1)
	ent := p.Entitlement.EntitlementID
	if code, _ := e.approve("w", ent); code != 201 {
		t.Fatalf("approve before the correction: %d", code)
	}
	body := e.rerank("w", p.PlacementEventID, 30)
	res := e.correct("w", body, 201)
	if ch := res.Entitlement; ch == nil || ch.Outcome != competition.EntitlementWithdrawn || ch.WithdrawnID != ent || ch.Current != nil ||
		!strings.Contains(ch.Reason, "no grant rule") {
		t.Errorf("entitlement after the correction to rank 30: %+v", ch)
	}
	if len(res.EventIDs) != 2 {
		t.Errorf("correction wrote %v, want the correction and the entitlement's withdrawal", res.EventIDs)
	}
	again := e.correct("w", body, 200)
	if !again.Replayed || !cmp.Equal(again.Entitlement, res.Entitlement) {
		t.Errorf("the same correction again: %+v %+v, want a replay answered as the first", again, again.Entitlement)
	}
	if n := e.Count("craftsman-w", events.TypeEventCorrected); n != 2 {
		t.Errorf("%d corrections on w's stream, want 2 (the placement's and the entitlement's)", n)
	}
	if code, ec := e.approve("w", ent); code != 422 || ec != "FAILED_PRECONDITION" {
		t.Errorf("approve the withdrawn entitlement: %d %s, want 422", code, ec)
	}
	if code, eb := e.certifyExceptional(trainingURL, "w", ent); code != 422 || eb.Code != "FAILED_PRECONDITION" || eb.Field != "entitlementId" ||
		!strings.Contains(eb.Message, "withdrawn by a correction") {
		t.Errorf("certificate through the withdrawn entitlement: %d %+v, want 422 on entitlementId", code, eb)
	}
	st := servicetest.Career(t, e.Store, "w")
	if len(st.Entitlements) != 0 || len(st.Competitions) != 1 || st.Competitions[0].Rank != 30 {
		t.Errorf("career after the correction: entitlements %+v, placements %+v", st.Entitlements, st.Competitions)
	}
	// The yearly cap (one) is free again for another competition.
	var r2 competition.PublishResultsResponse
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/c2/results", publish(pl("w", "employees", 3)), &r2); code != 201 {
		t.Fatalf("publish c2: %d %+v", code, eb)
	}
	if p := r2.Placements[0]; p.Entitlement == nil || p.Withheld != "" {
		t.Errorf("c2 after the correction: entitlement %+v, withheld %q", p.Entitlement, p.Withheld)
	}
	e.VerifyChain("craftsman-w")
}

// A placement corrected into a band earns the entitlement the rules grant,
// in the correction's append, with an id of its own that a retried
// correction does not grant twice; the HR authority approves it.
func TestCorrectedIntoBandGrantsEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	e.register("k", events.Senior)
	e.register("a", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	for _, tc := range []struct {
		worker, caller string
		headers        []string
	}{{"w", "issuer", nil}, {"k", "issuer", []string{"Idempotency-Key", "fix-k-rank"}}, {"a", "admin", []string{"Idempotency-Key", "fix-a-rank"}}} {
		p := e.placedAs(tc.worker, 30)
		if p.Entitlement != nil {
			t.Fatalf("rank 30 earned %+v", p.Entitlement)
		}
		body := e.rerank(tc.worker, p.PlacementEventID, 1)
		var res, again competition.CorrectionResult
		if code, eb := e.Do(tc.caller, "POST", "/v1/craftsmen/"+tc.worker+"/corrections", body, &res, tc.headers...); code != 201 {
			t.Fatalf("%s: correct to rank 1: %d %+v", tc.worker, code, eb)
		}
		ch := res.Entitlement
		if ch == nil || ch.Outcome != competition.EntitlementGranted || ch.Current == nil || ch.Current.Level != events.Technician ||
			ch.Current.RuleID != "emp-1-5" || !ch.Current.RequiresApproval || ch.WithdrawnID != "" {
			t.Fatalf("%s: entitlement after the correction to rank 1: %+v", tc.worker, ch)
		}
		if code, eb := e.Do(tc.caller, "POST", "/v1/craftsmen/"+tc.worker+"/corrections", body, &again, tc.headers...); code != 200 || !again.Replayed ||
			again.Entitlement == nil || !cmp.Equal(*again.Entitlement, *ch) {
			t.Errorf("%s: the same correction again: %d %+v %+v", tc.worker, code, eb, again.Entitlement)
		}
		if n := e.Count(events.CraftsmanStream(tc.worker), events.TypePromotionEntitlementGranted); n != 1 {
			t.Errorf("%s: %d entitlements granted, want 1", tc.worker, n)
		}
		st := servicetest.Career(t, e.Store, tc.worker)
		if len(st.Entitlements) != 1 || st.Entitlements[0].ID != ch.Current.EntitlementID || st.Entitlements[0].Origin.PlacementID != p.PlacementID {
			t.Errorf("%s: career entitlements %+v", tc.worker, st.Entitlements)
		}
		if code, ec := e.approve(tc.worker, ch.Current.EntitlementID); code != 201 {
			t.Errorf("%s: approve the granted entitlement: %d %s", tc.worker, code, ec)
		}
		// Published again, the line is answered with the entitlement it has.
		var r competition.PublishResultsResponse
		if code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl(tc.worker, "employees", 30)), &r); code != 200 ||
			r.Placements[0].Entitlement == nil || r.Placements[0].Entitlement.EntitlementID != ch.Current.EntitlementID {
			t.Errorf("%s: published again: %d %+v %+v", tc.worker, code, eb, r.Placements)
		}
		e.VerifyChain(events.CraftsmanStream(tc.worker))
	}
}

// A correction that leaves the placement in the same band, or changes
// nothing the rules look at, keeps the entitlement as it is (approved
// stays approved); one into another band replaces it with the level that
// band grants.
func TestCorrectedWithinBandKeepsEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	e.register("v", events.Intermediate)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 1)
	ent := p.Entitlement.EntitlementID
	if code, _ := e.approve("w", ent); code != 201 {
		t.Fatalf("approve: %d", code)
	}
	res := e.correct("w", e.rerank("w", p.PlacementEventID, 2), 201)
	if ch := res.Entitlement; ch == nil || ch.Outcome != competition.EntitlementKept || ch.Current == nil || ch.Current.EntitlementID != ent || ch.WithdrawnID != "" {
		t.Errorf("1 -> 2: %+v", ch)
	}
	renamed := strings.Replace(e.rerank("w", p.PlacementEventID, 2), "全国行业职业技能竞赛", "全国行业职业技能竞赛（决赛）", 1)
	renamed = strings.Replace(renamed, "misread", "misspelt", 1)
	if ch := e.correct("w", renamed, 201).Entitlement; ch == nil || ch.Outcome != competition.EntitlementKept || ch.Current.EntitlementID != ent || ch.Reason != "" {
		t.Errorf("name only: %+v", ch)
	}
	if got, want := e.Count("craftsman-w", events.TypeEventCorrected), 2; got != want {
		t.Errorf("%d corrections, want %d (nothing withdrawn)", got, want)
	}
	st := servicetest.Career(t, e.Store, "w")
	if len(st.Entitlements) != 1 || st.Entitlements[0].ID != ent || !st.Entitlements[0].Approved {
		t.Errorf("w's entitlements %+v, want %s still approved", st.Entitlements, ent)
	}

	// v (intermediate): rank 1 grants technician, rank 9 senior.
	q := e.placedAs("v", 1)
	ch := e.correct("v", e.rerank("v", q.PlacementEventID, 9), 201).Entitlement
	if ch == nil || ch.Outcome != competition.EntitlementReplaced || ch.WithdrawnID != q.Entitlement.EntitlementID || ch.Current == nil ||
		ch.Current.Level != events.Senior || ch.Current.EntitlementID == q.Entitlement.EntitlementID {
		t.Fatalf("1 -> 9 for an intermediate: %+v", ch)
	}
	if st := servicetest.Career(t, e.Store, "v"); len(st.Entitlements) != 1 || st.Entitlements[0].ID != ch.Current.EntitlementID || st.Entitlements[0].Level != events.Senior {
		t.Errorf("v's entitlements %+v", st.Entitlements)
	}
	e.VerifyChain("craftsman-v")
}

// A correction that would withdraw an entitlement a certificate used is
// refused, and writes nothing: the certificate is retracted first.
func TestCorrectionOfUsedEntitlementRefused(t *testing.T) {
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
		t.Fatalf("approve: %d", code)
	}
	if code, eb := e.certifyExceptional(trainingURL, "w", ent); code != 201 {
		t.Fatalf("certify: %d %+v", code, eb)
	}
	before := e.Types("craftsman-w")
	for name, body := range map[string]string{
		"to rank 30": e.rerank("w", p.PlacementEventID, 30),
		"retraction": fmt.Sprintf(`{"supersedesEventId":%q,"reason":"disqualified"}`, p.PlacementEventID),
	} {
		code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/corrections", body, nil)
		if code != 422 || eb.Code != "FAILED_PRECONDITION" || !strings.Contains(eb.Message, "retract the certificate first") || !strings.Contains(eb.Message, "EX-1") {
			t.Errorf("%s: %d %+v, want 422 naming the certificate", name, code, eb)
		}
	}
	if got := e.Types("craftsman-w"); !cmp.Equal(got, before) {
		t.Errorf("refused corrections wrote: %v, was %v", got, before)
	}
	// Within the band the certificate keeps its ground.
	if ch := e.correct("w", e.rerank("w", p.PlacementEventID, 4), 201).Entitlement; ch == nil || ch.Outcome != competition.EntitlementKept {
		t.Errorf("1 -> 4 with a used entitlement: %+v", ch)
	}
}

// Reversing a correction (superseding it without a replacement) puts the
// placement back as published, and the rules decide its entitlement again:
// the one withdrawn stays withdrawn (its approval with it), a new one is
// granted.
func TestReversedCorrectionRegrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Senior)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	p := e.placedAs("w", 1)
	ent := p.Entitlement.EntitlementID
	c := e.correct("w", e.rerank("w", p.PlacementEventID, 30), 201)
	if c.Entitlement == nil || c.Entitlement.Outcome != competition.EntitlementWithdrawn {
		t.Fatalf("1 -> 30: %+v", c.Entitlement)
	}
	r := e.correct("w", fmt.Sprintf(`{"supersedesEventId":%q,"reason":"the first reading was right"}`, c.EventIDs[0]), 201)
	ch := r.Entitlement
	if ch == nil || ch.Outcome != competition.EntitlementGranted || ch.Current == nil || ch.Current.EntitlementID == ent || ch.Current.Level != events.Technician {
		t.Fatalf("reversal: %+v", ch)
	}
	st := servicetest.Career(t, e.Store, "w")
	if len(st.Competitions) != 1 || st.Competitions[0].Rank != 1 || len(st.Entitlements) != 1 || st.Entitlements[0].ID != ch.Current.EntitlementID {
		t.Errorf("after the reversal: placements %+v, entitlements %+v", st.Competitions, st.Entitlements)
	}
	if code, ec := e.approve("w", ent); code != 422 {
		t.Errorf("approve the withdrawn entitlement: %d %s", code, ec)
	}
	if code, ec := e.approve("w", ch.Current.EntitlementID); code != 201 {
		t.Errorf("approve the new entitlement: %d %s", code, ec)
	}
	e.VerifyChain("craftsman-w")
}
