package training_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
)

// TestCorrectionRelinkingACompletion: a completion's correction may name
// another enrolment (enrolmentId is not part of a completion's identity);
// the enrolment it then closes keeps the date rules as the complete
// command keeps them — a completion before its new enrolment's day is 400,
// one naming an enrolment the stream does not hold 404, nothing written.
// Until the fourteenth session only the original's enrolment was checked
// and both answered 201 (a read-through found it).
func TestCorrectionRelinkingACompletion(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "rl")
	w := events.CraftsmanStream("rl")
	iss := issuer(t, academy)
	ids := map[string]string{}
	do := func(name, path string, body map[string]any) int {
		t.Helper()
		before := e.count(t, w)
		r := e.do(t, "/v1/craftsmen/rl/"+path, iss, body)
		if r.Status >= 300 && e.count(t, w) != before {
			t.Errorf("%s: answered %d but wrote %d events", name, r.Status, e.count(t, w)-before)
		}
		if r.Status < 300 {
			var res command.Result
			r.JSON(t, &res)
			ids[name] = res.EventIDs[0]
		}
		return r.Status
	}
	comp := func(en string) map[string]any {
		return map[string]any{"craftsmanId": "rl", "enrolmentId": en, "academyId": academy, "courseId": "elec-201", "trade": map[string]any{"code": elec, "name": "电工"}, "mode": "classroom", "hours": 8, "passed": true}
	}
	do("enrol1", "enrolments", map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-01-01"})
	do("enrol2", "enrolments", map[string]any{"enrolmentId": "en2", "academyId": academy, "courseId": "elec-201", "occurredAt": "2024-09-01"})
	do("complete1", "completions", map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": "2024-06-01"})
	if s := do("completion re-linked to en2 (enrolled 3 months after it)", "corrections", map[string]any{"supersedesEventId": ids["complete1"], "reason": "wrong enrolment", "replacement": map[string]any{"data": comp("en2")}}); s != 400 {
		t.Errorf("re-linked before its new enrolment: %d, want 400", s)
	}
	if s := do("completion re-linked to an enrolment not on the stream", "corrections", map[string]any{"supersedesEventId": ids["complete1"], "reason": "wrong enrolment", "replacement": map[string]any{"data": comp("en-none")}}); s != 404 {
		t.Errorf("re-linked to no enrolment: %d, want 404", s)
	}
	if s := do("complete en2 directly (command check)", "completions", map[string]any{"enrolmentId": "en2", "academyId": academy, "courseId": "elec-201", "hours": 8, "passed": true, "occurredAt": "2024-06-01"}); s != 400 {
		t.Errorf("the command: %d, want 400", s)
	}
}
