package training_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// TestDatesFollowTheirSources: an exceptional certificate is not dated
// before the entitlement it uses was granted and approved, and a
// completion that closes an enrolment is not dated before the enrolment;
// a refusal writes nothing.
func TestDatesFollowTheirSources(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "d1")
	w := events.CraftsmanStream("d1")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nsc-2023", PlacementID: "pl-1"}
	// Granted and approved at now-5y (2021-03-01).
	e.append(t, w,
		events.PromotionEntitlementGranted{CraftsmanID: "d1", EntitlementID: "ent-ok", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "d1", EntitlementID: "ent-ok", ApprovalRef: "r", ApprovingOrgID: "hr-tj"})
	iss := issuer(t, academy)
	early, onTheDay := cert("X1", "exceptional", "ent-ok", "technician"), cert("X1", "exceptional", "ent-ok", "technician")
	early["occurredAt"], onTheDay["occurredAt"] = "2015-01-01", "2021-03-01"
	enrol := map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-01-01"}
	complete := func(at string) map[string]any {
		return map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": at}
	}
	p := "/v1/craftsmen/d1/"
	e.run(t, w, []step{
		{"exceptional certificate dated before its entitlement", p + "certificates", iss, early, 400, "INVALID_ARGUMENT", "occurredAt"},
		{"exceptional certificate dated the day of its approval", p + "certificates", iss, onTheDay, 201, "", ""},
		{"enrol in 2024", p + "enrolments", iss, enrol, 201, "", ""},
		{"completion dated before its enrolment", p + "completions", iss, complete("2019-01-01"), 400, "INVALID_ARGUMENT", "occurredAt"},
		{"completion dated the day of its enrolment", p + "completions", iss, complete("2024-01-01"), 201, "", ""},
	})
}

// TestDatesAreChinaDays: the date rules compare days of the ledger's
// calendar (career.CivilDate, China, UTC+8), not UTC days. 07:00 China
// time on 2024-01-01 is 23:00 UTC the day before, yet the day of an
// enrolment dated 2024-01-01; 20:00 UTC on 2024-01-01 is already
// 2024-01-02 in China, after a completion dated 2024-01-01.
func TestDatesAreChinaDays(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "d9")
	w := events.CraftsmanStream("d9")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nsc-2023", PlacementID: "pl-1"}
	// Granted and approved at now-5y: 2021-03-01T09:00Z, 17:00 China time.
	e.append(t, w,
		events.PromotionEntitlementGranted{CraftsmanID: "d9", EntitlementID: "ent-ok", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "d9", EntitlementID: "ent-ok", ApprovalRef: "r", ApprovingOrgID: "hr-tj"})
	iss := issuer(t, academy)
	certMorning := cert("X9", "exceptional", "ent-ok", "technician")
	certMorning["occurredAt"] = "2021-03-01T07:00:00+08:00"
	enrol := func(id, at string) map[string]any {
		return map[string]any{"enrolmentId": id, "academyId": academy, "courseId": "elec-201", "occurredAt": at}
	}
	complete := func(id, at string) map[string]any {
		return map[string]any{"enrolmentId": id, "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": at}
	}
	p := "/v1/craftsmen/d9/"
	e.run(t, w, []step{
		{"certificate at 07:00 China time on the day of its entitlement", p + "certificates", iss, certMorning, 201, "", ""},
		{"enrol on 2024-01-01", p + "enrolments", iss, enrol("en1", "2024-01-01"), 201, "", ""},
		{"completion at 07:00 China time on 2024-01-01", p + "completions", iss, complete("en1", "2024-01-01T07:00:00+08:00"), 201, "", ""},
		{"enrol at 20:00 UTC on 2024-01-01 (2024-01-02 in China)", p + "enrolments", iss, enrol("en2", "2024-01-01T20:00:00Z"), 201, "", ""},
		{"completion dated 2024-01-01, the China day before", p + "completions", iss, complete("en2", "2024-01-01"), 400, "INVALID_ARGUMENT", "occurredAt"},
	})
}

