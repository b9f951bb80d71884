package competition_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
)

// A publication remembers only what stays true: a worker found
// unregistered (or a competition not yet defined) is read again next
// time, so registering (defining) it later lets the publication through.
func TestPublishRemembersOnlyWhatStaysTrue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("known", 0)
	if code, _ := e.Do("issuer", "POST", "/v1/competitions/k1/results", publish(pl("known", "employees", 3)), nil); code != 404 {
		t.Fatalf("publish before the definition: %d", code)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("k1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/k1/results", publish(pl("known", "employees", 3), pl("later", "employees", 4)), nil); code != 404 || eb.Field != "placements[1].craftsmanId" {
		t.Fatalf("unregistered worker: %d %+v", code, eb)
	}
	e.register("later", 0)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions/k1/results", publish(pl("known", "employees", 3), pl("later", "employees", 4)), nil); code != 201 {
		t.Fatalf("after registering: %d %+v", code, eb)
	}
	if n := e.Count("craftsman-later", events.TypeCompetitionPlaced); n != 1 {
		t.Fatalf("later has %d placements", n)
	}
}
