package kit

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
)

// ReadyFunc reports whether the server can do useful work now (the store is
// reachable, a projection has caught up). A nil error means ready.
type ReadyFunc func(ctx context.Context) error

// Healthz answers 200 {"status":"ok"} while the process serves HTTP
// (liveness).
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
}

// Readyz answers 200 {"status":"ready"} when ready returns nil within
// timeout (2 s when <= 0), and otherwise 503 with the error body (code
// UNAVAILABLE unless ready's error has another kind) and Retry-After.
func Readyz(ready ReadyFunc, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				if errs.KindOf(err) != errs.Unavailable {
					err = errs.E(errs.Unavailable, "not ready: %v", err)
				}
				EncodeError(ctx, err, w)
				return
			}
		}
		writeStatus(w, http.StatusOK, "ready")
	})
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

// Operational registers GET /healthz, GET /readyz and GET /metrics on mux.
func Operational(mux *http.ServeMux, m *Metrics, ready ReadyFunc) {
	mux.Handle("GET /healthz", Healthz())
	mux.Handle("GET /readyz", Readyz(ready, 0))
	mux.Handle("GET /metrics", m.Handler())
}
