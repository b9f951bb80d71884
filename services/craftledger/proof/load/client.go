// Package load is craftledger's load harness: an open-loop, mixed workload
// at a target rate through the real HTTP services and GraphQL of an
// all-in-one server (commands for many craftsmen — registrations, training
// completions, certificates — HR population queries, timeline queries and
// audit reads), with per-operation throughput and latency percentiles from
// HDR histograms, a per-second time series and an SVG graph of latency over
// time. bin/loadgen (cmd/loadgen) drives it; the fault tests in
// proof/fault reuse its Client.
//
// Latency is measured from the moment a request was due, not from when it
// was sent, so a stalled server cannot hide its queueing (no coordinated
// omission).
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/services/craftledger/generate"
)

// Trade is the trade code every operation of the harness uses (电工,
// electrician).
const Trade = "6-31-01-03"

// Client speaks to an all-in-one server's HTTP APIs (services under
// /api/<service>/, GraphQL at /graphql) with development tokens.
type Client struct {
	Base    string // "http://127.0.0.1:8080"
	HTTP    *http.Client
	Academy string // the academy the harness writes as
	Course  string

	Admin, Issuer, HR, Auditor string // bearer tokens
}

// NewClient mints tokens under key for an issuer and HR user of academy
// and an auditor and admin, valid for ttl.
func NewClient(base string, key auth.Key, academy string, ttl time.Duration) (*Client, error) {
	c := &Client{Base: strings.TrimRight(base, "/"), Academy: academy, Course: academy + "-elec",
		HTTP: &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}}
	mint := func(role auth.Role, org string) (string, error) {
		return auth.Mint(key, auth.Claims{Subject: "loadgen-" + string(role), Role: role, OrgID: org}, ttl)
	}
	var err error
	if c.Admin, err = mint(auth.RoleAdmin, ""); err != nil {
		return nil, err
	}
	if c.Issuer, err = mint(auth.RoleIssuer, academy); err != nil {
		return nil, err
	}
	if c.HR, err = mint(auth.RoleHR, academy); err != nil {
		return nil, err
	}
	if c.Auditor, err = mint(auth.RoleAuditor, ""); err != nil {
		return nil, err
	}
	return c, nil
}

// Answer is what a command answered (2xx) or refused (error body).
type Answer struct {
	Status     int
	RetryAfter string
	Body       []byte

	command.Result                 // a command's answer (2xx)
	Error          kit.ErrorDetail `json:"error"` // a refusal's error body
}

// OK reports a 2xx answer.
func (a Answer) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Do sends a JSON request (body nil for none) with token and extra header
// pairs and decodes the answer's command fields when it is JSON.
func (c *Client) Do(ctx context.Context, method, path, token string, body any, headers ...string) (Answer, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			enc, err := json.Marshal(body)
			if err != nil {
				return Answer{}, err
			}
			rd = bytes.NewReader(enc)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Answer{}, err
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
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := Answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Body: b}
	if err != nil {
		return a, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 && b[0] == '{' {
		_ = json.Unmarshal(b, &a)
	}
	return a, nil
}

// Setup registers the harness's academy and its course (idempotent: a
// rerun finds them).
func (c *Client) Setup(ctx context.Context) error {
	a, err := c.Do(ctx, "POST", "/api/registry/v1/academies", c.Admin, map[string]any{
		"academyId": c.Academy, "name": "负载测试学院", "kind": "college", "region": "120000"},
		"Idempotency-Key", "setup-"+c.Academy)
	if err != nil {
		return err
	}
	if !a.OK() && a.Status != http.StatusConflict {
		return fmt.Errorf("register academy: %d %s", a.Status, a.Body)
	}
	a, err = c.Do(ctx, "POST", "/api/registry/v1/academies/"+c.Academy+"/courses", c.Admin, map[string]any{
		"courseId": c.Course, "title": "电工安全", "trade": map[string]any{"code": Trade, "name": "电工"},
		"hours": 8, "mode": "classroom"}, "Idempotency-Key", "setup-"+c.Course)
	if err != nil {
		return err
	}
	if !a.OK() && a.Status != http.StatusConflict {
		return fmt.Errorf("add course: %d %s", a.Status, a.Body)
	}
	return nil
}

// NationalID is a valid 18-character resident ID number (GB 11643 check
// character) derived from n, different for every n below 16,000,000 (the
// registry refuses a number already registered to another craftsman): the
// birth date walks the days from 1960-01-01, the sequence number n mod 1000.
func NationalID(n int) string {
	n %= 16_000_000
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/1000)
	return generate.WithCheckChar(fmt.Sprintf("120101%s%03d", birth.Format("20060102"), n%1000))
}

// Register records a new craftsman with idempotency key key.
func (c *Client) Register(ctx context.Context, id string, n int, key string) (Answer, error) {
	return c.Do(ctx, "POST", "/api/registry/v1/craftsmen", c.Issuer, map[string]any{
		"craftsmanId": id, "nationalId": NationalID(n), "region": "120000",
		"personal": map[string]any{"name": fmt.Sprintf("工匠%d", n)}}, "Idempotency-Key", key)
}

// Complete records a passed two-hour completion of the harness's course.
func (c *Client) Complete(ctx context.Context, craftsman, key string) (Answer, error) {
	return c.Do(ctx, "POST", "/api/training/v1/craftsmen/"+craftsman+"/completions", c.Issuer, map[string]any{
		"academyId": c.Academy, "courseId": c.Course, "hours": 2, "passed": true}, "Idempotency-Key", key)
}

// Certify records a regular-route junior certificate numbered number.
func (c *Client) Certify(ctx context.Context, craftsman, number, key string) (Answer, error) {
	return c.Do(ctx, "POST", "/api/training/v1/craftsmen/"+craftsman+"/certificates", c.Issuer, map[string]any{
		"trade": map[string]any{"code": Trade, "name": "电工"}, "level": "junior", "certificateNumber": number,
		"family": "skill_level", "evaluatingOrgId": c.Academy,
		"issuingOrg": map[string]any{"id": c.Academy, "kind": "third_party"}, "route": "regular"},
		"Idempotency-Key", key)
}

// GraphQLAnswer is a GraphQL response.
type GraphQLAnswer struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// GraphQL posts query with variables as token; headers are extra pairs
// (e.g. "X-Min-Position", "1234"). A 200 with errors is returned as an
// answer, not an error; the caller decides.
func (c *Client) GraphQL(ctx context.Context, token, query string, vars map[string]any, headers ...string) (GraphQLAnswer, error) {
	a, err := c.Do(ctx, "POST", "/graphql", token, map[string]any{"query": query, "variables": vars}, headers...)
	if err != nil {
		return GraphQLAnswer{}, err
	}
	g := GraphQLAnswer{Status: a.Status}
	if err := json.Unmarshal(a.Body, &g); err != nil {
		return g, fmt.Errorf("graphql answer %d: %w: %.200s", a.Status, err, a.Body)
	}
	return g, nil
}

// The GraphQL documents of the read operations.
const (
	PopulationQuery = `query($trade: String) { craftsmen(trade: $trade, sort: "level_desc", first: 20) { totalCount edges { node { id region level { api } } } } populationStats(trade: $trade) { total byLevel { key count } } }`
	TimelineQuery   = `query($id: ID!) { craftsman(id: $id) { name timeline(first: 20) { totalCount edges { node { date kind title } } } } }`
	AuditQuery      = `query($s: String!) { audit(stream: $s, first: 50) { edges { node { revision type position recordedAt chain } } } }`
	TrainingQuery   = `query($id: ID!) { craftsman(id: $id) { training { count totalHours } certificates { level { api } } } }`
)
