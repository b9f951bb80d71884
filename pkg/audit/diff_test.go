package audit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
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
