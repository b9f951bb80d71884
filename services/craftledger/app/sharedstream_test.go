package app_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// TestOneKeyTwoServicesOneStream: the all-in-one runs one instance of
// each service, yet a craftsman's stream has several writers — registry,
// training, competition, honour and mentorship each append to it through
// its own command handler, with its own cache and stream locks. So one
// instance of each service does not make a handler's cached copy exact,
// and the store's idempotent success for fixed ids may still be another
// writer's events: here training's copy of the stream is stale (registry
// wrote since) and a client sends training the Idempotency-Key it sent
// registry for the same craftsman. Both derive the event id from stream
// and key (command.EventID), so the store answers training's append as a
// success on registry's event. Training must read it back: it then finds
// the key used by another organisation and writes its completion under
// that organisation's scoped ids — stored, and chained off the stored
// hash. Without the read-back (a "single instance" shortcut) the answer
// was a 201 naming registry's event, no completion stored, and the next
// completion chained off a hash never stored.
func TestOneKeyTwoServicesOneStream(t *testing.T) {
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run(t, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey), DemoTokens: toks},
		generate.Config{Craftsmen: 5, Seed: 3, Concurrency: 2}, nil, 30*time.Second)
	defer r.shutdown(t)
	tok := map[auth.Role]string{}
	for _, d := range toks {
		tok[d.Claims.Role] = d.Token
	}
	base := r.app.BaseURL()
	training := base + "/api/training/v1/craftsmen/" + auth.DevCraftsmanID + "/completions"
	body := map[string]any{"academyId": auth.DevAcademyID, "courseId": "6-31-01-03-safety", "hours": 8, "passed": true, "score": 91}
	type answer struct {
		EventIDs []string `json:"eventIds"`
		Replayed bool     `json:"replayed"`
	}
	post := func(method, url, role string, body any, key string) answer {
		t.Helper()
		var h []string
		if key != "" {
			h = []string{"Idempotency-Key", key}
		}
		code, b := do(t, method, url, tok[auth.Role(role)], body, h...)
		var a answer
		if code != 201 || json.Unmarshal(b, &a) != nil || len(a.EventIDs) != 1 || a.Replayed {
			t.Fatalf("%s %s as %s, key %q: %d %s; want 201 and one new event", method, url, role, key, code, b)
		}
		return a
	}
	post("POST", training, string(auth.RoleIssuer), body, "") // training caches the stream
	reg := post("PATCH", base+"/api/registry/v1/craftsmen/"+auth.DevCraftsmanID, string(auth.RoleAdmin), map[string]any{"region": "310000"}, "shared-key-1")
	got := post("POST", training, string(auth.RoleIssuer), body, "shared-key-1")
	if got.EventIDs[0] == reg.EventIDs[0] {
		t.Errorf("training answered with registry's event %s", reg.EventIDs[0])
	}
	post("POST", training, string(auth.RoleIssuer), body, "") // chained off what is stored

	stream := events.CraftsmanStream(auth.DevCraftsmanID)
	h, err := command.Load(context.Background(), r.app.Store(), stream)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]events.Raw, len(h.Events))
	ids := make([]string, len(h.Events))
	for i, ev := range h.Events {
		raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created}
		ids[i] = ev.ID
	}
	if !slices.Contains(ids, got.EventIDs[0]) {
		t.Errorf("training's keyed completion %s is not stored", got.EventIDs[0])
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Errorf("hash chain of %s: %v", stream, brk)
	}
}
