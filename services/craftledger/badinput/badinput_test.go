package badinput_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

const (
	c1    = "/v1/craftsmen/" + sectest.Worker
	trade = `{"code":"` + sectest.Trade + `","name":"电工"}`
)

// endpoint is one JSON command route: a valid body, and a field of it sent
// with the wrong type and left out.
type endpoint struct {
	path        string
	body        string // a valid command
	optional    bool   // an empty body is a valid command
	typeField   string // sent with the wrong type in typeBody
	typeBody    string
	missField   string // required, left out in missBody
	missBody    string
	caller      sectest.Caller // default issuer of B
	backfill    bool           // JSON Lines: errors are per line
	backfillRaw string         // a valid line
}

func endpoints(e *sectest.Env) map[string]endpoint {
	return map[string]endpoint{
		"registry.RegisterCraftsman": {path: "/v1/craftsmen",
			body:      `{"craftsmanId":"bi-1","nationalId":"` + sectest.NationalID(900) + `","birthDate":"1990-01-01","region":"120000","personal":{"name":"工匠"}}`,
			typeField: "birthDate", typeBody: `{"craftsmanId":"bi-1","nationalId":"` + sectest.NationalID(900) + `","birthDate":19900101}`,
			missField: "nationalId", missBody: `{"craftsmanId":"bi-1","birthDate":"1990-01-01"}`},
		"registry.UpdateProfile": {path: c1, body: `{"region":"110000"}`,
			typeField: "region", typeBody: `{"region":110000}`,
			missField: "", missBody: ""},
		"registry.ForgetCraftsman": {path: c1 + "/forget", caller: sectest.Admin, body: `{"reason":"erasure request 1"}`,
			typeField: "reason", typeBody: `{"reason":1}`,
			missField: "reason", missBody: `{}`},
		"registry.EnterTrade": {path: c1 + "/trades", body: `{"trade":` + trade + `}`,
			typeField: "trade", typeBody: `{"trade":"` + sectest.Trade + `"}`,
			missField: "trade.code", missBody: `{"trade":{"name":"电工"}}`},
		"registry.StartEmployment": {path: c1 + "/employments",
			body:      `{"employmentId":"emp-bi","employerOrgId":"` + sectest.AcademyB + `","trade":` + trade + `}`,
			typeField: "employmentId", typeBody: `{"employmentId":7,"employerOrgId":"` + sectest.AcademyB + `","trade":` + trade + `}`,
			missField: "employerOrgId", missBody: `{"employmentId":"emp-bi","trade":` + trade + `}`},
		"registry.EndEmployment": {path: c1 + "/employments/" + sectest.Employ1 + "/end", body: `{"reason":"合同到期"}`, optional: true,
			typeField: "reason", typeBody: `{"reason":["合同到期"]}`},
		"registry.RegisterAcademy": {path: "/v1/academies", caller: sectest.Admin,
			body:      `{"academyId":"academy-bi","name":"学院","kind":"college","region":"120000"}`,
			typeField: "kind", typeBody: `{"academyId":"academy-bi","name":"学院","kind":1,"region":"120000"}`,
			missField: "region", missBody: `{"academyId":"academy-bi","name":"学院","kind":"college"}`},
		"registry.AddCourse": {path: "/v1/academies/" + sectest.AcademyB + "/courses",
			body:      `{"courseId":"course-bi","title":"安全","trade":` + trade + `,"hours":8,"mode":"classroom"}`,
			typeField: "hours", typeBody: `{"courseId":"course-bi","title":"安全","trade":` + trade + `,"hours":"eight","mode":"classroom"}`,
			missField: "title", missBody: `{"courseId":"course-bi","trade":` + trade + `,"hours":8,"mode":"classroom"}`},
		"registry.RegisterIssuer": {path: "/v1/issuers", caller: sectest.Admin,
			body:      `{"issuerId":"issuer-bi","name":"机构","kind":"academy"}`,
			typeField: "name", typeBody: `{"issuerId":"issuer-bi","name":{"zh":"机构"},"kind":"academy"}`,
			missField: "kind", missBody: `{"issuerId":"issuer-bi","name":"机构"}`},
		"registry.AddIssuerUser": {path: "/v1/issuers/" + sectest.AcademyB + "/users", caller: sectest.Admin,
			body:      `{"userId":"u-bi","role":"issuer"}`,
			typeField: "userId", typeBody: `{"userId":true,"role":"issuer"}`,
			missField: "role", missBody: `{"userId":"u-bi"}`},
		"training.Enrol": {path: c1 + "/enrolments",
			body:      `{"enrolmentId":"en-bi","academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `"}`,
			typeField: "courseId", typeBody: `{"enrolmentId":"en-bi","academyId":"` + sectest.AcademyB + `","courseId":201}`,
			missField: "enrolmentId", missBody: `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `"}`},
		"training.CompleteTraining": {path: c1 + "/completions",
			body:      `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":true}`,
			typeField: "passed", typeBody: `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":"yes"}`,
			missField: "academyId", missBody: `{"courseId":"` + sectest.CourseB + `","hours":8,"passed":true}`},
		"training.RecordGraduation": {path: c1 + "/graduations",
			body:      `{"schoolKind":"technical_school","speciality":"电气","trade":` + trade + `,"occurredAt":"2010-07-01"}`,
			typeField: "seniorClass", typeBody: `{"schoolKind":"technical_school","speciality":"电气","trade":` + trade + `,"seniorClass":"no"}`,
			missField: "schoolKind", missBody: `{"speciality":"电气","trade":` + trade + `}`},
		"training.RecordTitle": {path: c1 + "/titles",
			body:      `{"tier":"junior","title":"助理工程师","trade":` + trade + `}`,
			typeField: "tier", typeBody: `{"tier":1,"title":"助理工程师","trade":` + trade + `}`,
			missField: "title", missBody: `{"tier":"junior","trade":` + trade + `}`},
		"training.RecordAssessment": {path: c1 + "/assessments",
			body:      `{"assessmentId":"as-bi","trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","passed":true}`,
			typeField: "theoryScore", typeBody: `{"assessmentId":"as-bi","trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","theoryScore":"high","passed":true}`,
			missField: "assessmentId", missBody: `{"trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","passed":true}`},
		"training.CertifySkillLevel": {path: c1 + "/certificates",
			body:      `{"trade":` + trade + `,"level":"junior","certificateNumber":"CERT-BI","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"regular"}`,
			typeField: "issuingOrg", typeBody: `{"trade":` + trade + `,"level":"junior","certificateNumber":"CERT-BI","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":"` + sectest.AcademyB + `","route":"regular"}`,
			missField: "certificateNumber", missBody: `{"trade":` + trade + `,"level":"junior","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"regular"}`},
		"competition.DefineCompetition": {path: "/v1/competitions",
			body:      sectest.CompetitionDef("comp-bi", sectest.AcademyB),
			typeField: "year", typeBody: `{"competitionId":"comp-bi","name":"赛","tier":"national_class_1","year":"2025","trades":[` + trade + `],"tracks":["employees"],"rules":{}}`,
			missField: "name", missBody: `{"competitionId":"comp-bi","tier":"national_class_1","trades":[` + trade + `],"tracks":["employees"],"rules":{}}`},
		"competition.PublishResults": {path: "/v1/competitions/" + sectest.CompB + "/results",
			body:      `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"` + sectest.Stranger + `","track":"employees","rank":9}]}`,
			typeField: "placements.rank", typeBody: `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"` + sectest.Stranger + `","track":"employees","rank":"first"}]}`,
			missField: "placements", missBody: `{"occurredAt":"2025-09-05"}`},
		"competition.ApproveEntitlement": {path: c1 + "/entitlements/" + e.Entitlement + "/approve", caller: sectest.HRA,
			body:      `{"approvalRef":"人社核准-1"}`,
			typeField: "approvalRef", typeBody: `{"approvalRef":1}`,
			missField: "approvalRef", missBody: `{}`},
		"mentorship.StartMentorship": {path: "/v1/mentorships",
			body:      sectest.MentorshipStart("ms-bi", sectest.Stranger),
			typeField: "plannedMonths", typeBody: strings.Replace(sectest.MentorshipStart("ms-bi", sectest.Stranger), `"plannedMonths":24`, `"plannedMonths":"24"`, 1),
			missField: "masterId", missBody: strings.Replace(sectest.MentorshipStart("ms-bi", sectest.Stranger), `"masterId":"`+sectest.Master+`",`, ``, 1)},
		"mentorship.LogSession": {path: "/v1/mentorships/" + sectest.Mentor1 + "/sessions",
			body:      `{"sessionId":"s-bi","hours":4,"topic":"接线"}`,
			typeField: "hours", typeBody: `{"sessionId":"s-bi","hours":"4h","topic":"接线"}`,
			missField: "hours", missBody: `{"sessionId":"s-bi","topic":"接线"}`},
		"mentorship.CompleteMentorship": {path: "/v1/mentorships/" + sectest.Mentor1 + "/complete",
			body:      `{"levelReached":"intermediate"}`,
			typeField: "occurredAt", typeBody: `{"levelReached":"intermediate","occurredAt":20240101}`,
			missField: "levelReached", missBody: `{}`},
		"mentorship.EndMentorship": {path: "/v1/mentorships/" + sectest.Mentor2 + "/end",
			body:      `{"reason":"学徒调岗"}`,
			typeField: "reason", typeBody: `{"reason":false}`,
			missField: "reason", missBody: `{}`},
		"honour.ConferHonour": {path: c1 + "/honours",
			body:      `{"code":"star_bi","name":"之星","level":"academy","conferringBody":"学院","occurredAt":"2023-06-01"}`,
			typeField: "trade", typeBody: `{"code":"star_bi","name":"之星","level":"academy","conferringBody":"学院","trade":"电工"}`,
			missField: "code", missBody: `{"name":"之星","level":"academy","conferringBody":"学院"}`},
		"honour.WithdrawHonour": {path: c1 + "/honours/" + sectest.HonourB + "/withdraw",
			body:      `{"reason":"撤销"}`,
			typeField: "reason", typeBody: `{"reason":0}`,
			missField: "reason", missBody: `{}`},
		"registry.Correct": {path: c1 + "/corrections",
			body:      `{"supersedesEventId":"` + e.EmploymentEvent + `","reason":"recorded in error"}`,
			typeField: "reason", typeBody: `{"supersedesEventId":"` + e.EmploymentEvent + `","reason":{"why":1}}`,
			missField: "supersedesEventId", missBody: `{"reason":"recorded in error"}`},
		"training.Correct": {path: c1 + "/corrections",
			body:      `{"supersedesEventId":"` + e.TrainingEvent + `","reason":"recorded in error"}`,
			typeField: "supersedesEventId", typeBody: `{"supersedesEventId":["` + e.TrainingEvent + `"],"reason":"recorded in error"}`,
			missField: "reason", missBody: `{"supersedesEventId":"` + e.TrainingEvent + `"}`},
		"competition.Correct": {path: c1 + "/corrections",
			body:      `{"supersedesEventId":"` + e.PlacementEvent + `","reason":"recorded in error"}`,
			typeField: "supersedesEventId", typeBody: `{"supersedesEventId":7,"reason":"recorded in error"}`,
			missField: "reason", missBody: `{"supersedesEventId":"` + e.PlacementEvent + `"}`},
		"mentorship.Correct": {path: c1 + "/corrections",
			body:      `{"supersedesEventId":"` + e.MentorshipEvent + `","reason":"recorded in error"}`,
			typeField: "reason", typeBody: `{"supersedesEventId":"` + e.MentorshipEvent + `","reason":[1]}`,
			missField: "supersedesEventId", missBody: `{"reason":"recorded in error"}`},
		"honour.Correct": {path: c1 + "/corrections",
			body:      `{"supersedesEventId":"` + e.HonourEvent + `","reason":"recorded in error"}`,
			typeField: "reason", typeBody: `{"supersedesEventId":"` + e.HonourEvent + `","reason":42}`,
			missField: "supersedesEventId", missBody: `{"reason":"recorded in error"}`},
		"honour.RecogniseInnovation": {path: c1 + "/innovations",
			body:      `{"kind":"breakthrough","title":"攻关","level":"enterprise","role":"leader"}`,
			typeField: "inUse", typeBody: `{"kind":"breakthrough","title":"攻关","level":"enterprise","role":"leader","inUse":"yes"}`,
			missField: "kind", missBody: `{"title":"攻关","level":"enterprise","role":"leader"}`},

		"registry.BackfillCraftsmen": {path: "/v1/backfill/craftsmen", backfill: true,
			backfillRaw: `{"craftsmanId":"bf-bi","key":"bf-bi","nationalId":"` + sectest.NationalID(901) + `","birthDate":"1990-01-01","region":"120000","personal":{"name":"工匠"}}`,
			typeField:   "nationalId", typeBody: `{"craftsmanId":"bf-bi2","nationalId":110101199001019010}`,
			missField: "nationalId", missBody: `{"craftsmanId":"bf-bi3","birthDate":"1990-01-01"}`},
		"registry.BackfillEmployments": {path: "/v1/backfill/employments", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bfe-bi","employmentId":"emp-bf-bi","employerOrgId":"` + sectest.AcademyB + `","trade":` + trade + `,"occurredAt":"2019-01-01","endedOn":"2019-12-31"}`,
			typeField:   "employmentId", typeBody: `{"craftsmanId":"` + sectest.Worker + `","employmentId":5,"employerOrgId":"` + sectest.AcademyB + `","trade":` + trade + `,"occurredAt":"2019-01-01"}`,
			missField: "employerOrgId", missBody: `{"craftsmanId":"` + sectest.Worker + `","employmentId":"emp-bf-x","trade":` + trade + `,"occurredAt":"2019-01-01"}`},
		"registry.BackfillTrades": {path: "/v1/backfill/trades", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bftr-bi","trade":` + trade + `,"occurredAt":"2008-03-01"}`,
			typeField:   "trade", typeBody: `{"craftsmanId":"` + sectest.Worker + `","trade":"` + sectest.Trade + `","occurredAt":"2008-03-01"}`,
			missField: "trade.code", missBody: `{"craftsmanId":"` + sectest.Worker + `","trade":{"name":"电工"},"occurredAt":"2008-03-01"}`},
		"training.BackfillCompletions": {path: "/v1/backfill/completions", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bfc-bi","academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":4,"passed":true,"occurredAt":"2018-01-01"}`,
			typeField:   "hours", typeBody: `{"craftsmanId":"` + sectest.Worker + `","academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":"4","passed":true,"occurredAt":"2018-01-01"}`,
			missField: "academyId", missBody: `{"craftsmanId":"` + sectest.Worker + `","courseId":"` + sectest.CourseB + `","hours":4,"passed":true,"occurredAt":"2018-01-01"}`},
		"training.BackfillCertificates": {path: "/v1/backfill/certificates", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Stranger + `","key":"bfcert-bi","trade":` + trade + `,"level":"junior","certificateNumber":"CERT-BF-BI","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"regular","occurredAt":"2017-03-01"}`,
			typeField:   "level", typeBody: `{"craftsmanId":"` + sectest.Stranger + `","trade":` + trade + `,"level":[3],"certificateNumber":"CERT-BF-X","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"regular","occurredAt":"2017-03-01"}`,
			missField: "certificateNumber", missBody: `{"craftsmanId":"` + sectest.Stranger + `","trade":` + trade + `,"level":"junior","family":"skill_level","evaluatingOrgId":"` + sectest.AcademyB + `","issuingOrg":{"id":"` + sectest.AcademyB + `","kind":"third_party"},"route":"regular","occurredAt":"2017-03-01"}`},
		"training.BackfillGraduations": {path: "/v1/backfill/graduations", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bfg-bi","schoolKind":"technical_school","speciality":"电气","trade":` + trade + `,"occurredAt":"2009-07-01"}`,
			typeField:   "finalYear", typeBody: `{"craftsmanId":"` + sectest.Worker + `","schoolKind":"technical_school","speciality":"电气","trade":` + trade + `,"finalYear":"yes","occurredAt":"2009-07-01"}`,
			missField: "schoolKind", missBody: `{"craftsmanId":"` + sectest.Worker + `","speciality":"电气","trade":` + trade + `,"occurredAt":"2009-07-02"}`},
		"training.BackfillTitles": {path: "/v1/backfill/titles", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bft-bi","tier":"junior","title":"助理工程师","trade":` + trade + `,"occurredAt":"2015-01-01"}`,
			typeField:   "tier", typeBody: `{"craftsmanId":"` + sectest.Worker + `","tier":1,"title":"助理工程师","trade":` + trade + `,"occurredAt":"2015-01-01"}`,
			missField: "title", missBody: `{"craftsmanId":"` + sectest.Worker + `","tier":"junior","trade":` + trade + `,"occurredAt":"2015-01-02"}`},
		"training.BackfillEnrolments": {path: "/v1/backfill/enrolments", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bfen-bi","enrolmentId":"en-bf-bi","academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","occurredAt":"2018-09-01"}`,
			typeField:   "enrolmentId", typeBody: `{"craftsmanId":"` + sectest.Worker + `","enrolmentId":5,"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","occurredAt":"2018-09-01"}`,
			missField: "courseId", missBody: `{"craftsmanId":"` + sectest.Worker + `","enrolmentId":"en-bf-x","academyId":"` + sectest.AcademyB + `","occurredAt":"2018-09-01"}`},
		"training.BackfillAssessments": {path: "/v1/backfill/assessments", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","key":"bfas-bi","assessmentId":"as-bf-bi","trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","passed":true,"occurredAt":"2016-06-01"}`,
			typeField:   "passed", typeBody: `{"craftsmanId":"` + sectest.Worker + `","assessmentId":"as-bf-x","trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","passed":"yes","occurredAt":"2016-06-01"}`,
			missField: "assessmentId", missBody: `{"craftsmanId":"` + sectest.Worker + `","trade":` + trade + `,"level":"junior","evaluatingOrgId":"` + sectest.AcademyB + `","passed":true,"occurredAt":"2016-06-02"}`},
		"competition.BackfillResults": {path: "/v1/backfill/results", backfill: true,
			backfillRaw: `{"competitionId":"` + sectest.CompB + `","occurredAt":"2025-09-05","craftsmanId":"` + sectest.Spare + `","track":"employees","rank":11}`,
			typeField:   "rank", typeBody: `{"competitionId":"` + sectest.CompB + `","occurredAt":"2025-09-05","craftsmanId":"` + sectest.Spare + `","track":"employees","rank":"11"}`,
			missField: "occurredAt", missBody: `{"competitionId":"` + sectest.CompB + `","craftsmanId":"` + sectest.Spare + `","track":"employees","rank":12}`},
		"mentorship.BackfillMentorships": {path: "/v1/backfill/mentorships", backfill: true,
			backfillRaw: `{"mentorshipId":"ms-bf-bi","masterId":"` + sectest.Master + `","apprenticeId":"` + sectest.Spare + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":12,"occurredAt":"2019-01-01"}`,
			typeField:   "plannedMonths", typeBody: `{"mentorshipId":"ms-bf-x","masterId":"` + sectest.Master + `","apprenticeId":"` + sectest.Spare + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":"12","occurredAt":"2019-01-01"}`,
			missField: "occurredAt", missBody: `{"mentorshipId":"ms-bf-y","masterId":"` + sectest.Master + `","apprenticeId":"` + sectest.Spare + `","trade":` + trade + `,"academyId":"` + sectest.AcademyB + `","plannedMonths":12}`},
		"honour.BackfillHonours": {path: "/v1/backfill/honours", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","code":"bf_star_bi","name":"之星","level":"academy","conferringBody":"学院","occurredAt":"2012-04-28"}`,
			typeField:   "withdrawn", typeBody: `{"craftsmanId":"` + sectest.Worker + `","code":"bf_star_x","name":"之星","level":"academy","conferringBody":"学院","occurredAt":"2012-04-28","withdrawn":"yes"}`,
			missField: "occurredAt", missBody: `{"craftsmanId":"` + sectest.Worker + `","code":"bf_star_y","name":"之星","level":"academy","conferringBody":"学院"}`},
		"honour.BackfillInnovations": {path: "/v1/backfill/innovations", backfill: true,
			backfillRaw: `{"craftsmanId":"` + sectest.Worker + `","kind":"breakthrough","title":"旧攻关","level":"enterprise","role":"member","occurredAt":"2011-01-01"}`,
			typeField:   "title", typeBody: `{"craftsmanId":"` + sectest.Worker + `","kind":"breakthrough","title":7,"level":"enterprise","role":"member","occurredAt":"2011-01-01"}`,
			missField: "kind", missBody: `{"craftsmanId":"` + sectest.Worker + `","title":"旧攻关 2","level":"enterprise","role":"member","occurredAt":"2011-01-01"}`},
	}
}

func routeKeys() map[string]string {
	out := map[string]string{}
	for _, r := range registry.Routes() {
		out["registry."+r.Name] = r.Method
	}
	for _, r := range training.Routes() {
		out["training."+r.Name] = r.Method
	}
	for _, r := range competition.Routes() {
		out["competition."+r.Name] = r.Method
	}
	for _, r := range mentorship.Routes() {
		out["mentorship."+r.Name] = r.Method
	}
	for _, r := range honour.Routes() {
		out["honour."+r.Name] = r.Method
	}
	return out
}

// withField adds "name": raw to a JSON object body.
func withField(body, name, raw string) string {
	return strings.TrimSuffix(strings.TrimSpace(body), "}") + `,"` + name + `":` + raw + `}`
}

type lineResult struct {
	Line    int             `json:"line"`
	OK      bool            `json:"ok"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Summary json.RawMessage `json:"summary"`
}

func lines(b []byte) (map[int]lineResult, bool) {
	out := map[int]lineResult{}
	summary := false
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r lineResult
		if json.Unmarshal(l, &r) != nil {
			continue
		}
		if r.Summary != nil {
			summary = true
			continue
		}
		out[r.Line] = r
	}
	return out, summary
}

// TestMalformedRequests sends, to every command route of the five services
// through the all-in-one, malformed JSON, truncated JSON, an empty body, a
// non-object, trailing data, an unknown field, a field of the wrong type,
// a missing required field, a wrong content type and a body over 1 MiB:
// each must be 400 INVALID_ARGUMENT with the field named where there is
// one, and $all must not move. Back-fill files get the same faults per
// line: the bad lines fail with INVALID_ARGUMENT, the good line still
// passes, and a file of only bad lines writes nothing.
func TestMalformedRequests(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	eps := endpoints(e)
	routes := routeKeys()
	for k := range routes {
		if _, ok := eps[k]; !ok {
			t.Errorf("route %s has no row in the bad-input table", k)
		}
	}
	for k := range eps {
		if _, ok := routes[k]; !ok {
			t.Errorf("bad-input row %s names no route of the services (stale row)", k)
		}
	}
	huge := `"` + strings.Repeat("x", 1<<20) + `"`

	for key, ep := range eps {
		method, ok := routes[key]
		if !ok {
			continue // reported above as a stale row
		}
		svc := key[:strings.Index(key, ".")]
		path := "/api/" + svc + ep.path
		caller := ep.caller
		if caller == "" {
			caller = sectest.IssuerB
		}
		type tc struct {
			name, ctype, body, field string
		}
		if ep.backfill {
			t.Run(key, func(t *testing.T) { backfillCases(t, e, caller, path, ep) })
			continue
		}
		cases := []tc{
			{"malformed JSON", "", `{"a":,}`, ""},
			{"truncated JSON", "", ep.body[:len(ep.body)/2], ""},
			{"not an object", "", `["` + sectest.Worker + `"]`, ""},
			{"trailing data", "", ep.body + ` {"x":1}`, ""},
			{"unknown field", "", withField(ep.body, "bogus", "1"), "bogus"},
			{"unknown field (case)", "", withField(ep.body, "CraftsmanId", `"c-9"`), "CraftsmanId"},
			{"wrong content type", "text/plain", ep.body, ""},
			{"over 1 MiB", "", withField(ep.body, "padding", huge), ""},
			{"wrong type: " + ep.typeField, "", ep.typeBody, ep.typeField},
		}
		if !ep.optional {
			cases = append(cases, tc{"empty body", "application/json", "", ""})
		}
		if ep.missField != "" {
			cases = append(cases, tc{"missing " + ep.missField, "", ep.missBody, ep.missField})
		}
		for _, c := range cases {
			t.Run(key+"/"+c.name, func(t *testing.T) {
				before := e.End()
				r := e.Do(caller, method, path, c.ctype, c.body)
				after := e.End()
				got := r.Err()
				if r.Status != 400 || got.Code != "INVALID_ARGUMENT" || got.Field != c.field {
					t.Errorf("%s %s: %s, want 400 INVALID_ARGUMENT field %q", method, path, r, c.field)
				}
				if before != after {
					t.Errorf("a refused request wrote: $all end %v → %v", before, after)
				}
			})
		}
	}
}

// backfillCases: a file with one good line and the bad lines.
func backfillCases(t *testing.T, e *sectest.Env, caller sectest.Caller, path string, ep endpoint) {
	bad := []struct {
		name, line, field string
	}{
		{"malformed JSON", `{"craftsmanId":`, ""},
		{"not an object", `[1,2]`, ""},
		{"unknown field", withField(ep.backfillRaw, "bogus", "1"), "bogus"},
		{"key differing in case", withField(ep.backfillRaw, "CraftsmanId", `"c-9"`), "CraftsmanId"},
		{"wrong type", ep.typeBody, ep.typeField},
		{"missing field", ep.missBody, ep.missField},
	}
	var only strings.Builder
	for _, b := range bad {
		only.WriteString(b.line + "\n")
	}
	before := e.End()
	r := e.Do(caller, "POST", path, "application/x-ndjson", only.String())
	after := e.End()
	res, summary := lines(r.Body)
	if r.Status != 200 || !summary || len(res) != len(bad) {
		t.Fatalf("file of bad lines: %s, want 200 with %d line results and a summary", r, len(bad))
	}
	for i, b := range bad {
		got := res[i+1]
		if got.OK || got.Code != "INVALID_ARGUMENT" {
			t.Errorf("line %d (%s): %+v, want INVALID_ARGUMENT", i+1, b.name, got)
		}
		if b.field != "" && !strings.Contains(got.Message, b.field) {
			t.Errorf("line %d (%s): message %q does not name field %q", i+1, b.name, got.Message, b.field)
		}
		// A wrong type names the JSON field alone, never the Go struct
		// ("StartRequest.plannedMonths").
		if strings.Contains(got.Message, "Request.") || strings.Contains(got.Message, "Input.") {
			t.Errorf("line %d (%s): message names a Go type: %q", i+1, b.name, got.Message)
		}
	}
	if before != after {
		t.Errorf("a file of bad lines wrote: $all end %v → %v", before, after)
	}

	// The good line among them still passes; the bad ones do not stop it.
	r = e.Do(caller, "POST", path, "application/x-ndjson", bad[0].line+"\n"+ep.backfillRaw+"\n"+bad[2].line+"\n")
	res, _ = lines(r.Body)
	if r.Status != 200 || !res[2].OK || res[1].OK || res[3].OK {
		t.Errorf("mixed file: %s, want line 2 ok and lines 1 and 3 refused", r)
	}
	if e.End() == after {
		t.Error("the good line of a mixed file wrote nothing")
	}

	for _, c := range []struct{ name, ctype, body string }{
		{"wrong content type", "application/json", ep.backfillRaw},
		{"no content type", "", ""},
	} {
		before := e.End()
		r := e.Do(caller, "POST", path, c.ctype, c.body)
		if r.Status != 400 || r.Err().Code != "INVALID_ARGUMENT" {
			t.Errorf("%s: %s, want 400 INVALID_ARGUMENT", c.name, r)
		}
		if e.End() != before {
			t.Errorf("%s wrote", c.name)
		}
	}
	_ = fmt.Sprint
}
