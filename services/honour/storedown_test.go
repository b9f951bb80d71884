package honour_test

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
	e.DB.Stop(t)
	for range 3 {
		req, _ := http.NewRequest("POST", e.URL+"/v1/craftsmen/w/honours", strings.NewReader(`{"code":"city_craftsman","occurredAt":"2024-01-01"}`))
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
		code, eb := e.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"code":"city_craftsman","occurredAt":"2024-01-01"}`, nil)
		if code == 201 {
			break
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("after restart: %d %+v", code, eb)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 1 {
		t.Errorf("after recovery: %d honours", n)
	}
}
