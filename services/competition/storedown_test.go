package competition_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// With the store stopped, commands fail fast with 503 and Retry-After and
// write nothing; once it is back, the service recovers by itself.
func TestStoreDown(t *testing.T) {
	e := newEnv(t)
	e.register("w", 0)
	if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne("c1"), nil); code != 201 {
		t.Fatalf("define: %d %+v", code, eb)
	}
	e.DB.Stop(t)
	for range 3 {
		req, _ := http.NewRequest("POST", e.URL+"/v1/competitions/c1/results", strings.NewReader(publish(pl("w", "employees", 2))))
		req.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("store down: %d Retry-After=%q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	e.DB.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, eb := e.Do("issuer", "POST", "/v1/competitions/c1/results", publish(pl("w", "employees", 2)), nil)
		if code == 201 {
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("after restart: %d %+v", code, eb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p, g := e.Count("craftsman-w", events.TypeCompetitionPlaced), e.Count("craftsman-w", events.TypePromotionEntitlementGranted); p != 1 || g != 1 {
		t.Errorf("after recovery: %d placements, %d entitlements", p, g)
	}
}
