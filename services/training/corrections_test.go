package training_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
)

// TestCorrections: POST /v1/craftsmen/{id}/corrections over real HTTP —
// only the organisation that recorded a fact (or an admin) corrects it, a
// replacement keeps the fact's identity, only training's own facts are
// corrected, and the same correction again is a replay.
func TestCorrections(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "k1")
	iss := issuer(t, academy)
	p := "/v1/craftsmen/k1"
	r := e.do(t, p+"/completions", iss, map[string]any{"academyId": academy, "courseId": "elec-201", "hours": 23, "passed": true, "occurredAt": "2019-06-30"})
	if r.Status != 201 {
		t.Fatalf("completion: %d %s", r.Status, r.Body)
	}
	var done command.Result
	r.JSON(t, &done)
	completion := done.EventIDs[0]
	fixed := map[string]any{"craftsmanId": "k1", "academyId": academy, "courseId": "elec-201", "trade": map[string]any{"code": elec, "name": "电工"},
		"hours": 32, "mode": "classroom", "passed": true}
	moved := map[string]any{"craftsmanId": "k1", "academyId": "other-academy", "courseId": "elec-201", "trade": map[string]any{"code": elec},
		"hours": 32, "mode": "classroom", "passed": true}
	h, err := command.Load(context.Background(), e.store, events.CraftsmanStream("k1"))
	if err != nil {
		t.Fatal(err)
	}
	registration := h.Events[0].ID
	correct := func(id string, rep any) map[string]any {
		b := map[string]any{"supersedesEventId": id, "reason": "hours were 32, not 23: typing error on the paper record"}
		if rep != nil {
			b["replacement"] = map[string]any{"data": rep}
		}
		return b
	}
	e.run(t, "craftsman-k1", []step{
		{"by another organisation", p + "/corrections", issuer(t, "other-academy"), correct(completion, fixed), 403, "PERMISSION_DENIED", ""},
		{"by a worker", p + "/corrections", commandtest.Token(t, auth.RoleWorker, "", "k1"), correct(completion, fixed), 403, "PERMISSION_DENIED", ""},
		{"no reason", p + "/corrections", iss, map[string]any{"supersedesEventId": completion}, 400, "INVALID_ARGUMENT", "reason"},
		{"unknown event", p + "/corrections", iss, correct("0b4f2a9e-6a0e-4c1f-9d61-2b7f1e0a5c33", nil), 404, "NOT_FOUND", "supersedesEventId"},
		{"not a training fact", p + "/corrections", iss, correct(registration, nil), 400, "INVALID_ARGUMENT", "supersedesEventId"},
		{"replacement moves the fact to another academy", p + "/corrections", iss, correct(completion, moved), 400, "INVALID_ARGUMENT", "replacement.data.academyId"},
		{"corrected by its academy", p + "/corrections", iss, correct(completion, fixed), 201, "", ""},
	})
	// The same correction again is recorded once.
	again := e.do(t, p+"/corrections", iss, correct(completion, fixed))
	var res command.Result
	again.JSON(t, &res)
	if again.Status != 200 || !res.Replayed {
		t.Fatalf("again: %d %s", again.Status, again.Body)
	}
	h, _ = command.Load(context.Background(), e.store, events.CraftsmanStream("k1"))
	last := h.Events[len(h.Events)-1]
	p2, err := events.NewRegistry().Decode(last.Type, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	c := p2.(events.EventCorrected)
	var rep events.TrainingCompleted
	if err := json.Unmarshal(c.Replacement.Data, &rep); err != nil || c.SupersedesEventID != completion || rep.Hours != 32 {
		t.Fatalf("correction %+v (%s) %v", c, c.Replacement.Data, err)
	}
	// An admin may retract a fact any organisation recorded.
	r = e.do(t, p+"/titles", iss, map[string]any{"tier": "junior", "title": "助理工程师", "trade": map[string]any{"code": elec}, "occurredAt": "2018-10-01"})
	var title command.Result
	r.JSON(t, &title)
	e.run(t, "craftsman-k1", []step{
		{"retracted by an admin", p + "/corrections", commandtest.Token(t, auth.RoleAdmin, "", ""), correct(title.EventIDs[0], nil), 201, "", ""},
	})
	// Decisions see the facts as corrected: a retracted certificate's
	// number may be recorded again (a duplicate is otherwise 409).
	r = e.do(t, p+"/certificates", iss, cert("TJ-2025-7", "regular", "", "intermediate"))
	var c1 command.Result
	r.JSON(t, &c1)
	e.run(t, "craftsman-k1", []step{
		{"same number again", p + "/certificates", iss, cert("TJ-2025-7", "regular", "", "intermediate"), 409, "CONFLICT", "certificateNumber"},
		{"certificate retracted by its issuer", p + "/corrections", iss, correct(c1.EventIDs[0], nil), 201, "", ""},
		{"the number recorded again", p + "/certificates", iss, cert("TJ-2025-7", "regular", "", "intermediate"), 201, "", ""},
	})
}

