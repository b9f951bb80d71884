package servicetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// FuzzHTTPDecoders is the body of every service's FuzzHTTPDecoders: it
// sends arbitrary bodies to each of routes on the handler newHandler builds
// over the embedded store (real gRPC), as an admin. Whatever the body, the
// handler must not panic and must answer success or a client error (4xx)
// with the one JSON error body — a 5xx would mean the decoder or validation
// let through something the service could not handle; a back-fill answer
// must be valid JSON Lines ending with its summary. Each service keeps its
// seed corpus in its own testdata/fuzz/FuzzHTTPDecoders.
func FuzzHTTPDecoders(f *testing.F, routes []servicekit.Route, newHandler func(st eventstore.Store) (http.Handler, error)) {
	f.Helper()
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
	h, err := newHandler(st)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "fuzz", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		path := rt.Pattern
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			path = path[:i] + "fz-1" + path[j+1:]
		}
		req := httptest.NewRequest(rt.Method, path, strings.NewReader(string(body)))
		backfill := strings.HasPrefix(rt.Pattern, "/v1/backfill/")
		if backfill {
			req.Header.Set("Content-Type", "application/x-ndjson")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		ctx, cancel := context.WithTimeout(req.Context(), 20*time.Second)
		defer cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 || res.StatusCode < 200 {
			t.Fatalf("%s %s %q: %d %s", rt.Method, path, body, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			var eb kit.ErrorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code == "" || eb.Error.Code == "INTERNAL" {
				t.Fatalf("%s %s %q: %d with body %s, want the JSON error body", rt.Method, path, body, res.StatusCode, b)
			}
		}
		if backfill && res.StatusCode == http.StatusOK {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if !strings.Contains(lines[len(lines)-1], `"summary"`) {
				t.Fatalf("back-fill answer without a final summary: %s", b)
			}
			for _, l := range lines {
				if !json.Valid([]byte(l)) || strings.Contains(l, `"INTERNAL"`) {
					t.Fatalf("back-fill answer line %q", l)
				}
			}
		}
	})
}
