package registry_test

import (
	"net/http"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
)

// TestCorrections: employment facts are corrected over real HTTP only by
// the employer that recorded them (or an admin); the employer cannot be
// changed by a correction; the registry's other facts are not its to
// correct this way.
func TestCorrections(t *testing.T) {
	e := newEnv(t)
	reg := e.register(t, "k1", 77)
	steel := issuer(t, "steelworks")
	r := e.do(t, "POST", "/v1/craftsmen/k1/employments", steel, map[string]any{"employmentId": "e1", "employerOrgId": "steelworks",
		"trade": map[string]any{"code": "6-31-01-03"}, "position": "电工", "occurredAt": "2015-05-01"})
	if r.Status != http.StatusCreated {
		t.Fatalf("employment: %d %s", r.Status, r.Body)
	}
	var started command.Result
	r.JSON(t, &started)
	fixed := map[string]any{"craftsmanId": "k1", "employmentId": "e1", "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}, "position": "电工"}
	moved := map[string]any{"craftsmanId": "k1", "employmentId": "e1", "employerOrgId": "shipyard", "trade": map[string]any{"code": "6-31-01-03"}}
	correct := func(id string, rep any) map[string]any {
		b := map[string]any{"supersedesEventId": id, "reason": "started in March, not May"}
		if rep != nil {
			b["replacement"] = map[string]any{"data": rep, "occurredAt": "2015-03-01"}
		}
		return b
	}
	steps := []struct {
		name, token string
		body        any
		status      int
		code, field string
	}{
		{"by another organisation", issuer(t, "academy-a"), correct(started.EventIDs[0], fixed), 403, "PERMISSION_DENIED", ""},
		{"a registration is not corrected here", issuer(t, "academy-a"), correct(reg.EventIDs[0], nil), 400, "INVALID_ARGUMENT", "supersedesEventId"},
		{"the employer cannot be changed", steel, correct(started.EventIDs[0], moved), 400, "INVALID_ARGUMENT", "replacement.data.employerOrgId"},
		{"corrected by the employer", steel, correct(started.EventIDs[0], fixed), 201, "", ""},
		{"the same correction again", steel, correct(started.EventIDs[0], fixed), 200, "", ""},
		{"retracted by an admin", admin(t), correct(started.EventIDs[0], nil), 201, "", ""},
	}
	for _, s := range steps {
		before := e.count(t, "craftsman-k1")
		r := e.do(t, "POST", "/v1/craftsmen/k1/corrections", s.token, s.body)
		if r.Status != s.status {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Body, s.status)
		}
		after := e.count(t, "craftsman-k1")
		if s.status >= 400 {
			if code, field := r.Error(t); code != s.code || field != s.field {
				t.Fatalf("%s: code %s field %q (%s), want %s %q", s.name, code, field, r.Body, s.code, s.field)
			}
		}
		if want := before + map[int]int{201: 1}[s.status]; after != want {
			t.Fatalf("%s: %d events, want %d", s.name, after, want)
		}
	}
	// Decisions see the facts as corrected: the retracted employment no
	// longer makes steelworks the employer, and its id is free again.
	// (A trade: an employer never changes the profile, retracted or not.)
	if r := e.do(t, "POST", "/v1/craftsmen/k1/trades", steel, map[string]any{"trade": map[string]any{"code": "6-31-01-03"}}); r.Status != http.StatusForbidden {
		t.Fatalf("trade entered by the employer of a retracted employment: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "POST", "/v1/craftsmen/k1/employments/e1/end", steel, map[string]any{}); r.Status != http.StatusNotFound {
		t.Fatalf("end of a retracted employment: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "POST", "/v1/craftsmen/k1/employments", steel, map[string]any{"employmentId": "e1", "employerOrgId": "steelworks",
		"trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": "2015-03-01"}); r.Status != http.StatusCreated {
		t.Fatalf("employment recorded again after its retraction: %d %s", r.Status, r.Body)
	}
}

// TestCorrectedStartDatesTheEnd: a correction's replacement occurredAt is
// the date the registry's own decisions use, not only the views': an
// employment whose start is corrected to an earlier date may end before
// the date first recorded, and one corrected to a later date may not end
// before that.
func TestCorrectedStartDatesTheEnd(t *testing.T) {
	e := newEnv(t)
	e.register(t, "k1", 78)
	steel := issuer(t, "steelworks")
	for _, c := range []struct {
		id, recorded, corrected, end string
		status                       int
	}{
		{"e1", "2015-05-01", "2015-03-01", "2015-04-01", http.StatusCreated},
		{"e2", "2016-01-01", "2016-06-01", "2016-03-01", http.StatusBadRequest},
	} {
		r := e.do(t, "POST", "/v1/craftsmen/k1/employments", steel, map[string]any{"employmentId": c.id, "employerOrgId": "steelworks",
			"trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": c.recorded})
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: employment: %d %s", c.id, r.Status, r.Body)
		}
		var started command.Result
		r.JSON(t, &started)
		r = e.do(t, "POST", "/v1/craftsmen/k1/corrections", steel, map[string]any{"supersedesEventId": started.EventIDs[0], "reason": "wrong start date",
			"replacement": map[string]any{"occurredAt": c.corrected, "data": map[string]any{"craftsmanId": "k1", "employmentId": c.id,
				"employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: correction: %d %s", c.id, r.Status, r.Body)
		}
		before := e.count(t, "craftsman-k1")
		r = e.do(t, "POST", "/v1/craftsmen/k1/employments/"+c.id+"/end", steel, map[string]any{"occurredAt": c.end})
		if r.Status != c.status {
			t.Fatalf("%s started %s, corrected to %s, ended %s: %d %s, want %d", c.id, c.recorded, c.corrected, c.end, r.Status, r.Body, c.status)
		}
		if c.status == http.StatusBadRequest {
			if code, field := r.Error(t); code != "INVALID_ARGUMENT" || field != "occurredAt" || e.count(t, "craftsman-k1") != before {
				t.Errorf("%s: code %s field %q (%s), %d events (had %d); want INVALID_ARGUMENT on occurredAt, nothing written", c.id, code, field, r.Body, e.count(t, "craftsman-k1"), before)
			}
		}
	}
}

// TestCorrectionsKeepEmploymentRules: a correction is refused, with the
// status its command gives and nothing written, when it would leave an
// employment breaking the rules StartEmployment and EndEmployment
// enforce: an end before the start, two ends or two starts in force, an
// end without its start.
func TestCorrectionsKeepEmploymentRules(t *testing.T) {
	e := newEnv(t)
	e.register(t, "k1", 79)
	steel := issuer(t, "steelworks")
	var ids = map[string]string{}
	record := func(name, path string, body map[string]any) {
		t.Helper()
		r := e.do(t, "POST", "/v1/craftsmen/k1/"+path, steel, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
		var res command.Result
		r.JSON(t, &res)
		ids[name] = res.EventIDs[0]
	}
	start := func(id, at string) map[string]any {
		return map[string]any{"employmentId": id, "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": at}
	}
	record("start e1", "employments", start("e1", "2015-05-01"))
	record("end e1", "employments/e1/end", map[string]any{"occurredAt": "2016-05-01", "reason": "left"})
	startData := map[string]any{"craftsmanId": "k1", "employmentId": "e1", "employerOrgId": "steelworks", "trade": map[string]any{"code": "6-31-01-03"}}
	endData := map[string]any{"craftsmanId": "k1", "employmentId": "e1", "reason": "left"}
	redate := func(name string, data map[string]any, at string) map[string]any {
		return map[string]any{"supersedesEventId": ids[name], "reason": "wrong date", "replacement": map[string]any{"data": data, "occurredAt": at}}
	}
	retract := func(name string) map[string]any {
		return map[string]any{"supersedesEventId": ids[name], "reason": "recorded by mistake"}
	}
	correct := func(name string, body map[string]any, status int, code, field string) {
		t.Helper()
		before := e.count(t, "craftsman-k1")
		r := e.do(t, "POST", "/v1/craftsmen/k1/corrections", steel, body)
		if r.Status != status {
			t.Fatalf("%s: %d %s, want %d", name, r.Status, r.Body, status)
		}
		if status >= 400 {
			if c, f := r.Error(t); c != code || f != field || e.count(t, "craftsman-k1") != before {
				t.Fatalf("%s: %s %q (%s), %d events (had %d); want %s %q, nothing written", name, c, f, r.Body, e.count(t, "craftsman-k1"), before, code, field)
			}
			return
		}
		var res command.Result
		r.JSON(t, &res)
		ids[name] = res.EventIDs[0]
	}
	correct("start re-dated after its end", redate("start e1", startData, "2019-01-01"), 400, "INVALID_ARGUMENT", "replacement.occurredAt")
	correct("end re-dated before its start", redate("end e1", endData, "2014-01-01"), 400, "INVALID_ARGUMENT", "replacement.occurredAt")
	correct("start re-dated, still before its end", redate("start e1", startData, "2015-03-01"), 201, "", "")
	correct("start retracted while its end stands", retract("start e1"), 404, "NOT_FOUND", "supersedesEventId")
	correct("end retracted", retract("end e1"), 201, "", "")
	record("end e1 again", "employments/e1/end", map[string]any{"occurredAt": "2020-05-01", "reason": "left"})
	correct("end's retraction reversed: two ends", retract("end retracted"), 422, "FAILED_PRECONDITION", "supersedesEventId")

	record("start e2", "employments", start("e2", "2021-05-01"))
	correct("e2 retracted", retract("start e2"), 201, "", "")
	record("start e2 again", "employments", start("e2", "2021-06-01"))
	correct("e2's retraction reversed: two starts", retract("e2 retracted"), 409, "CONFLICT", "supersedesEventId")
}
