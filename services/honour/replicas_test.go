package honour_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/services/honour"
)

// replica runs another instance of the service (its own handler and
// cache) on e's store and returns an env whose requests go to it.
func (e *env) replica() *env {
	e.T.Helper()
	h, err := handler(honour.Options{CheckWriters: true, ConferringBodies: testBodies()}, command.Backfill{Workers: 4})(e.Store)
	if err != nil {
		e.T.Fatal(err)
	}
	ts := httptest.NewServer(h)
	e.T.Cleanup(ts.Close)
	r := *e.Env
	r.URL = ts.URL
	return &env{&r}
}

// TestStaleReplicaConfersTheStoredHonour: an honour's event id derives
// from its honourId, so replica B, its copy of the worker's stream stale,
// conferring h1 after replica A did, appends that id at A's revision and
// the store answers with an idempotent success. B must answer from what
// is stored — 409 for another honour under h1, a replay for A's — and
// its next conferral must chain off A's event (pkg/command's read-back of
// fixed-id appends). It answered 201 for an honour never stored, and its
// next event broke the hash chain.
func TestStaleReplicaConfersTheStoredHonour(t *testing.T) {
	a := newEnv(t)
	a.register("w", events.Technician)
	b := a.replica()
	if code, eb := b.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h0","code":"city_model_worker","occurredAt":"2023-04-28"}`, nil); code != 201 {
		t.Fatalf("B confers h0: %d %+v", code, eb) // B caches the stream
	}
	h1 := `{"honourId":"h1","code":"city_model_worker","occurredAt":"2024-04-28"}`
	var first, again command.Result
	if code, eb := a.Do("issuer", "POST", "/v1/craftsmen/w/honours", h1, &first); code != 201 {
		t.Fatalf("A confers h1: %d %+v", code, eb)
	}
	if code, eb := b.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h1","code":"enterprise_craftsman","occurredAt":"2024-04-28"}`, nil); code != http.StatusConflict {
		t.Fatalf("B confers another honour as h1: %d %+v, want 409", code, eb)
	}
	if code, eb := b.Do("issuer", "POST", "/v1/craftsmen/w/honours", h1, &again); code != 200 || !again.Replayed || again.Revision != first.Revision || again.EventIDs[0] != first.EventIDs[0] {
		t.Fatalf("B confers A's h1: %d %+v %+v, want A's %+v replayed", code, eb, again, first)
	}
	if code, eb := b.Do("issuer", "POST", "/v1/craftsmen/w/honours", `{"honourId":"h2","code":"enterprise_craftsman","occurredAt":"2025-04-28"}`, nil); code != 201 {
		t.Fatalf("B confers h2: %d %+v", code, eb)
	}
	if n := a.Count("craftsman-w", events.TypeHonourConferred); n != 3 {
		t.Fatalf("%d conferrals stored, want 3", n)
	}
	a.VerifyChain("craftsman-w")
}
