package app_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// TestE2EForgetCraftsman: the all-in-one seals names under a keyring in the
// data directory by default, so PIPL's erasure works as `make run` ships.
// Over real HTTP a craftsman is registered (their name shown by GraphQL,
// personalData "sealed"), forgotten through the registry's forget route,
// and from then on GraphQL — the craftsman, the HR list — shows them
// erased with no name, also after a restart from the projection's
// snapshot and after a rebuild of the projection from the log. A demo
// craftsman's name is sealed too and is forgotten the same way; the other
// demo names stay shown.
func TestE2EForgetCraftsman(t *testing.T) {
	dir := t.TempDir()
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, credKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := run(t, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey), DemoTokens: toks, CredentialKey: credKey},
		generate.Config{Craftsmen: demoCount, Seed: 3, Concurrency: 4}, nil, 30*time.Second)
	base := r.app.BaseURL()
	if want := filepath.Join(dir, "keys"); r.app.PersonalKeysDir() != want {
		t.Errorf("keys in %s, want %s", r.app.PersonalKeysDir(), want)
	}
	tok := map[auth.Role]string{}
	for _, d := range toks {
		tok[d.Claims.Role] = d.Token
	}
	const name = "欧阳娜娜"
	write := func(path string, body any, key string) string {
		t.Helper()
		code, b := do(t, "POST", base+path, tok[auth.RoleAdmin], body, "Idempotency-Key", key)
		if code != 200 && code != 201 {
			t.Fatalf("POST %s: %d %s", path, code, b)
		}
		var res struct {
			Position eventstore.Position `json:"position"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("POST %s: %s (%v)", path, b, err)
		}
		return fmt.Sprintf("%d/%d", res.Position.Commit, res.Position.Prepare)
	}
	type person struct {
		Name         *string `json:"name"`
		PersonalData string  `json:"personalData"`
		Erased       bool    `json:"erased"`
	}
	one := func(base, id string, headers ...string) person {
		t.Helper()
		code, b := do(t, "POST", base+"/graphql", tok[auth.RoleAuditor],
			map[string]any{"query": `{ craftsman(id: "` + id + `") { name personalData erased } }`}, headers...)
		var res struct {
			Data struct{ Craftsman person }
		}
		if err := json.Unmarshal(b, &res); code != 200 || err != nil || strings.Contains(string(b), `"errors"`) {
			t.Fatalf("craftsman %s: %d %s", id, code, b)
		}
		return res.Data.Craftsman
	}
	list := func(base string) map[string]person {
		t.Helper()
		code, b := do(t, "POST", base+"/graphql", tok[auth.RoleAuditor],
			map[string]any{"query": `{ craftsmen(first: 100) { edges { node { id name personalData erased } } } }`})
		var res struct {
			Data struct {
				Craftsmen struct {
					Edges []struct {
						Node struct {
							ID string
							person
						}
					}
				}
			}
		}
		if err := json.Unmarshal(b, &res); code != 200 || err != nil || strings.Contains(string(b), `"errors"`) {
			t.Fatalf("craftsmen: %d %s", code, b)
		}
		out := map[string]person{}
		for _, e := range res.Data.Craftsmen.Edges {
			out[e.Node.ID] = e.Node.person
		}
		return out
	}

	// The demo's names are sealed, and shown.
	demo := one(base, auth.DevCraftsmanID)
	if demo.Name == nil || *demo.Name == "" || demo.PersonalData != "sealed" || demo.Erased {
		t.Fatalf("demo worker %+v: want a sealed name, shown", demo)
	}
	demoName := *demo.Name

	pos := write("/api/registry/v1/craftsmen", map[string]any{"craftsmanId": "forget-1",
		"nationalId": generate.WithCheckChar("12010119900307123"), "region": "120000",
		"personal": map[string]any{"name": name, "phone": "13900000000"}}, "forget-register-1")
	if got := one(base, "forget-1", "X-Min-Position", pos); got.Name == nil || *got.Name != name || got.PersonalData != "sealed" || got.Erased {
		t.Fatalf("registered: %+v, want the name %s shown from its seal", got, name)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "keys", "*.key"))
	if len(keys) != demoCount+1 {
		t.Errorf("%d keys in the keyring, want one per craftsman (%d)", len(keys), demoCount+1)
	}

	// The worker's signed record (GET /credentials/{id}) names them: the
	// all-in-one opens the sealed name with its keyring.
	credName := func(id string) string {
		t.Helper()
		code, b := do(t, "GET", base+"/credentials/"+id, tok[auth.RoleAdmin], nil)
		if code != 200 {
			t.Fatalf("GET /credentials/%s: %d %s", id, code, b)
		}
		c, err := credential.Verify(b, credKey.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatalf("credential of %s: %v", id, err)
		}
		return c.CredentialSubject.Name
	}
	if got := credName("forget-1"); got != name {
		t.Errorf("credential of forget-1 names %q, want %s", got, name)
	}

	write("/api/registry/v1/craftsmen/"+auth.DevCraftsmanID+"/forget", map[string]any{"reason": "PIPL request 7"}, "forget-demo")
	pos = write("/api/registry/v1/craftsmen/forget-1/forget", map[string]any{"reason": "PIPL request 8"}, "forget-1")
	check := func(when, base string, headers ...string) {
		t.Helper()
		for _, id := range []string{"forget-1", auth.DevCraftsmanID} {
			if got := one(base, id, headers...); got.Name != nil || got.PersonalData != "erased" || !got.Erased {
				t.Errorf("%s: %s = %+v, want erased without a name", when, id, got)
			}
		}
		members := list(base)
		shown := 0
		for id, m := range members {
			switch {
			case id == "forget-1" || id == auth.DevCraftsmanID:
				if m.Name != nil || !m.Erased || m.PersonalData != "erased" {
					t.Errorf("%s: HR list member %s = %+v, want erased", when, id, m)
				}
			case m.Name != nil && (*m.Name == name || *m.Name == demoName):
				t.Errorf("%s: HR list member %s is named %s", when, id, *m.Name)
			case m.Name != nil && m.PersonalData == "sealed":
				shown++
			}
		}
		if len(members) != demoCount+1 || shown != demoCount-1 {
			t.Errorf("%s: %d members, %d names shown; want %d and %d", when, len(members), shown, demoCount+1, demoCount-1)
		}
	}
	check("after forget", base, "X-Min-Position", pos)
	if got := credName("forget-1"); got != "" {
		t.Errorf("credential of forget-1 after forget names %q, want no one", got)
	}
	r.shutdown(t)

	// A restart from the projection's snapshot, then one rebuilding it
	// from the log: the names stay erased, the others shown.
	r2, _ := start(t, dir)
	check("after a restart", r2.app.BaseURL())
	r2.shutdown(t)
	if err := os.RemoveAll(filepath.Join(dir, "graphql")); err != nil {
		t.Fatal(err)
	}
	r3, _ := start(t, dir)
	defer r3.shutdown(t)
	check("after a rebuild", r3.app.BaseURL())
}
