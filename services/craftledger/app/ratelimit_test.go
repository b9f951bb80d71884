package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// TestRateLimitPerToken runs the all-in-one with a limit of a burst of 3
// requests (refilled once a minute, so no timing decides the outcome) and
// sends, over real HTTP, a burst beyond it with one token: to GraphQL and
// to a service API alike, the excess gets 429 RESOURCE_EXHAUSTED with a
// Retry-After; a caller with another token is unaffected; health, metrics
// and the web page are never limited.
func TestRateLimitPerToken(t *testing.T) {
	e := sectest.Start(t, sectest.Options{NoFixture: true, RateLimit: 1.0 / 60, RateBurst: 3})
	mint := func(subject string) string {
		tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: subject, Role: auth.RoleAuditor}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alice, alice2, bob := mint("alice"), mint("alice"), mint("bob")
	base := e.Base
	send := func(method, path, token, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	gql := func(token string) *http.Response {
		return send("POST", "/graphql", token, `{"query":"{ viewer { role } }"}`)
	}
	for i := range 3 {
		if r := gql(alice); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d of the burst: %d, want 200", i+1, r.StatusCode)
		}
	}
	// Beyond the burst: GraphQL and a service API share alice's bucket,
	// whichever of her tokens she uses.
	for _, r := range []*http.Response{gql(alice), gql(alice2), send("GET", "/api/registry/v1/craftsmen/nobody", alice, "")} {
		if r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s %s beyond the burst: %d, want 429", r.Request.Method, r.Request.URL.Path, r.StatusCode)
		}
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 {
			t.Errorf("Retry-After %q, want a positive number of seconds", r.Header.Get("Retry-After"))
		}
	}
	req, _ := http.NewRequest("POST", base+"/graphql", strings.NewReader(`{"query":"{ viewer { role } }"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || body.Error.Code != "RESOURCE_EXHAUSTED" {
		t.Errorf("429 body code %q (status %d), want RESOURCE_EXHAUSTED", body.Error.Code, resp.StatusCode)
	}

	// Another caller has its own bucket.
	for i := range 3 {
		if r := gql(bob); r.StatusCode != http.StatusOK {
			t.Errorf("bob's request %d while alice is limited: %d, want 200", i+1, r.StatusCode)
		}
	}
	// Unlimited routes.
	for _, p := range []string{"/healthz", "/metrics", "/api/registry/metrics", "/"} {
		for range 5 {
			if r := send("GET", p, alice, ""); r.StatusCode == http.StatusTooManyRequests {
				t.Errorf("GET %s is rate limited", p)
				break
			}
		}
	}
}
