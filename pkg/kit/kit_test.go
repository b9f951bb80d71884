package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

type Embedded struct {
	Level int `json:"level,omitempty"`
}

type Inner struct {
	Depth int `json:"depth"`
}

type course struct {
	Embedded
	Inner *struct {
		Inner
	} `json:"inner,omitempty"`
	Name  string `json:"name"`
	Hours int    `json:"hours"`
	Mode  struct {
		Kind string `json:"kind"`
	} `json:"mode"`
}

func (c *course) Validate() error {
	if c.Hours <= 0 {
		return kit.Invalid("hours", "must be positive, got %d", c.Hours)
	}
	return nil
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ctype, body string
		max               int64
		want              kit.ErrorDetail // Code "" means success
	}{
		{name: "ok", body: `{"name":"welding","hours":8,"mode":{"kind":"online"}}`},
		{name: "ok json suffix type", ctype: "application/merge-patch+json", body: `{"hours":1}`},
		{name: "unknown field", body: `{"name":"w","hourz":8}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "hourz", Message: `field "hourz": unknown field`}},
		{name: "wrong type", body: `{"hours":"eight"}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "hours", Message: `field "hours": must be a number, got string`}},
		{name: "wrong nested type", body: `{"mode":{"kind":3}}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "mode.kind", Message: `field "mode.kind": must be a string, got number`}},
		{name: "not an object", body: `[1,2]`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "request body must be an object, got array"}},
		{name: "empty", body: ``,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "request body is empty"}},
		{name: "malformed", body: `{"name":}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "malformed JSON at byte 9: invalid character '}' looking for beginning of value"}},
		{name: "truncated", body: `{"name":"w"`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "malformed JSON: unexpected end of body"}},
		{name: "trailing data", body: `{"hours":1}{"hours":2}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "request body must hold a single JSON value"}},
		{name: "too big", body: `{"name":"` + strings.Repeat("x", 100) + `"}`, max: 64,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: "request body exceeds 64 bytes"}},
		{name: "wrong content type", ctype: "text/plain", body: `{"hours":1}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: `content type must be application/json, got "text/plain"`}},
		{name: "key differing in case only", body: `{"name":"w","Hours":8}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "Hours", Message: `field "Hours": unknown field (field names are case-sensitive: "hours")`}},
		{name: "case twin overriding a field", body: `{"name":"w","hours":8,"NAME":"x"}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "NAME", Message: `field "NAME": unknown field (field names are case-sensitive: "name")`}},
		{name: "nested key differing in case", body: `{"hours":8,"mode":{"Kind":"online"}}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "mode.Kind", Message: `field "mode.Kind": unknown field (field names are case-sensitive: "kind")`}},
		{name: "key given twice", body: `{"hours":8,"name":"a","name":"b"}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "name", Message: `field "name": field given twice`}},
		{name: "nested key given twice", body: `{"hours":8,"mode":{"kind":"a","kind":"b"}}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "mode.kind", Message: `field "mode.kind": field given twice`}},
		{name: "wrong type inside an embedded struct", body: `{"hours":1,"inner":{"depth":"deep"}}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "inner.depth", Message: `field "inner.depth": must be a number, got string`}},
		{name: "wrong type of a promoted field", body: `{"hours":1,"level":"x"}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "level", Message: `field "level": must be a number, got string`}},
		{name: "ok charset utf-8", ctype: "application/json; charset=UTF-8", body: `{"hours":1}`},
		{name: "charset gbk", ctype: "application/json; charset=GBK", body: `{"hours":1}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: `charset "GBK" is not accepted: send the body in UTF-8 (charset=utf-8 or none); it is not converted`}},
		{name: "value not utf-8", body: "{\"name\":\"\xb5\xe7\xb9\xa4\",\"hours\":8}",
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "name", Message: `field "name": is not valid UTF-8: send the body in UTF-8 (a GBK or other encoding is not converted)`}},
		{name: "nested value not utf-8", body: "{\"hours\":8,\"mode\":{\"kind\":\"a\xff\"}}",
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "mode.kind", Message: `field "mode.kind": is not valid UTF-8: send the body in UTF-8 (a GBK or other encoding is not converted)`}},
		{name: "not utf-8 outside a string", body: "{\"hours\":8}\xff",
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: `request body is not valid UTF-8: send the body in UTF-8 (a GBK or other encoding is not converted)`}},
		{name: "lone high surrogate escape", body: `{"name":"\ud800","hours":8}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "name", Message: `field "name": ` + surrogateMsg}},
		{name: "nested lone low surrogate escape", body: `{"hours":8,"mode":{"kind":"a\uDC00b"}}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "mode.kind", Message: `field "mode.kind": ` + surrogateMsg}},
		{name: "high surrogate escape before another escape", body: `{"hours":8,"name":"\ud83d\u0041"}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "name", Message: `field "name": ` + surrogateMsg}},
		{name: "high surrogate escape at the end of a value", body: `{"name":"x\uD83D","hours":8}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "name", Message: `field "name": ` + surrogateMsg}},
		{name: "ok surrogate pair escape", body: `{"name":"\ud83d\ude00 \u7535\n\"","hours":8}`},
		{name: "ok escaped backslash before u", body: `{"name":"\\ud800\\","hours":8}`},
		{name: "ok byte order mark", body: "\ufeff{\"hours\":1}"},
		{name: "validation", body: `{"hours":0}`,
			want: kit.ErrorDetail{Code: "INVALID_ARGUMENT", Field: "hours", Message: `field "hours": must be positive, got 0`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := kit.DecodeRequest[course](tc.max)
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			if tc.ctype == "" {
				r.Header.Set("Content-Type", "application/json")
			} else {
				r.Header.Set("Content-Type", tc.ctype)
			}
			got, err := dec(context.Background(), r)
			if tc.want.Code == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if _, ok := got.(course); !ok {
					t.Fatalf("decoded %T, want course", got)
				}
				return
			}
			if !errors.Is(err, errs.InvalidArgument) {
				t.Fatalf("err = %v, want errs.InvalidArgument", err)
			}
			if diff := cmp.Diff(tc.want, kit.Body(err).Error); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
		})
	}
}

