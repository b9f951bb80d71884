package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// startOn runs the all-in-one on dir against the external store at url
// and loads the demo (count craftsmen) as cmd/craftledger --demo does;
// it answers whether LoadDemo generated it and what it wrote on progress.
func startOn(t *testing.T, dir, url string, count int) (*running, bool, string) {
	t.Helper()
	return startOnWithKeys(t, dir, "", url, count)
}

// startOnWithKeys is startOn with the personal-data keys in keys ("": the
// data directory's own).
func startOnWithKeys(t *testing.T, dir, keys, url string, count int) (*running, bool, string) {
	t.Helper()
	var progress bytes.Buffer
	r, loaded := run(t, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreURL: url, Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey), PersonalKeysDir: keys},
		generate.Config{Craftsmen: count, Seed: 9, Concurrency: 4}, &progress, 60*time.Second)
	return r, loaded, progress.String()
}

// TestRestartOnAReplacedStore keeps the data directory (read-model
// snapshot, demo marker) and replaces the external store it was built on
// by an empty one, as an operator who wiped the store would: the restart
// does not reuse the demo marker, loads the demo into the new store, and
// the projection, rebuilt from the new store's log, serves its data and
// its new writes (it used to serve the old store's population with an
// empty store and never show a new write); so over a store holding
// another, smaller load. With the store down, /readyz answers 503.
func TestRestartOnAReplacedStore(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo twice")
	}
	storeA, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r, loaded, _ := startOn(t, dir, storeA.URL(), 5)
	if !loaded {
		t.Fatal("the first start did not load the demo")
	}
	r.shutdown(t)
	// The same store again: the marker and the snapshot are reused.
	r, loaded, _ = startOn(t, dir, storeA.URL(), 5)
	if loaded {
		t.Error("a restart on the same store loaded the demo again")
	}
	if st := r.app.GraphQL().Projector().Status(); st.Rebuilds != 0 {
		t.Errorf("a restart on the same store rebuilt the projection (%d)", st.Rebuilds)
	}
	r.shutdown(t)
	if err := storeA.Close(); err != nil {
		t.Fatal(err)
	}

	storeB, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer storeB.Close()
	r, loaded, progress := startOn(t, dir, storeB.URL(), 7)
	defer func() { r.shutdown(t) }()
	if !loaded {
		t.Errorf("the demo marker was reused over an empty store (progress: %q)", progress)
	}
	if !strings.Contains(progress, "loading the demo population again") {
		t.Errorf("progress does not say why the demo is loaded again: %q", progress)
	}
	if st := r.app.GraphQL().Projector().Status(); st.Rebuilds != 1 {
		t.Errorf("projection rebuilds %d, want 1", st.Rebuilds)
	}
	base := r.app.BaseURL()
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := map[auth.Role]string{}
	for _, d := range toks {
		tok[d.Claims.Role] = d.Token
	}
	if total := query(t, base, tok[auth.RoleAuditor], `{ populationStats { total } }`).Data.PopulationStats.Total; total != 7 {
		t.Errorf("population %d, want the new store's 7 (the old store had 5)", total)
	}
	// A new write is read back (read-your-writes).
	q := `{ craftsman(id: "` + auth.DevCraftsmanID + `") { training { count } } }`
	before := query(t, base, tok[auth.RoleWorker], q).Data.Craftsman.Training.Count
	code, b := do(t, "POST", base+"/api/training/v1/craftsmen/"+auth.DevCraftsmanID+"/completions", tok[auth.RoleIssuer],
		map[string]any{"academyId": auth.DevAcademyID, "courseId": "6-31-01-03-safety", "hours": 8, "passed": true, "score": 91})
	if code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("completion: %d %s", code, b)
	}
	if after := query(t, base, tok[auth.RoleWorker], q, "X-Min-Position", position(t, b)).Data.Craftsman.Training.Count; after != before+1 {
		t.Errorf("completions before %d, after a new one %d", before, after)
	}

	// A store holding another, smaller load (not empty): the marker of
	// the load into B is not reused either. That load was made with this
	// deployment's personal-data keys (another all-in-one sharing them): a
	// store whose names were sealed under keys this one lacks holds
	// registrations it cannot replay, and the demo load stops there.
	storeC, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer storeC.Close()
	other, _, _ := startOnWithKeys(t, t.TempDir(), r.app.PersonalKeysDir(), storeC.URL(), 3)
	other.shutdown(t)
	r.shutdown(t)
	r, loaded, progress = startOn(t, dir, storeC.URL(), 7)
	if !loaded || !strings.Contains(progress, "loading the demo population again") {
		t.Errorf("over a store with another load: loaded %v, progress %q; want the demo loaded again", loaded, progress)
	}
	if st := r.app.GraphQL().Projector().Status(); st.Rebuilds != 1 {
		t.Errorf("over a store with another load: projection rebuilds %d, want 1", st.Rebuilds)
	}
	base = r.app.BaseURL()
	if total := query(t, base, tok[auth.RoleAuditor], `{ populationStats { total } }`).Data.PopulationStats.Total; total != 7 {
		t.Errorf("population %d over a store with another load, want 7", total)
	}

	if code, b := do(t, "GET", base+"/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("readyz %d %s", code, b)
	}
	if err := storeC.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		code, b := do(t, "GET", base+"/readyz", "", nil)
		if code == http.StatusServiceUnavailable {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz with the store down: %d %s, want 503", code, b)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// position is the "<commit>/<prepare>" of a service's answer's position.
func position(t *testing.T, b []byte) string {
	t.Helper()
	var r struct {
		Position struct{ Commit, Prepare uint64 } `json:"position"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Position.Commit == 0 {
		t.Fatalf("no position in %s (%v)", b, err)
	}
	return fmt.Sprintf("%d/%d", r.Position.Commit, r.Position.Prepare)
}
