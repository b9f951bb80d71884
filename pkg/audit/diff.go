package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// GraphQL is a client of the read API: Endpoint is the URL of its
// /graphql route, Token a bearer token that may read the craftsman (an
// auditor's or an admin's).
type GraphQL struct {
	Endpoint string
	Token    string
	Client   *http.Client // nil: a client with a 30 s timeout
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// Query posts a query with variables and decodes its data into out. An
// answer 429 (the API's rate limit) is waited out as its Retry-After says
// (1 s without one, at most maxRateWaits times, while ctx lasts) and the
// query sent again, so that a long diff goes on at the rate the API allows.
func (g GraphQL) Query(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	for waits := 0; ; waits++ {
		wait, err := g.post(ctx, body, out)
		if wait == 0 || waits == maxRateWaits {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// maxRateWaits bounds how many 429 answers one query waits out.
const maxRateWaits = 30

// post sends one query. wait > 0 means the API refused it for its rate
// limit and says to wait that long (err then says so).
func (g GraphQL) post(ctx context.Context, body []byte, out any) (wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.Endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, errs.E(errs.InvalidArgument, "graphql endpoint %q: %v", g.Endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, errs.E(errs.Unavailable, "graphql %s: %v", g.Endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, errs.E(errs.Unavailable, "graphql %s: %v", g.Endpoint, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		wait = time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(min(s, 60)) * time.Second
		}
		return wait, errs.E(errs.ResourceExhausted, "graphql %s: rate limited (HTTP 429): %.200s", g.Endpoint, b)
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(b, &r); err != nil || len(r.Errors) == 0 && len(r.Data) == 0 {
		return 0, errs.E(errs.Unavailable, "graphql %s: HTTP %d, not a GraphQL answer: %.200s", g.Endpoint, resp.StatusCode, b)
	}
	if len(r.Errors) > 0 {
		kind := errs.Internal
		if c, _ := r.Errors[0].Extensions["code"].(string); c != "" {
			switch c {
			case "NOT_FOUND":
				kind = errs.NotFound
			case "UNAUTHENTICATED":
				kind = errs.Unauthenticated
			case "PERMISSION_DENIED":
				kind = errs.PermissionDenied
			case "INVALID_ARGUMENT":
				kind = errs.InvalidArgument
			case "UNAVAILABLE":
				kind = errs.Unavailable
			}
		}
		return 0, errs.E(kind, "graphql: %s", r.Errors[0].Message)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return 0, errs.E(errs.Internal, "graphql answer: %v", err)
	}
	return 0, nil
}

// Difference is one field where the rebuild and the API disagree.
type Difference struct {
	Path  string `json:"path"`
	Local string `json:"local"` // from the raw events
	API   string `json:"api"`   // from GraphQL
}

// DiffReport compares a craftsman's rebuilt career with the API's answer.
type DiffReport struct {
	CraftsmanID string       `json:"craftsmanId"`
	AsOf        time.Time    `json:"asOf"`
	Compared    int          `json:"fieldsCompared"`
	Differences []Difference `json:"differences"`
	Equal       bool         `json:"equal"`
}

// Err is nil when both sides agree.
func (r *DiffReport) Err() error {
	if r.Equal {
		return nil
	}
	d := r.Differences[0]
	return errs.E(errs.FailedPrecondition, "craftsman %s as of %s: %d difference(s), first %s: local %s, api %s",
		r.CraftsmanID, r.AsOf.Format(time.RFC3339), len(r.Differences), d.Path, d.Local, d.API)
}

// View is the comparable part of a career: per trade, the current level,
// years of work, levels reached (their full record) and for each next
// level the eligibility answer route by route. Both sides are reduced to
// it.
type View struct {
	Trades []TradeView `json:"trades"`
}

// TradeView is one trade of a View.
type TradeView struct {
	Code        string     `json:"code"`
	Level       string     `json:"level"`
	YearsOfWork float64    `json:"yearsOfWork"`
	Reached     []string   `json:"reached"` // each level reached: level, since, via, number, route, evidence, supersedes
	Next        []NextView `json:"next"`
}

// NextView is the eligibility for one target level.
type NextView struct {
	Target        string      `json:"target"`
	Held          string      `json:"held"`
	Eligible      bool        `json:"eligible"`
	AlreadyHeld   bool        `json:"alreadyHeld"`
	Policy        string      `json:"policy"`
	PolicyVersion int         `json:"policyVersion"`
	EarliestDate  string      `json:"earliestDate"`
	Routes        []RouteView `json:"routes"`
}

// RouteView is one route of an eligibility answer.
type RouteView struct {
	ID           string   `json:"id"`
	Met          bool     `json:"met"`
	Missing      []string `json:"missing"`
	EarliestDate string   `json:"earliestDate"`
	Criteria     []string `json:"criteria"` // "kind met actual"
}

// ViewOf reduces a rebuilt career to its View.
func ViewOf(c *Career) View {
	v := View{Trades: []TradeView{}}
	for _, p := range c.Pathways {
		t := TradeView{Code: p.Trade, Level: p.Level.String(), YearsOfWork: p.YearsOfWork, Reached: []string{}, Next: []NextView{}}
		for _, l := range p.Reached {
			t.Reached = append(t.Reached, levelJSON(l))
		}
		for _, r := range p.Next {
			t.Next = append(t.Next, nextOf(r))
		}
		v.Trades = append(v.Trades, t)
	}
	return v
}

func levelJSON(l career.LevelHeld) string {
	sup := "-"
	if l.Supersedes != nil {
		sup = refStr(l.Supersedes.Stream, float64(l.Supersedes.Revision), l.Supersedes.EventID)
	}
	return strings.Join([]string{l.Level.String(), l.Since.UTC().Format(time.RFC3339Nano), l.Via, l.CertificateNumber, l.Route,
		refStr(l.Ref.Stream, float64(l.Ref.Revision), l.Ref.EventID), sup}, " ")
}

func refStr(stream string, rev float64, id string) string {
	return stream + "@" + strconv.FormatFloat(rev, 'f', -1, 64) + "/" + id
}

func nextOf(r policy.Result) NextView {
	n := NextView{Target: r.Target.String(), Held: r.Held.String(), Eligible: r.Eligible, AlreadyHeld: r.AlreadyHeld,
		Policy: r.Policy, PolicyVersion: r.PolicyVersion, EarliestDate: timeStr(r.EarliestDate), Routes: []RouteView{}}
	for _, rt := range r.Routes {
		rv := RouteView{ID: rt.ID, Met: rt.Met, Missing: append([]string{}, rt.Missing...), EarliestDate: timeStr(rt.EarliestDate), Criteria: []string{}}
		for _, c := range rt.Criteria {
			rv.Criteria = append(rv.Criteria, c.Kind+" "+strconv.FormatBool(c.Met)+" "+c.Actual)
		}
		n.Routes = append(n.Routes, rv)
	}
	return n
}

func timeStr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

const tradesQuery = `query($id: ID!, $asOf: String) { craftsman(id: $id, asOf: $asOf) { id trades { trade { code } } } }`

const pathwayFields = `trade current { api } yearsOfWork
  reached { level { api } since via certificateNumber route evidence { stream revision eventId } supersedes { stream revision eventId } }
  next { target { api } held { api } eligible alreadyHeld policy policyVersion earliestDate
    routes { id met missing earliestDate criteria { kind met actual } } }`

// APIView asks the GraphQL API for a craftsman's View as of asOf (the
// same instant is sent as RFC 3339, so both sides cut at the same
// nanosecond), under the named policies.
func APIView(ctx context.Context, g GraphQL, id string, asOf time.Time, policies []string, extraTrades []string) (View, error) {
	at := asOf.UTC().Format(time.RFC3339Nano)
	var first struct {
		Craftsman struct {
			Trades []struct {
				Trade struct {
					Code string `json:"code"`
				} `json:"trade"`
			} `json:"trades"`
		} `json:"craftsman"`
	}
	if err := g.Query(ctx, tradesQuery, map[string]any{"id": id, "asOf": at}, &first); err != nil {
		return View{}, fmt.Errorf("craftsman %s trades: %w", id, err)
	}
	codes := append([]string{}, extraTrades...)
	for _, t := range first.Craftsman.Trades {
		codes = append(codes, t.Trade.Code)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	v := View{Trades: []TradeView{}}
	if len(codes) == 0 {
		return v, nil
	}
	var q strings.Builder
	q.WriteString(`query($id: ID!, $asOf: String, $policies: [String!]) { craftsman(id: $id, asOf: $asOf) {`)
	for i, c := range codes {
		fmt.Fprintf(&q, "\n p%d: pathway(trade: %s, policies: $policies) { %s }", i, strconv.Quote(c), pathwayFields)
	}
	q.WriteString("\n} }")
	var second struct {
		Craftsman map[string]apiPathway `json:"craftsman"`
	}
	if err := g.Query(ctx, q.String(), map[string]any{"id": id, "asOf": at, "policies": policies}, &second); err != nil {
		return View{}, fmt.Errorf("craftsman %s pathways: %w", id, err)
	}
	for i := range codes {
		p, ok := second.Craftsman["p"+strconv.Itoa(i)]
		if !ok {
			return View{}, errs.E(errs.Internal, "graphql answer lacks the pathway of %s", codes[i])
		}
		v.Trades = append(v.Trades, p.view())
	}
	return v, nil
}

type apiLevel struct {
	API string `json:"api"`
}

type apiRef struct {
	Stream   string  `json:"stream"`
	Revision float64 `json:"revision"`
	EventID  *string `json:"eventId"`
}

func (r *apiRef) String() string {
	if r == nil {
		return "-"
	}
	id := ""
	if r.EventID != nil {
		id = *r.EventID
	}
	return refStr(r.Stream, r.Revision, id)
}

type apiReached struct {
	Level             apiLevel `json:"level"`
	Since             string   `json:"since"`
	Via               string   `json:"via"`
	CertificateNumber *string  `json:"certificateNumber"`
	Route             *string  `json:"route"`
	Evidence          apiRef   `json:"evidence"`
	Supersedes        *apiRef  `json:"supersedes"`
}

func (r apiReached) String() string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return strings.Join([]string{r.Level.API, apiTime(&r.Since), r.Via, str(r.CertificateNumber), str(r.Route), r.Evidence.String(), r.Supersedes.String()}, " ")
}

type apiPathway struct {
	Trade       string       `json:"trade"`
	Current     apiLevel     `json:"current"`
	YearsOfWork float64      `json:"yearsOfWork"`
	Reached     []apiReached `json:"reached"`
	Next        []struct {
		Target        apiLevel `json:"target"`
		Held          apiLevel `json:"held"`
		Eligible      bool     `json:"eligible"`
		AlreadyHeld   bool     `json:"alreadyHeld"`
		Policy        string   `json:"policy"`
		PolicyVersion int      `json:"policyVersion"`
		EarliestDate  *string  `json:"earliestDate"`
		Routes        []struct {
			ID           string   `json:"id"`
			Met          bool     `json:"met"`
			Missing      []string `json:"missing"`
			EarliestDate *string  `json:"earliestDate"`
			Criteria     []struct {
				Kind   string `json:"kind"`
				Met    bool   `json:"met"`
				Actual string `json:"actual"`
			} `json:"criteria"`
		} `json:"routes"`
	} `json:"next"`
}

func (p apiPathway) view() TradeView {
	t := TradeView{Code: p.Trade, Level: p.Current.API, YearsOfWork: p.YearsOfWork, Reached: []string{}, Next: []NextView{}}
	for _, r := range p.Reached {
		t.Reached = append(t.Reached, r.String())
	}
	for _, n := range p.Next {
		nv := NextView{Target: n.Target.API, Held: n.Held.API, Eligible: n.Eligible, AlreadyHeld: n.AlreadyHeld,
			Policy: n.Policy, PolicyVersion: n.PolicyVersion, EarliestDate: apiTime(n.EarliestDate), Routes: []RouteView{}}
		for _, r := range n.Routes {
			rv := RouteView{ID: r.ID, Met: r.Met, Missing: append([]string{}, r.Missing...), EarliestDate: apiTime(r.EarliestDate), Criteria: []string{}}
			for _, c := range r.Criteria {
				rv.Criteria = append(rv.Criteria, c.Kind+" "+strconv.FormatBool(c.Met)+" "+c.Actual)
			}
			nv.Routes = append(nv.Routes, rv)
		}
		t.Next = append(t.Next, nv)
	}
	return t
}

func apiTime(s *string) string {
	if s == nil || *s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return *s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Diff rebuilds a craftsman's career as of opts.AsOf from the raw events
// (State) and compares it with the GraphQL API's answer for the same
// craftsman, instant and policies. Only the recorded mode is comparable
// (the API's asOf is "recorded by").
func Diff(ctx context.Context, st eventstore.Store, g GraphQL, opts StateOptions) (*DiffReport, error) {
	if opts.Mode != career.AsRecorded {
		return nil, errs.E(errs.InvalidArgument, "diff compares the recorded mode only (the API's asOf is recorded-by)")
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = time.Now().UTC()
	}
	local, err := State(ctx, st, opts)
	if err != nil {
		return nil, err
	}
	names := local.Policies
	lv := ViewOf(local)
	var codes []string
	for _, t := range lv.Trades {
		codes = append(codes, t.Code)
	}
	rep := &DiffReport{CraftsmanID: opts.CraftsmanID, AsOf: local.AsOf, Differences: []Difference{}}
	av, err := APIView(ctx, g, opts.CraftsmanID, local.AsOf, names, codes)
	if errors.Is(err, errs.NotFound) {
		// The API has no record by then: agreement if the rebuild saw no
		// event either, otherwise the whole record differs.
		rep.Compared = 1
		if local.State.Events > 0 {
			rep.Differences = append(rep.Differences, Difference{Path: "craftsman", Local: fmt.Sprintf("%d events applied", local.State.Events), API: "not found"})
		}
		rep.Equal = len(rep.Differences) == 0
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	rep.compare("", lv, av)
	rep.Equal = len(rep.Differences) == 0
	return rep, nil
}

// compare walks two Views field by field (through their JSON form, so
// every field counts) and records each leaf that differs.
func (r *DiffReport) compare(path string, local, api any) {
	var a, b any
	la, _ := json.Marshal(local)
	lb, _ := json.Marshal(api)
	_ = json.Unmarshal(la, &a)
	_ = json.Unmarshal(lb, &b)
	r.walk(path, a, b)
}

func (r *DiffReport) walk(path string, a, b any) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			r.leaf(path, a, b)
			return
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			r.walk(join(path, k), x[k], y[k])
		}
	case []any:
		y, ok := b.([]any)
		if !ok {
			r.leaf(path, a, b)
			return
		}
		n := max(len(x), len(y))
		for i := 0; i < n; i++ {
			var ai, bi any
			if i < len(x) {
				ai = x[i]
			}
			if i < len(y) {
				bi = y[i]
			}
			r.walk(path+"["+strconv.Itoa(i)+"]", ai, bi)
		}
	default:
		r.leaf(path, a, b)
	}
}

func (r *DiffReport) leaf(path string, a, b any) {
	r.Compared++
	as, bs := show(a), show(b)
	if as != bs {
		r.Differences = append(r.Differences, Difference{Path: path, Local: as, API: bs})
	}
}

func show(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
