package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

const demoCount = 50

type running struct {
	app    *app.App
	stop   context.CancelFunc
	done   chan error
	closed bool // shut down already
}

// start runs the all-in-one in-process on dir, on free loopback ports,
// and loads (or reuses) the demo population.
func start(t *testing.T, dir string) (*running, bool) {
	t.Helper()
	toks, err := auth.DevTokens(auth.DevKey(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey), DemoTokens: toks},
		generate.Config{Craftsmen: demoCount, Seed: 3, Concurrency: 4}, nil, 30*time.Second)
}

// run runs the all-in-one of cfg, loads (or reuses) the demo of demo,
// writing its progress to progress, and waits up to wait for the
// projection; it answers whether LoadDemo generated the demo.
func run(t *testing.T, cfg app.Config, demo generate.Config, progress io.Writer, wait time.Duration) (*running, bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{app: a, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	_, loaded, err := a.LoadDemo(ctx, demo, progress)
	if err != nil {
		r.shutdown(t)
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, wait)
	defer wcancel()
	if err := a.WaitCaughtUp(wctx); err != nil {
		r.shutdown(t)
		t.Fatal(err)
	}
	return r, loaded
}

// shutdown stops the all-in-one and closes it; a second call (a deferred
// one after a failed restart) does nothing.
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	if r.closed {
		return
	}
	r.closed = true
	r.stop()
	if err := <-r.done; err != nil {
		t.Errorf("run: %v", err)
	}
	if err := r.app.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func do(t *testing.T, method, url, token string, body any, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type training struct {
	TotalHours float64 `json:"totalHours"`
	Count      int     `json:"count"`
}

type gql struct {
	Data struct {
		Craftsman struct {
			Name     string   `json:"name"`
			Training training `json:"training"`
			Timeline struct {
				Edges []struct {
					Node struct{ Date, Kind, Title string } `json:"node"`
				} `json:"edges"`
			} `json:"timeline"`
		} `json:"craftsman"`
		PopulationStats struct {
			Total int `json:"total"`
		} `json:"populationStats"`
	} `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func query(t *testing.T, base, token, q string, headers ...string) gql {
	t.Helper()
	code, b := do(t, "POST", base+"/graphql", token, map[string]any{"query": q}, headers...)
	var r gql
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("graphql %d: %s", code, b)
	}
	if code != 200 || len(r.Errors) > 0 {
		t.Fatalf("graphql %d: %s", code, b)
	}
	return r
}

func countEvents(t *testing.T, st eventstore.Store) int {
	t.Helper()
	n := 0
	if err := eventstore.ForEachAll(context.Background(), st, nil, 1000, nil, func(eventstore.RecordedEvent) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestE2EAllInOne starts the all-in-one with a small demo population, then
// over real HTTP records a training completion as the demo academy's
// issuer, reads it back through GraphQL at the returned position
// (read-your-writes), and restarts on the same data directory: the demo is
// reused, nothing is duplicated and the completion is still there.
func TestE2EAllInOne(t *testing.T) {
	dir := t.TempDir()
	r, loaded := start(t, dir)
	if !loaded {
		t.Fatal("first start did not load the demo population")
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

	// The banner names every URL, a verifiable token per role and the example.
	var banner bytes.Buffer
	r.app.Banner(&banner, toks, true)
	for _, want := range []string{base + "/explorer", base + "/graphql", base + "/api/training/v1/", base + "/api/registry/v1/",
		base + "/api/competition/v1/", base + "/api/mentorship/v1/", base + "/api/honour/v1/", r.app.StoreURL(), "curl -s " + base + "/graphql"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	for role, tk := range tok {
		if !strings.Contains(banner.String(), tk) {
			t.Errorf("banner lacks the %s token", role)
		}
	}

	if code, b := do(t, "GET", base+"/readyz", "", nil); code != 200 {
		t.Fatalf("readyz %d %s", code, b)
	}
	if code, _ := do(t, "GET", base+"/api/training/metrics", "", nil); code != 200 {
		t.Errorf("training metrics: %d", code)
	}
	// The web page at /, offering the demo tokens on its sign-in page.
	if code, b := do(t, "GET", base+"/", "", nil); code != 200 || !strings.Contains(strings.ToLower(string(b)), "<html") {
		t.Errorf("web page: %d %.200s", code, b)
	}
	if code, b := do(t, "GET", base+"/demo-tokens.json", "", nil); code != 200 || !strings.Contains(string(b), `"worker"`) {
		t.Errorf("demo tokens of the web page: %d %.300s", code, b)
	}

	// The example query of the banner works for the demo worker.
	q := `{ craftsman(id: "` + auth.DevCraftsmanID + `") { name training { totalHours count } timeline(first: 100) { edges { node { date kind title } } } } }`
	before := query(t, base, tok[auth.RoleWorker], q).Data.Craftsman
	if before.Name == "" || before.Training.Count == 0 {
		t.Fatalf("demo worker has no record: %+v", before)
	}
	query(t, base, tok[auth.RoleWorker], app.ExampleQuery)

	// Record a training completion, as curl would.
	url := base + "/api/training/v1/craftsmen/" + auth.DevCraftsmanID + "/completions"
	body := map[string]any{"academyId": auth.DevAcademyID, "courseId": "6-31-01-03-safety", "hours": 8, "passed": true, "score": 91}
	if code, b := do(t, "POST", url, "", body); code != 401 {
		t.Errorf("anonymous completion: %d %s, want 401", code, b)
	}
	if code, b := do(t, "POST", url, tok[auth.RoleWorker], body); code != 403 {
		t.Errorf("worker recording a completion: %d %s, want 403", code, b)
	}
	code, b := do(t, "POST", url, tok[auth.RoleIssuer], body, "Idempotency-Key", "e2e-completion-1")
	if code != 200 && code != 201 {
		t.Fatalf("completion: %d %s", code, b)
	}
	var res struct {
		Position eventstore.Position `json:"position"`
		EventIDs []string            `json:"eventIds"`
	}
	if err := json.Unmarshal(b, &res); err != nil || len(res.EventIDs) != 1 {
		t.Fatalf("completion answer %s (%v)", b, err)
	}
	// A retry with the same key writes nothing new.
	if code, b2 := do(t, "POST", url, tok[auth.RoleIssuer], body, "Idempotency-Key", "e2e-completion-1"); code >= 300 || !strings.Contains(string(b2), res.EventIDs[0]) {
		t.Errorf("retried completion: %d %s", code, b2)
	}

	// Read your write: GraphQL at least at the returned position.
	pos := fmt.Sprintf("%d/%d", res.Position.Commit, res.Position.Prepare)
	after := query(t, base, tok[auth.RoleWorker], q, "X-Min-Position", pos).Data.Craftsman
	if after.Training.Count != before.Training.Count+1 || after.Training.TotalHours != before.Training.TotalHours+8 {
		t.Errorf("training before %+v, after %+v: want one more completion of 8 hours", before.Training, after.Training)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	found := false
	for _, e := range after.Timeline.Edges {
		if e.Node.Kind == "training" && strings.HasPrefix(e.Node.Date, today) {
			found = true
		}
	}
	if !found {
		t.Errorf("no training entry dated %s on the timeline: %+v", today, after.Timeline.Edges)
	}
	total := query(t, base, tok[auth.RoleAuditor], `{ populationStats { total } }`).Data.PopulationStats.Total
	if total != demoCount {
		t.Errorf("population %d, want %d", total, demoCount)
	}
	events := countEvents(t, r.app.Store())
	r.shutdown(t)

	// Restart on the same data: the demo is reused, nothing duplicated.
	r2, loaded := start(t, dir)
	defer r2.shutdown(t)
	if loaded {
		t.Error("second start loaded the demo again")
	}
	if got := countEvents(t, r2.app.Store()); got != events {
		t.Errorf("restart: %d events in the store, want %d", got, events)
	}
	base = r2.app.BaseURL()
	again := query(t, base, tok[auth.RoleWorker], q).Data.Craftsman
	if again.Training != after.Training {
		t.Errorf("after restart training %+v, want %+v", again.Training, after.Training)
	}
	if total := query(t, base, tok[auth.RoleAuditor], `{ populationStats { total } }`).Data.PopulationStats.Total; total != demoCount {
		t.Errorf("population after restart %d, want %d", total, demoCount)
	}
}

// TestE2EExternalStore runs the all-in-one against a store it does not own
// (--store esdb://…): nothing is embedded, the demo lands in that store,
// and closing the all-in-one leaves the store running.
func TestE2EExternalStore(t *testing.T) {
	ext, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	a, err := app.New(ctx, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreURL: ext.URL(), Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if a.Embedded() || a.StoreURL() != ext.URL() {
		t.Errorf("embedded %v, store %s; want the external %s", a.Embedded(), a.StoreURL(), ext.URL())
	}
	if _, loaded, err := a.LoadDemo(ctx, generate.Config{Craftsmen: 5, Seed: 9}, nil); err != nil || !loaded {
		t.Fatalf("demo: loaded %v, %v", loaded, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "store")); err == nil {
		t.Error("an embedded store was created beside the external one")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	a.Close()
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: ext.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ReadStream(context.Background(), "craftsman-"+auth.DevCraftsmanID, eventstore.ReadOptions{Max: 1}); err != nil {
		t.Errorf("the demo is not in the external store (or it was stopped): %v", err)
	}
}