// A certificate's correction keeps its level, route and entitlement: those
// are what CertifySkillLevel checks, and a replacement is not checked
// again. An exceptional certificate corrected to the regular route would
// free its entitlement for a second certificate, and a regular one
// corrected upwards would raise the level with no assessment or approval.
func TestCertificateCorrectionKeepsLevelRouteAndEntitlement(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "k2")
	s := events.CraftsmanStream("k2")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "c1", PlacementID: "pl-1"}
	e.append(t, s,
		events.PromotionEntitlementGranted{CraftsmanID: "k2", EntitlementID: "ent-1", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "k2", EntitlementID: "ent-1", ApprovalRef: "津人社核〔2025〕12号", ApprovingOrgID: "hr-tj"})
	iss := issuer(t, academy)
	p := "/v1/craftsmen/k2"
	certify := func(body map[string]any) string {
		t.Helper()
		r := e.do(t, p+"/certificates", iss, body)
		var res command.Result
		r.JSON(t, &res)
		if r.Status != 201 || len(res.EventIDs) != 1 {
			t.Fatalf("certificate: %d %s", r.Status, r.Body)
		}
		return res.EventIDs[0]
	}
	exceptional := certify(cert("EX-1", "exceptional", "ent-1", "technician"))
	regular := certify(cert("R-1", "regular", "", "intermediate"))
	data := func(number, route, entitlement, level string) map[string]any {
		b := cert(number, route, entitlement, level)
		delete(b, "occurredAt")
		b["craftsmanId"] = "k2"
		return b
	}
	replace := func(id string, rep map[string]any, at string) map[string]any {
		r := map[string]any{"data": rep}
		if at != "" {
			r["occurredAt"] = at
		}
		return map[string]any{"supersedesEventId": id, "reason": "transcription error", "replacement": r}
	}
	fix := p + "/corrections"
	e.run(t, s, []step{
		{"exceptional corrected to the regular route", fix, iss, replace(exceptional, data("EX-1", "regular", "", "technician"), ""), 400, "INVALID_ARGUMENT", "replacement.data.route"},
		{"exceptional citing another entitlement", fix, iss, replace(exceptional, data("EX-1", "exceptional", "ent-2", "technician"), ""), 400, "INVALID_ARGUMENT", "replacement.data.entitlementId"},
		{"exceptional at another level", fix, iss, replace(exceptional, data("EX-1", "exceptional", "ent-1", "senior_technician"), ""), 400, "INVALID_ARGUMENT", "replacement.data.level"},
		{"regular corrected upwards", fix, iss, replace(regular, data("R-1", "regular", "", "senior_technician"), ""), 400, "INVALID_ARGUMENT", "replacement.data.level"},
		{"regular corrected to the exceptional route", fix, iss, replace(regular, data("R-1", "exceptional", "ent-1", "intermediate"), ""), 400, "INVALID_ARGUMENT", "replacement.data.route"},
		{"the date corrected, the rest kept", fix, iss, replace(exceptional, data("EX-1", "exceptional", "ent-1", "technician"), "2025-01-20"), 201, "", ""},
		{"the entitlement stays used", p + "/certificates", iss, cert("EX-2", "exceptional", "ent-1", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
	})
}

// An entitlement whose competition placement a correction retracted went
// with it: the exceptional route cannot use it, even approved; a placement
// corrected (not retracted) keeps its entitlement usable.
func TestEntitlementOfRetractedPlacement(t *testing.T) {
	e := newEnv(t)
	src := func(pid string) events.EntitlementSource {
		return events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nc-2025", PlacementID: pid, RuleID: "r"}
	}
	placed := func(w, pid string, rank int) events.CompetitionPlaced {
		return events.CompetitionPlaced{CraftsmanID: w, CompetitionID: "nc-2025", PlacementID: pid, Tier: events.TierNationalClass1,
			Track: events.TrackEmployees, TeamSize: 1, Trade: events.Trade{Code: elec}, Rank: rank, Award: events.AwardNone}
	}
	for _, w := range []string{"r1", "r2"} {
		e.craftsman(t, w)
		s := events.CraftsmanStream(w)
		e.append(t, s, placed(w, "pl-"+w, 3),
			events.PromotionEntitlementGranted{CraftsmanID: w, EntitlementID: "ent-" + w, Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src("pl-" + w), RequiresApproval: true},
			events.PromotionEntitlementApproved{CraftsmanID: w, EntitlementID: "ent-" + w, ApprovalRef: "津人社核〔2025〕12号", ApprovingOrgID: "hr-tj"})
	}
	h, err := command.Load(context.Background(), e.store, events.CraftsmanStream("r1"))
	if err != nil {
		t.Fatal(err)
	}
	e.append(t, events.CraftsmanStream("r1"), events.EventCorrected{CraftsmanID: "r1", SupersedesEventID: h.Events[1].ID, Reason: "disqualified"})
	h, err = command.Load(context.Background(), e.store, events.CraftsmanStream("r2"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := events.NewReplacement(placed("r2", "pl-r2", 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.append(t, events.CraftsmanStream("r2"), events.EventCorrected{CraftsmanID: "r2", SupersedesEventID: h.Events[1].ID, Reason: "rank 4", Replacement: rep})
	iss := issuer(t, academy)
	e.run(t, "craftsman-r1", []step{
		{"placement retracted", "/v1/craftsmen/r1/certificates", iss, cert("X-1", "exceptional", "ent-r1", "technician"), 422, "FAILED_PRECONDITION", "entitlementId"},
	})
	e.run(t, "craftsman-r2", []step{
		{"placement corrected", "/v1/craftsmen/r2/certificates", iss, cert("X-2", "exceptional", "ent-r2", "technician"), 201, "", ""},
	})
}

// A certificate's correction that brings an exceptional certificate back
// in force is checked as certifying it would be: while another certificate
// in force uses its entitlement, reversing its retraction is refused
// (one entitlement, one certificate); once that one is retracted it is
// recorded.
func TestReinstatedCertificateNeedsItsEntitlementFree(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "k3")
	s := events.CraftsmanStream("k3")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "c1", PlacementID: "pl-1"}
	e.append(t, s,
		events.PromotionEntitlementGranted{CraftsmanID: "k3", EntitlementID: "ent-1", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "k3", EntitlementID: "ent-1", ApprovalRef: "津人社核〔2025〕12号", ApprovingOrgID: "hr-tj"})
	iss := issuer(t, academy)
	p := "/v1/craftsmen/k3"
	post := func(path string, body map[string]any) string {
		t.Helper()
		r := e.do(t, p+path, iss, body)
		var res command.Result
		r.JSON(t, &res)
		if r.Status != 201 || len(res.EventIDs) == 0 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		return res.EventIDs[0]
	}
	ex1 := post("/certificates", cert("EX-1", "exceptional", "ent-1", "technician"))
	retract1 := post("/corrections", map[string]any{"supersedesEventId": ex1, "reason": "issued in error"})
	ex2 := post("/certificates", cert("EX-2", "exceptional", "ent-1", "technician"))
	reverse1 := map[string]any{"supersedesEventId": retract1, "reason": "the retraction was wrong"}
	e.run(t, s, []step{
		{"EX-1 back while EX-2 uses ent-1", p + "/corrections", iss, reverse1, 422, "FAILED_PRECONDITION", "supersedesEventId"},
		{"EX-2 retracted", p + "/corrections", iss, map[string]any{"supersedesEventId": ex2, "reason": "EX-1 stands"}, 201, "", ""},
		{"EX-1 back", p + "/corrections", iss, reverse1, 201, "", ""},
	})
}
