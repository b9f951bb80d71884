package registry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/services/registry"
)

// FuzzHTTPDecoders sends arbitrary bodies to every route of the registry
// service's HTTP handler, wired to the embedded store over real gRPC, as an
// admin: whatever the body, the handler must not panic and must answer
// either success or a client error (4xx) with the one JSON error body — a
// 5xx would mean the decoder or validation let something through that the
// service could not handle. The seed corpus is in
// testdata/fuzz/FuzzHTTPDecoders (valid and broken bodies per route);
// `go test -fuzz FuzzHTTPDecoders` explores further.
func FuzzHTTPDecoders(f *testing.F) {
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
	svc, err := registry.New(st, time.Now, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		f.Fatal(err)
	}
	h := registry.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{})
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "fuzz", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	routes := registry.Routes()
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
