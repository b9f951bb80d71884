package badinput_test

import (
	"testing"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// TestDomainRefusals sends well-formed commands that name something that
// does not exist or that the current state does not allow: each must get
// its exact status, code and field, and leave $all where it was. Steps
// marked setup are commands that must succeed to reach the state.
func TestDomainRefusals(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	const (
		unknown = "/v1/craftsmen/c-404"
		compl   = `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":true}`
	)
	cert := func(route, ent string) string {
		s := `{"trade":` + trade + `,"level":"technician","certificateNumber":"CERT-EX-1","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB +
			`","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"` + route + `"`
		if ent != "" {
			s += `,"entitlementId":"` + ent + `"`
		}
		return s + `}`
	}
	steps := []struct {
		name        string
		caller      sectest.Caller
		svc, path   string
		body        string
		status      int
		code, field string
		setup       bool
	}{
		// Unknown things.
		{name: "completion for an unknown worker", svc: "training", path: unknown + "/completions", body: compl, status: 404, code: "NOT_FOUND"},
		{name: "trade of an unknown worker", svc: "registry", path: unknown + "/trades", body: `{"trade":` + trade + `}`, status: 404, code: "NOT_FOUND"},
		{name: "enrolment at an unknown academy", caller: sectest.Admin, svc: "training", path: c1 + "/enrolments",
			body: `{"enrolmentId":"en-x","academyId":"academy-404","courseId":"` + sectest.CourseB + `"}`, status: 404, code: "NOT_FOUND", field: "academyId"},
		{name: "enrolment in an unknown course", svc: "training", path: c1 + "/enrolments",
			body: `{"enrolmentId":"en-x","academyId":"` + sectest.AcademyB + `","courseId":"course-404"}`, status: 404, code: "NOT_FOUND", field: "courseId"},
		{name: "course of an unknown academy", caller: sectest.Admin, svc: "registry", path: "/v1/academies/academy-404/courses",
			body: `{"courseId":"c-x","title":"t","trade":` + trade + `,"hours":8,"mode":"classroom"}`, status: 404, code: "NOT_FOUND"},
		{name: "results of an unknown competition", caller: sectest.Admin, svc: "competition", path: "/v1/competitions/comp-404/results",
			body: `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"` + sectest.Stranger + `","track":"employees","rank":3}]}`, status: 404, code: "NOT_FOUND"},
		{name: "placement of an unknown worker", svc: "competition", path: "/v1/competitions/" + sectest.CompB + "/results",
			body: `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"c-404","track":"employees","rank":3}]}`, status: 404, code: "NOT_FOUND", field: "placements[0].craftsmanId"},
		{name: "session of an unknown mentorship", svc: "mentorship", path: "/v1/mentorships/ms-404/sessions", body: `{"hours":2}`, status: 404, code: "NOT_FOUND"},
		{name: "end of an unknown employment", svc: "registry", path: c1 + "/employments/emp-404/end", body: `{"reason":"x"}`, status: 404, code: "NOT_FOUND"},
		{name: "withdrawal of an unknown honour", svc: "honour", path: c1 + "/honours/hon-404/withdraw", body: `{"reason":"x"}`, status: 404, code: "NOT_FOUND"},
		{name: "approval of an unknown entitlement", caller: sectest.HRA, svc: "competition", path: c1 + "/entitlements/ent-404/approve", body: `{"approvalRef":"r"}`, status: 404, code: "NOT_FOUND"},
		{name: "mentorship with an unknown apprentice", svc: "mentorship", path: "/v1/mentorships", body: sectest.MentorshipStart("ms-x", "c-404"), status: 404, code: "NOT_FOUND", field: "apprenticeId"},

		// Invalid values.
		{name: "a date in the future", svc: "training", path: c1 + "/completions",
			body: `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":true,"occurredAt":"2999-01-01"}`, status: 400, code: "INVALID_ARGUMENT", field: "occurredAt"},
		{name: "the zero date (read as not given before)", svc: "competition", path: "/v1/competitions/" + sectest.CompB + "/results",
			body: `{"occurredAt":"0001-01-01","placements":[{"craftsmanId":"` + sectest.Worker + `","track":"employees","rank":3}]}`, status: 400, code: "INVALID_ARGUMENT", field: "occurredAt"},
		{name: "negative hours", svc: "training", path: c1 + "/completions",
			body: `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":-8,"passed":true}`, status: 400, code: "INVALID_ARGUMENT", field: "hours"},
		{name: "a national ID with a wrong check character", svc: "registry", path: "/v1/craftsmen",
			body: `{"craftsmanId":"c-bad","nationalId":"11010119900101100Y","personal":{"name":"x"}}`, status: 400, code: "INVALID_ARGUMENT", field: "nationalId"},
		{name: "self-mentoring", svc: "mentorship", path: "/v1/mentorships",
			body:   `{"mentorshipId":"ms-self","masterId":"` + sectest.Master + `","apprenticeId":"` + sectest.Master + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":24}`,
			status: 400, code: "INVALID_ARGUMENT", field: "apprenticeId"},
		{name: "a pairing planned for 5 years", svc: "mentorship", path: "/v1/mentorships",
			body:   `{"mentorshipId":"ms-long","masterId":"` + sectest.Master + `","apprenticeId":"` + sectest.Stranger + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":60}`,
			status: 400, code: "INVALID_ARGUMENT", field: "plannedMonths"},

		// Already there.
		{name: "the worker registered again", svc: "registry", path: "/v1/craftsmen",
			body: `{"craftsmanId":"` + sectest.Worker + `","nationalId":"` + sectest.NationalID(950) + `","personal":{"name":"x"}}`, status: 409, code: "CONFLICT"},
		{name: "another craftsman with the worker's national ID", svc: "registry", path: "/v1/craftsmen",
			body: `{"craftsmanId":"c-twin","nationalId":"` + sectest.NationalID(100) + `","personal":{"name":"x"}}`, status: 409, code: "CONFLICT", field: "nationalId"},

		// Not allowed in the current state.
		{name: "master below senior level", svc: "mentorship", path: "/v1/mentorships",
			body:   `{"mentorshipId":"ms-low","masterId":"` + sectest.Stranger + `","apprenticeId":"` + sectest.Spare + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":24}`,
			status: 422, code: "FAILED_PRECONDITION", field: "masterId"},
		{name: "exceptional certificate citing no known entitlement", svc: "training", path: c1 + "/certificates", body: cert("exceptional", "ent-404"),
			status: 422, code: "FAILED_PRECONDITION", field: "entitlementId"},
		{name: "exceptional certificate before approval", svc: "training", path: c1 + "/certificates", body: cert("exceptional", e.Entitlement),
			status: 422, code: "FAILED_PRECONDITION", field: "entitlementId"},
		{name: "setup: approve", caller: sectest.HRA, svc: "competition", path: c1 + "/entitlements/" + e.Entitlement + "/approve", body: `{"approvalRef":"人社-1"}`, setup: true},
		{name: "approval again under another reference", caller: sectest.HRA, svc: "competition", path: c1 + "/entitlements/" + e.Entitlement + "/approve",
			body: `{"approvalRef":"人社-2"}`, status: 422, code: "FAILED_PRECONDITION"},
		{name: "setup: end employment", svc: "registry", path: c1 + "/employments/" + sectest.Employ1 + "/end", body: `{"reason":"合同到期"}`, setup: true},
		{name: "employment ended again", svc: "registry", path: c1 + "/employments/" + sectest.Employ1 + "/end", body: `{"reason":"辞职"}`, status: 422, code: "FAILED_PRECONDITION"},
		{name: "setup: complete mentorship", svc: "mentorship", path: "/v1/mentorships/" + sectest.Mentor1 + "/complete", body: `{"levelReached":"intermediate"}`, setup: true},
		{name: "session of a completed mentorship", svc: "mentorship", path: "/v1/mentorships/" + sectest.Mentor1 + "/sessions", body: `{"sessionId":"late","hours":2}`,
			status: 422, code: "FAILED_PRECONDITION"},
		{name: "early end of a completed mentorship", svc: "mentorship", path: "/v1/mentorships/" + sectest.Mentor1 + "/end", body: `{"reason":"x"}`,
			status: 422, code: "FAILED_PRECONDITION"},
		{name: "setup: withdraw honour", svc: "honour", path: c1 + "/honours/" + sectest.HonourB + "/withdraw", body: `{"reason":"撤销"}`, setup: true},
		{name: "honour withdrawn again for another reason", svc: "honour", path: c1 + "/honours/" + sectest.HonourB + "/withdraw", body: `{"reason":"另一个理由"}`,
			status: 409, code: "CONFLICT"},
	}
	for _, s := range steps {
		caller := s.caller
		if caller == "" {
			caller = sectest.IssuerB
		}
		before := e.End()
		r := e.Do(caller, "POST", "/api/"+s.svc+s.path, "", s.body)
		after := e.End()
		if s.setup {
			if r.Status != 201 {
				t.Fatalf("%s: %s", s.name, r)
			}
			continue
		}
		got := r.Err()
		if r.Status != s.status || got.Code != s.code || got.Field != s.field {
			t.Errorf("%s: %s, want %d %s field %q", s.name, r, s.status, s.code, s.field)
		}
		if before != after {
			t.Errorf("%s: the refused command wrote ($all end %v → %v)", s.name, before, after)
		}
	}
}
