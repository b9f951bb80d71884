package training_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// A stored correction replacing an enrolment with a fact of another type
// (a senior certificate; the services never write one) decides nothing:
// the career fold (every view) shows the enrolment open and no
// certificate, and the service, reading its stream with the same rule
// (events.ForeignReplacement), completes it.
func TestCorrectionOfAnotherTypeIsIgnored(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "f1")
	iss := issuer(t, academy)
	r := e.do(t, "/v1/craftsmen/f1/enrolments", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-01-01"})
	if r.Status != 201 {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	var res command.Result
	r.JSON(t, &res)
	rep, err := events.NewReplacement(events.SkillLevelCertified{CraftsmanID: "f1", Trade: events.Trade{Code: elec}, Level: events.Senior, CertificateNumber: "S-9",
		Family: events.FamilySkillLevel, EvaluatingOrgID: "mohrss", IssuingOrg: events.Org{ID: "mohrss", Kind: events.IssuerThirdParty}, Route: events.RouteRegular}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.append(t, events.CraftsmanStream("f1"), events.EventCorrected{CraftsmanID: "f1", SupersedesEventID: res.EventIDs[0], Reason: "legacy", Replacement: rep})
	if st := servicetest.Career(t, e.store, "f1"); len(st.Certificates) != 0 || len(st.Enrolments) != 1 || st.Enrolments[0].Completed {
		t.Fatalf("career fold: certificates %+v, enrolments %+v; want none, and en1 open", st.Certificates, st.Enrolments)
	}
	r = e.do(t, "/v1/craftsmen/f1/completions", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": "2024-06-01"})
	if r.Status != 201 {
		t.Errorf("completing en1, which the career fold shows open: %d %s", r.Status, r.Body)
	}
}
