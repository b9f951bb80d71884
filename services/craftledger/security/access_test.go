package security_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// caughtUp waits until the all-in-one's projection has every write.
func caughtUp(e *sectest.Env) {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.App.WaitCaughtUp(ctx); err != nil {
		e.T.Fatalf("projection did not catch up: %v", err)
	}
}

// readRecord asks for a craftsman's record as the reviewer did: the name
// and the rest. It answers the error code ("" when answered) and the name.
func readRecord(e *sectest.Env, caller sectest.Caller, id string) (code, name string) {
	e.T.Helper()
	resp, a := gqlQuery(e, caller, `{ craftsman(id: "`+id+`") { name birthDate region employers } }`)
	if resp.Status != 200 {
		e.T.Fatalf("graphql as %s: %s", caller, resp)
	}
	if codes := errCodes(a); len(codes) > 0 {
		if string(a.Data["craftsman"]) != "null" && len(a.Data["craftsman"]) > 0 {
			e.T.Errorf("refused (%v), yet answered %s", codes, a.Data["craftsman"])
		}
		return codes[0], ""
	}
	var c struct{ Name string }
	if err := json.Unmarshal(a.Data["craftsman"], &c); err != nil {
		e.T.Fatal(err)
	}
	return "", c.Name
}

// population is what caller's craftsmen and populationStats count.
func population(e *sectest.Env, caller sectest.Caller) (listed, counted int) {
	e.T.Helper()
	resp, a := gqlQuery(e, caller, `{ craftsmen { totalCount } populationStats { total } }`)
	if resp.Status != 200 || len(a.Errors) > 0 {
		e.T.Fatalf("population as %s: %s", caller, resp)
	}
	var l struct{ TotalCount int }
	var s struct{ Total int }
	if json.Unmarshal(a.Data["craftsmen"], &l) != nil || json.Unmarshal(a.Data["populationStats"], &s) != nil {
		e.T.Fatalf("population answer %s", resp)
	}
	return l.TotalCount, s.Total
}

// TestRecordingAFactOpensNoRecord: the security review's first attack. An
// issuer with no link to a craftsman may record an assessment for its own
// evaluating organisation (by design), singly or by back-fill, but that
// does not open the craftsman's record to it: the record stays
// PERMISSION_DENIED and the population queries do not count them.
func TestRecordingAFactOpensNoRecord(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	trade := `{"code":"` + sectest.Trade + `","name":"电工"}`
	if code, _ := readRecord(e, sectest.IssuerX, sectest.Stranger); code != "PERMISSION_DENIED" {
		t.Fatalf("before any write: %q, want PERMISSION_DENIED", code)
	}
	r := e.Do(sectest.IssuerX, "POST", "/api/training/v1/craftsmen/"+sectest.Stranger+"/assessments", "",
		`{"assessmentId":"r7-a1","trade":`+trade+`,"level":"junior","evaluatingOrgId":"`+sectest.AcademyX+`","passed":false}`)
	if r.Status != 201 {
		t.Fatalf("assessment by its own evaluating organisation: %s, want 201", r)
	}
	var lines strings.Builder
	for i, id := range []string{sectest.Master, sectest.Apprentic, sectest.Spare} {
		fmt.Fprintf(&lines, `{"craftsmanId":"%s","key":"r7-bf-%d","assessmentId":"r7-bf-%d","trade":%s,"level":"junior","evaluatingOrgId":"%s","passed":false,"occurredAt":"2024-06-01"}`+"\n",
			id, i, i, trade, sectest.AcademyX)
	}
	r = e.Do(sectest.IssuerX, "POST", "/api/training/v1/backfill/assessments", ndjson, lines.String())
	if r.Status != 200 || !strings.Contains(string(r.Body), `"ok":3`) {
		t.Fatalf("back-filled assessments: %s, want three lines written", r)
	}
	caughtUp(e)
	for _, id := range []string{sectest.Stranger, sectest.Master, sectest.Apprentic, sectest.Spare} {
		if code, name := readRecord(e, sectest.IssuerX, id); code != "PERMISSION_DENIED" {
			t.Errorf("the issuer that recorded an assessment reads %s: code %q name %q, want PERMISSION_DENIED", id, code, name)
		}
	}
	if l, c := population(e, sectest.IssuerX); l != 0 || c != 0 {
		t.Errorf("the issuer that recorded assessments lists %d and counts %d craftsmen, want none", l, c)
	}
	// The links that stand: the registrar, the employer, the academy.
	for _, c := range []struct {
		caller sectest.Caller
		id     string
	}{{sectest.IssuerB, sectest.Spare}, {sectest.IssuerB, sectest.Worker}, {sectest.HRA, sectest.Worker}, {sectest.Auditor, sectest.Stranger}} {
		if code, name := readRecord(e, c.caller, c.id); code != "" || name == "" {
			t.Errorf("%s reads %s: code %q name %q, want the record", c.caller, c.id, code, name)
		}
	}
}