const surrogateMsg = `holds an unpaired UTF-16 surrogate escape (\uD800 to \uDFFF without its other half), which would be stored as U+FFFD: send the character itself or both halves of its pair`

type retryable struct{}

func (retryable) Error() string             { return "store breaker open" }
func (retryable) Unwrap() error             { return errs.Unavailable }
func (retryable) RetryAfter() time.Duration { return 2500 * time.Millisecond }

func TestEncodeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
		want       kit.ErrorDetail
	}{
		{"field", fmt.Errorf("record training: %w", kit.Invalid("hours", "must be positive")), 400, "",
			kit.ErrorDetail{Code: "INVALID_ARGUMENT", Message: `record training: field "hours": must be positive`, Field: "hours"}},
		{"not found", errs.E(errs.NotFound, "craftsman c-9"), 404, "", kit.ErrorDetail{Code: "NOT_FOUND", Message: "craftsman c-9"}},
		{"conflict", errs.E(errs.Conflict, "stream moved"), 409, "", kit.ErrorDetail{Code: "CONFLICT", Message: "stream moved"}},
		{"precondition", errs.E(errs.FailedPrecondition, "closed"), 422, "", kit.ErrorDetail{Code: "FAILED_PRECONDITION", Message: "closed"}},
		{"unauthenticated", errs.E(errs.Unauthenticated, "token expired"), 401, "", kit.ErrorDetail{Code: "UNAUTHENTICATED", Message: "token expired"}},
		{"forbidden", errs.E(errs.PermissionDenied, "no"), 403, "", kit.ErrorDetail{Code: "PERMISSION_DENIED", Message: "no"}},
		{"unavailable default hint", errs.E(errs.Unavailable, "store down"), 503, "1", kit.ErrorDetail{Code: "UNAVAILABLE", Message: "store down"}},
		{"unavailable with hint", fmt.Errorf("append: %w", retryable{}), 503, "3", kit.ErrorDetail{Code: "UNAVAILABLE", Message: "append: store breaker open"}},
		{"rate limited", kit.WithRetryAfter(errs.E(errs.ResourceExhausted, "slow down"), 200*time.Millisecond), 429, "1",
			kit.ErrorDetail{Code: "RESOURCE_EXHAUSTED", Message: "slow down"}},
		{"deadline", errs.E(errs.DeadlineExceeded, "too slow"), 504, "", kit.ErrorDetail{Code: "DEADLINE_EXCEEDED", Message: "too slow"}},
		{"internal hides details", errors.New("nil pointer in secret place"), 500, "", kit.ErrorDetail{Code: "INTERNAL", Message: "internal error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			kit.EncodeError(context.Background(), tc.err, rec)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var body kit.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, body.Error); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoKitServer wires a go-kit server the way services do and checks the
// error format, metrics and rate limiting over real HTTP.
func TestGoKitServer(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := kit.NewMetrics("test")
	limiter := kit.NewRateLimiter(0.001, 2) // two requests, then one every ~17 min
	var ep endpoint.Endpoint = func(ctx context.Context, req any) (any, error) {
		c := req.(course)
		if c.Name == "missing" {
			return nil, errs.E(errs.NotFound, "course %s", c.Name)
		}
		return map[string]int{"hours": c.Hours}, nil
	}
	ep = limiter.Endpoint()(ep)
	ep = auth.EndpointMiddleware(auth.DevKey())(ep)
	ep = kit.LoggingMiddleware(logger, "record")(ep)
	ep = m.Endpoint("record")(ep)

	mux := http.NewServeMux()
	mux.Handle("POST /record", httptransport.NewServer(ep, kit.DecodeRequest[course](0), kit.EncodeJSON, kit.ServerOptions(logger)...))
	ready := errs.E(errs.Unavailable, "store not reachable")
	kit.Operational(mux, m, func(context.Context) error { return ready })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tokA, _ := auth.Mint(auth.DevKey(), auth.Claims{Subject: "a", Role: auth.RoleAdmin}, time.Hour)
	tokB, _ := auth.Mint(auth.DevKey(), auth.Claims{Subject: "b", Role: auth.RoleAdmin}, time.Hour)
	post := func(tok, body string) (*http.Response, kit.ErrorBody) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/record", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb kit.ErrorBody
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 400 {
			if err := json.Unmarshal(b, &eb); err != nil {
				t.Fatalf("error body %q: %v", b, err)
			}
		}
		return resp, eb
	}

	if resp, eb := post("", `{"hours":1}`); resp.StatusCode != 401 || eb.Error.Code != "UNAUTHENTICATED" {
		t.Errorf("no token: %d %+v", resp.StatusCode, eb)
	}
	if resp, eb := post(tokA, `{"hours":1,"x":2}`); resp.StatusCode != 400 || eb.Error.Field != "x" {
		t.Errorf("unknown field: %d %+v", resp.StatusCode, eb)
	}
	// Decoding failed before the endpoint, so a's bucket is still full.
	if resp, _ := post(tokA, `{"name":"weld","hours":3}`); resp.StatusCode != 200 {
		t.Errorf("ok: %d", resp.StatusCode)
	}
	if resp, eb := post(tokA, `{"name":"missing","hours":3}`); resp.StatusCode != 404 || eb.Error.Code != "NOT_FOUND" {
		t.Errorf("not found: %d %+v", resp.StatusCode, eb)
	}
	resp, eb := post(tokA, `{"name":"weld","hours":3}`)
	if resp.StatusCode != 429 || eb.Error.Code != "RESOURCE_EXHAUSTED" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("over limit: %d %+v Retry-After=%q", resp.StatusCode, eb, resp.Header.Get("Retry-After"))
	}
	if resp, _ := post(tokB, `{"name":"weld","hours":3}`); resp.StatusCode != 200 {
		t.Errorf("other caller limited too: %d", resp.StatusCode)
	}

	get := func(path string) (int, http.Header, string) {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if code, _, body := get("/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz %d %s", code, body)
	}
	if code, h, body := get("/readyz"); code != 503 || h.Get("Retry-After") == "" || !strings.Contains(body, "UNAVAILABLE") {
		t.Errorf("readyz not ready: %d %s", code, body)
	}
	ready = nil
	if code, _, body := get("/readyz"); code != 200 {
		t.Errorf("readyz ready: %d %s", code, body)
	}
	_, _, metrics := get("/metrics")
	for _, want := range []string{
		`craftledger_requests_total{code="OK",endpoint="record",service="test"} 2`,
		`craftledger_requests_total{code="NOT_FOUND",endpoint="record",service="test"} 1`,
		`craftledger_requests_total{code="RESOURCE_EXHAUSTED",endpoint="record",service="test"} 1`,
		`craftledger_requests_total{code="UNAUTHENTICATED",endpoint="record",service="test"} 1`,
		`craftledger_request_duration_seconds_bucket{code="OK",endpoint="record",service="test",le="+Inf"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRateLimiterRefills(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := kit.NewRateLimiterClock(10, 1, func() time.Time { return now })
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("first refused")
	}
	ok, after := l.Allow("a")
	if ok || after <= 0 || after > 100*time.Millisecond {
		t.Fatalf("second: ok=%v after=%s, want refused with ≤100ms", ok, after)
	}
	now = now.Add(100 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("not refilled after 100ms at 10/s")
	}
}

func TestHTTPMetricsAndLimiter(t *testing.T) {
	t.Parallel()
	m := kit.NewMetrics("gql")
	state := "open"
	m.WatchBreaker("store", func() string { return state })
	l := kit.NewRateLimiter(0.001, 1)
	h := m.HTTP("graphql", l.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for i, want := range []int{200, 429} {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`craftledger_requests_total{code="RESOURCE_EXHAUSTED",endpoint="graphql",service="gql"} 1`,
		`craftledger_breaker_state{breaker="store",service="gql"} 2`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body.String())
		}
	}
}

func TestRunGracefulShutdown(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	srv := kit.NewServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kit.Run(ctx, logger, kit.HTTPActor("api", srv, ln, logger)) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel() // shutdown begins while a request is in flight
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q, want it to finish", body)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil on cancellation", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String()); err == nil {
		t.Error("server still accepting after shutdown")
	}
}
