package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

var fuzzCodes = map[string]bool{"INVALID_ARGUMENT": true, "UNAUTHENTICATED": true, "PERMISSION_DENIED": true,
	"NOT_FOUND": true, "RESOURCE_EXHAUSTED": true, "DEADLINE_EXCEEDED": true, "UNAVAILABLE": true, "FAILED_PRECONDITION": true}

// FuzzGraphQLEndpoint posts arbitrary documents (and variables) to
// /graphql, anonymously or as an auditor, on a server following the
// embedded store: it must never panic and always answer JSON with a
// client-error status (or 200), every error carrying a stable
// extensions.code other than INTERNAL. Seeds in
// testdata/fuzz/FuzzGraphQLEndpoint: valid, malformed, deeply nested,
// huge and hostile queries. Two known crashers are not seeds because they
// would end `go test` (a fragment cycle: fatal stack overflow in
// graphql-go's validation; 100,000 nested selections: minutes of CPU) —
// see services/craftledger/badinput.TestHostileGraphQLQueries.
func FuzzGraphQLEndpoint(f *testing.F) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: f.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: srv.URL()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	gs, err := server.New(server.Config{Store: st, Key: auth.DevKey(),
		Limits: server.Limits{Timeout: 2 * time.Second, MinPosWait: 100 * time.Millisecond}})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gs.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	// A compiled plan's answer must be graphql-go's, byte for byte.
	var mu sync.Mutex
	var mismatch string
	server.SetPlanCheck(gs, func(query string, planned, reference []byte) {
		if !bytes.Equal(planned, reference) {
			mu.Lock()
			mismatch = fmt.Sprintf("plan %s, graphql-go %s", planned, reference)
			mu.Unlock()
		}
	})
	h := gs.Handler()
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "fuzz", Role: auth.RoleAuditor}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(true, `{ levels { __typename } }`, `{}`)
	f.Add(true, `query($a: Boolean = true) { l: levels { api rank zh ...F } levels { rank } } fragment F on Level { zh api }`, `{}`)
	f.Add(true, `query Q($t: String) { trades(q: $t) { code name } projection { caughtUp eventsApplied } }`, `{"t": 7}`)
	f.Fuzz(func(t *testing.T, signedIn bool, query, variables string) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(validOr(variables))})
		req := httptest.NewRequest("POST", "/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if signedIn {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		mu.Lock()
		m := mismatch
		mismatch = ""
		mu.Unlock()
		if m != "" {
			t.Fatalf("%q: %s", query, m)
		}
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		switch res.StatusCode {
		case 200, 400, 401, 403, 404, 413, 429, 504:
		default:
			t.Fatalf("%q: status %d %s", query, res.StatusCode, b)
		}
		var ans struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(b, &ans); err != nil {
			t.Fatalf("%q: answer is not JSON: %s", query, b)
		}
		if res.StatusCode != 200 && len(ans.Errors) == 0 {
			t.Fatalf("%q: %d without errors: %s", query, res.StatusCode, b)
		}
		for _, e := range ans.Errors {
			code, _ := e.Extensions["code"].(string)
			if !fuzzCodes[code] {
				t.Fatalf("%q: error %q with code %q", query, e.Message, code)
			}
		}
	})
}

func validOr(s string) string {
	if json.Valid([]byte(s)) {
		return s
	}
	return "null"
}
