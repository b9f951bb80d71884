package security_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAllInOneLogsNoSecrets runs the all-in-one with debug logging, writes
// the fixture (national ID numbers, names) and sends good, refused and
// forged requests; no token, token signature, key or national ID number
// may appear in what it logged.
func TestAllInOneLogsNoSecrets(t *testing.T) {
	var logs syncBuffer
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
	secrets := map[string]string{"token key": string(auth.DevKey())}
	for c, tok := range e.Tokens {
		if tok == "" {
			continue
		}
		secrets["token of "+string(c)] = tok
		if sig := tok[strings.LastIndex(tok, ".")+1:]; sig != "" {
			secrets["signature of the token of "+string(c)] = sig
		}
	}
	for i := 100; i < 105; i++ { // the fixture's craftsmen
		if strings.Contains(out, sectest.NationalID(i)) {
			t.Errorf("national ID number %d appears in the all-in-one's logs", i)
		}
	}
	for what, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the %s appears in the all-in-one's logs", what)
		}
	}
}

// TestAllInOneRateLimit sends 40 quick commands with one token to the
// all-in-one. KNOWN GAP: services/craftledger/app mounts every service
// with an empty HTTPOptions (no Limiter) and the GraphQL handler without
// one, and cmd/craftledger has no --rate flag; the test reports it as a
// skip until the all-in-one limits callers, and then checks the answer.
func TestAllInOneRateLimit(t *testing.T) {
	e := sectest.Start(t, sectest.Options{NoFixture: true})
	limited := 0
	var last sectest.Response
	for range 40 {
		r := e.Do(sectest.Admin, "POST", "/api/registry/v1/craftsmen/nobody/trades", "", `{"trade":{"code":"6-31-01-03"}}`)
		if r.Status == 429 {
			limited++
			last = r
		}
	}
	if limited == 0 {
		t.Skip("KNOWN GAP: the all-in-one does not rate-limit callers (app.New passes HTTPOptions{} without a Limiter; no --rate flag)")
	}
	if last.Header.Get("Retry-After") == "" || last.Err().Code != "RESOURCE_EXHAUSTED" {
		t.Errorf("429 answer: %s, want RESOURCE_EXHAUSTED with Retry-After", last)
	}
}