// TestCorrectionsKeepDates: a correction is refused, with the status its
// command gives and nothing written, when it would leave a completion
// dated before its enrolment, an enrolment completed twice or recorded
// twice, a completion without its enrolment, or an exceptional
// certificate dated before its entitlement.
func TestCorrectionsKeepDates(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "k2")
	w := events.CraftsmanStream("k2")
	src := events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "nsc-2023", PlacementID: "pl-1"}
	// Granted and approved at now-5y (2021-03-01).
	e.append(t, w,
		events.PromotionEntitlementGranted{CraftsmanID: "k2", EntitlementID: "ent-ok", Trade: events.Trade{Code: elec}, Level: events.Technician, Source: src, RequiresApproval: true},
		events.PromotionEntitlementApproved{CraftsmanID: "k2", EntitlementID: "ent-ok", ApprovalRef: "r", ApprovingOrgID: "hr-tj"})
	iss := issuer(t, academy)
	ids := map[string]string{}
	do := func(name, path string, body map[string]any, status int, code, field string) {
		t.Helper()
		before := e.count(t, w)
		r := e.do(t, "/v1/craftsmen/k2/"+path, iss, body)
		if r.Status != status {
			t.Fatalf("%s: %d %s, want %d", name, r.Status, r.Body, status)
		}
		if status >= 400 {
			if c, f := r.Error(t); c != code || f != field || e.count(t, w) != before {
				t.Fatalf("%s: %s %q (%s), %d events (had %d); want %s %q, nothing written", name, c, f, r.Body, e.count(t, w), before, code, field)
			}
			return
		}
		var res command.Result
		r.JSON(t, &res)
		ids[name] = res.EventIDs[0]
	}
	enrolment := map[string]any{"craftsmanId": "k2", "enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "trade": map[string]any{"code": elec, "name": "电工"}, "mode": "classroom"}
	completion := map[string]any{"craftsmanId": "k2", "enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "trade": map[string]any{"code": elec, "name": "电工"}, "mode": "classroom", "hours": 8, "passed": true}
	certificate := cert("X1", "exceptional", "ent-ok", "technician")
	delete(certificate, "occurredAt")
	certificate["craftsmanId"] = "k2"
	redate := func(name string, data map[string]any, at string) map[string]any {
		return map[string]any{"supersedesEventId": ids[name], "reason": "wrong date", "replacement": map[string]any{"data": data, "occurredAt": at}}
	}
	retract := func(name string) map[string]any {
		return map[string]any{"supersedesEventId": ids[name], "reason": "recorded by mistake"}
	}
	complete := func(at string) map[string]any {
		return map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": at}
	}

	do("enrol", "enrolments", map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-01-01"}, 201, "", "")
	do("complete", "completions", complete("2024-06-01"), 201, "", "")
	do("completion re-dated before its enrolment", "corrections", redate("complete", completion, "2023-01-01"), 400, "INVALID_ARGUMENT", "replacement.occurredAt")
	do("enrolment re-dated after its completion", "corrections", redate("enrol", enrolment, "2025-01-01"), 400, "INVALID_ARGUMENT", "replacement.occurredAt")
	do("enrolment retracted while its completion stands", "corrections", retract("enrol"), 404, "NOT_FOUND", "supersedesEventId")
	do("enrolment re-dated, still before its completion", "corrections", redate("enrol", enrolment, "2023-06-01"), 201, "", "")
	do("completion retracted", "corrections", retract("complete"), 201, "", "")
	do("complete again", "completions", complete("2024-07-01"), 201, "", "")
	do("completion's retraction reversed: completed twice", "corrections", retract("completion retracted"), 422, "FAILED_PRECONDITION", "supersedesEventId")
	// China days (UTC+8): 07:00 there is 23:00 UTC the day before.
	do("completion re-dated to 07:00 China time on its enrolment's day", "corrections", redate("complete again", completion, "2023-06-01T07:00:00+08:00"), 201, "", "")

	do("certify", "certificates", map[string]any{"trade": certificate["trade"], "level": "technician", "certificateNumber": "X1", "family": "skill_level",
		"evaluatingOrgId": academy, "issuingOrg": certificate["issuingOrg"], "route": "exceptional", "entitlementId": "ent-ok", "occurredAt": "2022-01-01"}, 201, "", "")
	do("certificate re-dated before its entitlement", "corrections", redate("certify", certificate, "2015-01-01"), 400, "INVALID_ARGUMENT", "replacement.occurredAt")
	do("certificate re-dated to 07:00 China time on its entitlement's day", "corrections", redate("certify", certificate, "2021-03-01T07:00:00+08:00"), 201, "", "")
}
