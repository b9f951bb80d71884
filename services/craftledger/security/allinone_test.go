package security_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
	"github.com/craftledger/craftledger/services/registry"
)

// TestAllInOneLogsNoSecrets runs the all-in-one with debug logging, writes
// the fixture (national ID numbers, names) and sends good, refused and
// forged requests; no token, token signature, token key, national-ID key,
// national ID number or personal name may appear in what it logged.
func TestAllInOneLogsNoSecrets(t *testing.T) {
	var logs sectest.SyncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := sectest.Start(t, sectest.Options{Logger: logger})
	for _, c := range sectest.Callers() {
		e.Do(c, "POST", "/api/training/v1/craftsmen/"+sectest.Worker+"/completions", "",
			`{"academyId":"`+sectest.AcademyB+`","courseId":"`+sectest.CourseB+`","hours":8,"passed":true}`)
		gqlQuery(e, c, `{ viewer { role } craftsman(id: "`+sectest.Worker+`") { id } }`)
	}
	out := logs.String()
	if !strings.Contains(out, sectest.Worker) {
		t.Fatalf("the debug logs do not mention the worker at all; is anything logged?\n%.2000s", out)
	}
	secrets := map[string]string{
		"token key":       string(auth.DevKey()),
		"national-ID key": registry.DevNationalIDKey,
	}
	for c, tok := range e.Tokens {
		if tok == "" {
			continue
		}
		secrets["token of "+string(c)] = tok
		if sig := tok[strings.LastIndex(tok, ".")+1:]; sig != "" {
			secrets["signature of the token of "+string(c)] = sig
		}
	}
	for i, c := range sectest.FixtureCraftsmen() {
		secrets["national ID number of "+c] = sectest.NationalID(100 + i)
		secrets["name (personal data) of "+c] = sectest.PersonalName(c)
	}
	for what, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the %s appears in the all-in-one's logs", what)
		}
	}
}

// TestAllInOneRateLimit: with a limit of one request per 5 s per caller
// (burst 1), the all-in-one answers a caller's second command, and its
// second GraphQL query, 429 RESOURCE_EXHAUSTED with Retry-After, while
// another caller and the health and metrics routes are unaffected; a
// limited request writes nothing.
func TestAllInOneRateLimit(t *testing.T) {
	e := sectest.Start(t, sectest.Options{NoFixture: true, RateLimit: 0.2, RateBurst: 1})
	cmd := func(c sectest.Caller) sectest.Response {
		return e.Do(c, "POST", "/api/registry/v1/academies", "",
			`{"academyId":"academy-rl-`+string(c)+`","name":"学院","kind":"college","region":"120000"}`)
	}
	if r := cmd(sectest.Admin); r.Status != 201 {
		t.Fatalf("first command: %s", r)
	}
	before := e.End()
	r := cmd(sectest.Admin)
	if r.Status != 429 || r.Err().Code != "RESOURCE_EXHAUSTED" {
		t.Errorf("second command at once: %s, want 429 RESOURCE_EXHAUSTED", r)
	}
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("429 without a usable Retry-After: %q", ra)
	}
	if e.End() != before {
		t.Error("the limited command wrote")
	}
	// The same subject's token is limited on GraphQL too (one bucket per
	// caller); another caller is not.
	if r := e.Do(sectest.Admin, "POST", "/graphql", "", `{"query":"{ viewer { role } }"}`); r.Status != 429 {
		t.Errorf("admin's GraphQL query after its commands: %s, want 429", r)
	}
	if r := e.Do(sectest.Auditor, "POST", "/graphql", "", `{"query":"{ viewer { role } }"}`); r.Status != 200 {
		t.Errorf("auditor's first query: %s, want 200", r)
	}
	if r := e.Do(sectest.Auditor, "POST", "/graphql", "", `{"query":"{ viewer { role } }"}`); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("auditor's second query at once: %s, want 429 with Retry-After", r)
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		for range 3 {
			if r := e.Do(sectest.Admin, "GET", path, "", ""); r.Status != 200 {
				t.Errorf("GET %s: %d, want 200 (not limited)", path, r.Status)
			}
		}
	}
}

// TestNoDemoTokensOutsideDemo: an all-in-one started without demo tokens
// offers none on the web page's sign-in (anyone who loads the page could
// use them), and the pages carry a Content-Security-Policy.
func TestNoDemoTokensOutsideDemo(t *testing.T) {
	e := sectest.Start(t, sectest.Options{NoFixture: true})
	r := e.Do(sectest.Anonymous, "GET", "/demo-tokens.json", "", "")
	if r.Status == 200 && (strings.Contains(string(r.Body), "eyJ") || strings.Contains(string(r.Body), `"token"`)) {
		t.Errorf("demo tokens served without demo mode: %s", r)
	}
	for _, p := range []string{"/", "/explorer"} {
		if r := e.Do(sectest.Anonymous, "GET", p, "", ""); r.Status != 200 || r.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d, Content-Security-Policy %q", p, r.Status, r.Header.Get("Content-Security-Policy"))
		}
	}
}
