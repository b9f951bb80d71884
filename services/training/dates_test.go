package training_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
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
