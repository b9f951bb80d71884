package competition_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
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
	"github.com/craftledger/craftledger/services/competition"
)

// The organisations and callers of the tests.
const (
	orgFed   = "org-federation" // organises the competitions
	orgOther = "org-other"
	orgHR    = "hr-authority" // the HR department that approves
	trade    = "6-31-01-03"
)

var now = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)

type env struct {
	t     testing.TB
	url   string
	store eventstore.Store
	db    *commandtest.Store
	toks  map[string]string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := commandtest.StartStore(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := competition.New(st, func() time.Time { return now }, competition.Options{Approvers: []string{orgHR}})
	if err != nil {
		t.Fatal(err)
	}
	m := kit.NewMetrics("competition")
	svc = competition.LoggingMiddleware(logger)(competition.InstrumentingMiddleware(m)(svc))
	ts := httptest.NewServer(competition.NewHTTPHandler(svc, logger, auth.DevKey(), competition.HTTPOptions{Metrics: m}))
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, store: st, db: st, toks: map[string]string{}}
	for name, c := range map[string]auth.Claims{
		"admin":       {Subject: "u-admin", Role: auth.RoleAdmin},
		"issuer":      {Subject: "u-fed", Role: auth.RoleIssuer, OrgID: orgFed},
		"otherIssuer": {Subject: "u-other", Role: auth.RoleIssuer, OrgID: orgOther},
		"hr":          {Subject: "u-hr", Role: auth.RoleHR, OrgID: orgHR},
		"otherHR":     {Subject: "u-hr2", Role: auth.RoleHR, OrgID: orgOther},
		"worker":      {Subject: "u-w", Role: auth.RoleWorker, CraftsmanID: "w1"},
	} {
		tok, err := auth.Mint(auth.DevKey(), c, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.toks[name] = tok
	}
	return e
}

// do sends a JSON request as caller and decodes the answer into out (when
// not nil); it returns the status and the error body of failures.
func (e *env) do(caller, method, path, body string, out any, headers ...string) (int, kit.ErrorDetail) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if caller != "" {
		req.Header.Set("Authorization", "Bearer "+e.toks[caller])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var eb kit.ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil {
			e.t.Fatalf("%s %s: error body %q: %v", method, path, b, err)
		}
		return resp.StatusCode, eb.Error
	}
	if out != nil {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, kit.ErrorDetail{}
}

// seed appends events to a stream directly (the registry and training
// services' facts that competitions build on).
func (e *env) seed(stream string, at time.Time, ps ...events.Payload) {
	e.t.Helper()
	h := command.New(e.store, command.Options{Clock: func() time.Time { return now }, Seal: competition.Seal})
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
		e.t.Fatal(err)
	}
}

// register registers craftsman id, holding level (when > 0) in the trade.
func (e *env) register(id string, level events.Level) {
	e.t.Helper()
	ps := []events.Payload{events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: strings.Repeat("a", 64),
		Personal: &events.Personal{Name: "工匠 " + id}}}
	if level > 0 {
		ps = append(ps, events.SkillLevelCertified{CraftsmanID: id, Trade: events.Trade{Code: trade}, Level: level,
			CertificateNumber: "C-" + id, Family: events.FamilySkillLevel, EvaluatingOrgID: "eval",
			IssuingOrg: events.Org{ID: "eval", Kind: events.IssuerThirdParty}, Route: events.RouteRegular})
	}
	e.seed(events.CraftsmanStream(id), now.AddDate(-3, 0, 0), ps...)
}

// types lists the event types of a stream (nil when it does not exist).
func (e *env) types(stream string) []string {
	e.t.Helper()
	evs, err := e.store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		return nil
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

func (e *env) count(stream, typ string) int {
	n := 0
	for _, t := range e.types(stream) {
		if t == typ {
			n++
		}
	}
	return n
}

// verifyChain checks the tamper-evidence hash chain of a whole stream.
func (e *env) verifyChain(stream string) {
	e.t.Helper()
	evs, err := e.store.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		e.t.Fatalf("read %s: %v", stream, err)
	}
	raw := make([]events.Raw, len(evs))
	for i, r := range evs {
		raw[i] = events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata, Created: r.Created}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		e.t.Errorf("%s: %v", stream, brk)
	}
}

// backfill posts a JSON Lines file and returns the per-line results and the summary.
func (e *env) backfill(caller, path, contentType, body string) (int, map[int]command.LineResult, command.SummaryLine) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+e.toks[caller])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
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
				e.t.Fatal(err)
			}
			continue
		}
		var lr command.LineResult
		if err := json.Unmarshal(b, &lr); err != nil {
			e.t.Fatal(err)
		}
		lines[lr.Line] = lr
	}
	return resp.StatusCode, lines, sum
}
