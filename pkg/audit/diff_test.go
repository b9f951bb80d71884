package audit_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/errs"
)

// Diff reports where an API answer departs from the rebuild. The real
// GraphQL server agrees (see ledgerctl's end-to-end test); here a server
// that answers a stale level shows the report names the field.
func TestDiffReportsWhereTheAPIDiffers(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	var auth string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if _, err := time.Parse(time.RFC3339Nano, req.Variables["asOf"].(string)); err != nil {
			t.Errorf("asOf sent as %v", req.Variables["asOf"])
		}
		if !strings.Contains(req.Query, "pathway") {
			_, _ = w.Write([]byte(`{"data":{"craftsman":{"id":"c-0001","trades":[{"trade":{"code":"6-31-01-03"}}]}}}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"craftsman":{"p0":{"trade":"6-31-01-03","current":{"api":"intermediate"},"yearsOfWork":1,"reached":[],"next":[]}}}}`))
	}))
	defer api.Close()
	rep, err := audit.Diff(ctx(t), st, audit.GraphQL{Endpoint: api.URL, Token: "tok"}, audit.StateOptions{CraftsmanID: "c-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer tok" {
		t.Errorf("authorization header %q", auth)
	}
	if rep.Equal || rep.Err() == nil {
		t.Fatal("a different answer is reported equal")
	}
	found := false
	for _, d := range rep.Differences {
		if d.Path == "trades[0].level" && d.Local == `"senior"` && d.API == `"intermediate"` {
			found = true
		}
	}
	if !found {
		t.Errorf("no difference at trades[0].level: %+v", rep.Differences)
	}
	if _, err := audit.Diff(ctx(t), st, audit.GraphQL{Endpoint: api.URL}, audit.StateOptions{CraftsmanID: "c-0001", Mode: career.AsOccurred}); err == nil {
		t.Error("diff in occurred mode: no error")
	}
}

// An API that has no record of a craftsman the ledger knows is a
// difference; one the ledger has nothing on by then either is agreement.
func TestDiffMissingRecord(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"errors":[{"message":"craftsman c-0001","extensions":{"code":"NOT_FOUND"}}],"data":null}`))
	}))
	defer api.Close()
	g := audit.GraphQL{Endpoint: api.URL}
	rep, err := audit.Diff(ctx(t), st, g, audit.StateOptions{CraftsmanID: "c-0001"})
	if err != nil || rep.Equal || len(rep.Differences) != 1 || rep.Differences[0].API != "not found" {
		t.Errorf("record missing from the API: %+v, %v", rep, err)
	}
	rep, err = audit.Diff(ctx(t), st, g, audit.StateOptions{CraftsmanID: "c-0001", AsOf: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || !rep.Equal {
		t.Errorf("nothing recorded by 2001 on either side: %+v, %v", rep, err)
	}
}

// A 429 (the API's rate limit) is waited out as Retry-After says and the
// query sent again; an answer that is not GraphQL is an error naming the
// HTTP status, not a decoding error.
func TestQueryWaitsOutTheRateLimit(t *testing.T) {
	var calls atomic.Int32
	var gap time.Duration
	var first time.Time
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"code":"RESOURCE_EXHAUSTED","message":"rate limit"}}`))
		default:
			gap = time.Since(first)
			_, _ = w.Write([]byte(`{"data":{"n":7}}`))
		}
	}))
	defer api.Close()
	var out struct{ N int }
	if err := (audit.GraphQL{Endpoint: api.URL}).Query(ctx(t), "{ n }", nil, &out); err != nil || out.N != 7 {
		t.Fatalf("after a 429: %+v, %v", out, err)
	}
	if calls.Load() != 2 || gap < time.Second {
		t.Errorf("%d calls, the second %v after the 429; want 2, at least 1 s apart", calls.Load(), gap)
	}

	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"error":"upstream"}`))
	}))
	defer broken.Close()
	err := (audit.GraphQL{Endpoint: broken.URL}).Query(ctx(t), "{ n }", nil, &out)
	if !errors.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("a non-GraphQL answer: %v; want Unavailable naming HTTP 502", err)
	}
}
