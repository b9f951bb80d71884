package servicetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Env is a service under test: its HTTP handler served on 127.0.0.1 in
// front of the embedded store (real gRPC), and a development token per
// named caller.
type Env struct {
	T     testing.TB
	URL   string
	Store eventstore.Store
	// DB is the embedded store, to Stop and Restart it.
	DB   *commandtest.Store
	Toks map[string]string
	// Now is the services' clock; Seal chains seeded events as the service does.
	Now  time.Time
	Seal command.Seal
}

// Config says how to build the service under test.
type Config struct {
	// Now is the clock the service and the seeded events use.
	Now time.Time
	// Seal is the service's Seal (seeded events join the same hash chain).
	Seal command.Seal
	// Callers are the callers' claims by name; each gets a token.
	Callers map[string]auth.Claims
	// Handler builds the service's HTTP handler over the store (with
	// auth.DevKey as the token key).
	Handler func(st eventstore.Store) (http.Handler, error)
}

// Start starts the embedded store and the service over HTTP; both stop
// when the test ends.
func Start(t testing.TB, cfg Config) *Env {
	t.Helper()
	st := commandtest.StartStore(t)
	h, err := cfg.Handler(st)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	e := &Env{T: t, URL: ts.URL, Store: st, DB: st, Toks: map[string]string{}, Now: cfg.Now, Seal: cfg.Seal}
	for name, c := range cfg.Callers {
		tok, err := auth.Mint(auth.DevKey(), c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.Toks[name] = tok
	}
	return e
}

// Do sends a JSON request as caller ("" = no token) and decodes the answer
// into out (when not nil); it returns the status and the error body of a
// failure. headers are name, value pairs.
func (e *Env) Do(caller, method, path, body string, out any, headers ...string) (int, kit.ErrorDetail) {
	e.T.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if caller != "" {
		req.Header.Set("Authorization", "Bearer "+e.Toks[caller])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	if resp.StatusCode >= 400 {
		var eb kit.ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil {
			e.T.Fatalf("%s %s: error body %q: %v", method, path, b, err)
		}
		return resp.StatusCode, eb.Error
	}
	if out != nil {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			e.T.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, kit.ErrorDetail{}
}

// Seed appends validated events to a stream directly, sealed like the
// service's (the facts of other services a test builds on).
func (e *Env) Seed(stream string, at time.Time, ps ...events.Payload) {
	e.T.Helper()
	h := command.New(e.Store, command.Options{Clock: func() time.Time { return e.Now }, Seal: e.Seal})
	_, err := h.Execute(context.Background(), command.Command{Name: "seed", Stream: stream,
		Meta: command.Meta{Issuer: "seed", Actor: "seed"},
		Decide: func(context.Context, command.History) ([]command.Event, error) {
			var out []command.Event
			for _, p := range ps {
				if err := p.Validate(); err != nil {
					return nil, err
				}
				out = append(out, command.Event{Type: p.EventType(), Data: p, OccurredAt: at})
			}
			return out, nil
		}})
	if err != nil {
		e.T.Fatal(err)
	}
}

// Register registers craftsman id three years before Now, holding level
// (when > 0) in the trade.
func (e *Env) Register(id, trade string, level events.Level) {
	e.T.Helper()
	ps := []events.Payload{events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("a", 64),
		Personal: &events.Personal{Name: "工匠 " + id}}}
	if level > 0 {
		ps = append(ps, events.SkillLevelCertified{CraftsmanID: id, Trade: events.Trade{Code: trade}, Level: level,
			CertificateNumber: "C-" + id, Family: events.FamilySkillLevel, EvaluatingOrgID: "eval",
			IssuingOrg: events.Org{ID: "eval", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	}
	e.Seed(events.CraftsmanStream(id), e.Now.AddDate(-3, 0, 0), ps...)
}

// Types lists the event types of a stream (nil when it does not exist).
func (e *Env) Types(stream string) []string {
	e.T.Helper()
	evs, err := e.Store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		return nil
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// Count is how many events of type typ a stream holds.
func (e *Env) Count(stream, typ string) int {
	n := 0
	for _, t := range e.Types(stream) {
		if t == typ {
			n++
		}
	}
	return n
}

// VerifyChain checks the tamper-evidence hash chain of a whole stream.
func (e *Env) VerifyChain(stream string) {
	e.T.Helper()
	evs, err := e.Store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		e.T.Fatalf("read %s: %v", stream, err)
	}
	raw := make([]events.Raw, len(evs))
	for i, r := range evs {
		raw[i] = events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata, Created: r.Created}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		e.T.Errorf("%s: %v", stream, brk)
	}
}

// BenchBackfill is a back-fill benchmark's timed part: it posts body (b.N
// JSON Lines records) to path as caller, fails the benchmark unless every
// line is recorded, and reports records/s.
func (e *Env) BenchBackfill(b *testing.B, caller, path, body string) {
	b.Helper()
	b.ResetTimer()
	start := time.Now()
	code, lines, sum := e.Backfill(caller, path, "application/x-ndjson", body)
	elapsed := time.Since(start)
	b.StopTimer()
	if code != 200 || sum.Summary.OK != b.N {
		b.Fatalf("%d %+v (line 1: %+v)", code, sum, lines[1])
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}

// Backfill posts a back-fill file and returns the status, the per-line
// results by line number and the summary.
func (e *Env) Backfill(caller, path, contentType, body string) (int, map[int]command.LineResult, command.SummaryLine) {
	e.T.Helper()
	req, err := http.NewRequest("POST", e.URL+path, strings.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+e.Toks[caller])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	lines := map[int]command.LineResult{}
	var sum command.SummaryLine
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, sum
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b := sc.Bytes()
		if bytes.Contains(b, []byte(`"summary"`)) {
			if err := json.Unmarshal(b, &sum); err != nil {
				e.T.Fatal(err)
			}
			continue
		}
		var lr command.LineResult
		if err := json.Unmarshal(b, &lr); err != nil {
			e.T.Fatal(err)
		}
		lines[lr.Line] = lr
	}
	if err := sc.Err(); err != nil {
		e.T.Fatalf("read back-fill answer: %v", err)
	}
	return resp.StatusCode, lines, sum
}
