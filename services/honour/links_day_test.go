package honour_test

import (
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// TestFormerEmployerLastDay: a former employer may confer an enterprise
// honour dated on the employment's last China day, later that day than the
// end's instant (the link is decided in the ledger's days).
func TestFormerEmployerLastDay(t *testing.T) {
	e := newEnv(t)
	e.register("left", events.Technician)
	e.Seed("craftsman-left", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), events.EmploymentStarted{CraftsmanID: "left", EmploymentID: "e1", EmployerOrgID: orgEmployer, Trade: events.Trade{Code: trade}})
	e.Seed("craftsman-left", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), events.EmploymentEnded{CraftsmanID: "left", EmploymentID: "e1"})
	body := func(id, at string) string {
		return `{"honourId":"` + id + `","code":"shop_star","level":"enterprise","conferringBody":"works council","occurredAt":"` + at + `"}`
	}
	if code, eb := e.Do("employer", "POST", "/v1/craftsmen/left/honours", body("a", "2024-03-05"), nil); code != 201 {
		t.Fatalf("on the end's instant: %d %+v", code, eb)
	}
	if code, eb := e.Do("employer", "POST", "/v1/craftsmen/left/honours", body("b", "2024-03-05T12:00:00+08:00"), nil); code != 201 {
		t.Errorf("noon China time on the end's date: %d %+v; want 201", code, eb)
	}
}
