package honour_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
)

// TestWithdrawalByChinaDays: "the withdrawal cannot precede the conferral"
// counts days of the ledger's calendar (China's): an honour conferred on
// the date 2024-05-01 may be withdrawn at 07:00 China time that day
// (23:00 UTC the day before); on the China day before it is refused on
// occurredAt. Until the fourteenth session the instants were compared.
func TestWithdrawalByChinaDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"hc1","code":"city_craftsman","occurredAt":"2024-05-01"}`, nil); code != 201 {
		t.Fatalf("confer: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours/hc1/withdraw", `{"reason":"revoked","occurredAt":"2024-04-30T23:00:00+08:00"}`, nil); code != 400 || eb.Field != "occurredAt" {
		t.Errorf("a withdrawal on the China day before the conferral: %d %+v; want 400 on occurredAt", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours/hc1/withdraw", `{"reason":"revoked","occurredAt":"2024-05-01T07:00:00+08:00"}`, nil); code != 201 {
		t.Errorf("a withdrawal at 07:00 China time on the conferral's day: %d %+v; want 201", code, eb)
	}
}
