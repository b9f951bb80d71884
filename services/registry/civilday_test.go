package registry_test

import (
	"net/http"
	"testing"
)

// TestEmploymentEndsByChinaDays: "an end before the start" counts days of
// the ledger's calendar (China's): an employment started on the date
// 2020-01-01 may end at 07:00 China time that day (23:00 UTC the day
// before); an end on the China day before is refused, naming occurredAt.
// Until the fourteenth session the instants were compared and the first
// was refused.
func TestEmploymentEndsByChinaDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register(t, "k2", 78)
	steel := issuer(t, "steelworks")
	for _, c := range []struct {
		id, end string
		status  int
	}{
		{"e1", "2020-01-01T07:00:00+08:00", http.StatusCreated},
		{"e2", "2019-12-31T23:00:00+08:00", http.StatusBadRequest},
	} {
		r := e.do(t, "POST", "/v1/craftsmen/k2/employments", steel, map[string]any{"employmentId": c.id, "employerOrgId": "steelworks",
			"trade": map[string]any{"code": "6-31-01-03"}, "occurredAt": "2020-01-01"})
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: employment: %d %s", c.id, r.Status, r.Body)
		}
		r = e.do(t, "POST", "/v1/craftsmen/k2/employments/"+c.id+"/end", steel, map[string]any{"occurredAt": c.end})
		if r.Status != c.status {
			t.Errorf("%s started 2020-01-01, ended %s: %d %s, want %d", c.id, c.end, r.Status, r.Body, c.status)
		}
	}
}