// TestEmployerCannotTakeOverProfile: the security review's second attack.
// An issuer may record an employment of any registered craftsman for its
// own organisation (the domain trusts registered issuers; the audit trail
// names it), which links it to them — it may then read the record — but
// it may not change their profile: only the registrar or an admin may.
// Retracting the employment takes the access away again.
func TestEmployerCannotTakeOverProfile(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	trade := `{"code":"` + sectest.Trade + `","name":"电工"}`
	_, before := readRecord(e, sectest.Admin, sectest.Stranger)
	r := e.Do(sectest.IssuerX, "POST", "/api/registry/v1/craftsmen/"+sectest.Stranger+"/employments", "",
		`{"employmentId":"r7-emp-1","employerOrgId":"`+sectest.AcademyX+`","trade":`+trade+`}`)
	if r.Status != 201 {
		t.Fatalf("employment for its own organisation: %s, want 201", r)
	}
	var written struct {
		EventIDs []string `json:"eventIds"`
	}
	if err := json.Unmarshal(r.Body, &written); err != nil || len(written.EventIDs) != 1 {
		t.Fatalf("employment answer %s (%v)", r, err)
	}
	for _, body := range []string{`{"region":"火星","personal":{"name":"被改名"}}`, `{"region":"310000"}`, `{"birthDate":"1991-01-01"}`,
		`{"nationalId":"` + sectest.NationalID(901) + `"}`} {
		end := e.End()
		r = e.Do(sectest.IssuerX, "PATCH", "/api/registry/v1/craftsmen/"+sectest.Stranger, "", body)
		if r.Status != 403 || r.Err().Code != "PERMISSION_DENIED" || !strings.Contains(r.Err().Message, "registered") {
			t.Errorf("profile change %s by the employer: %s, want 403 PERMISSION_DENIED naming the registrar's right", body, r)
		}
		if e.End() != end {
			t.Errorf("the refused profile change %s wrote", body)
		}
	}
	caughtUp(e)
	if code, name := readRecord(e, sectest.IssuerX, sectest.Stranger); code != "" || name != before {
		t.Errorf("the employer reads the record: code %q name %q, want the unchanged name %q", code, name, before)
	}
	r = e.Do(sectest.IssuerX, "POST", "/api/registry/v1/craftsmen/"+sectest.Stranger+"/corrections", "",
		`{"supersedesEventId":"`+written.EventIDs[0]+`","reason":"recorded in error"}`)
	if r.Status != 201 {
		t.Fatalf("retraction of the employment: %s", r)
	}
	caughtUp(e)
	if code, _ := readRecord(e, sectest.IssuerX, sectest.Stranger); code != "PERMISSION_DENIED" {
		t.Errorf("after the employment was retracted the record answers %q, want PERMISSION_DENIED", code)
	}
	// The registrar still changes the name, and the employer reads it.
	r = e.Do(sectest.IssuerB, "PATCH", "/api/registry/v1/craftsmen/"+sectest.Worker, "", `{"personal":{"name":"工匠 改名"}}`)
	if r.Status != 201 {
		t.Fatalf("name change by the registrar: %s, want 201", r)
	}
	caughtUp(e)
	if code, name := readRecord(e, sectest.HRA, sectest.Worker); code != "" || name != "工匠 改名" {
		t.Errorf("the employer reads code %q name %q, want the registrar's new name", code, name)
	}
}
