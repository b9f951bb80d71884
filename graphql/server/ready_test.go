package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
)

// TestReadyzWhileTheStoreIsDown stops the store under a ready server:
// /readyz answers 503 UNAVAILABLE while the store is down (as the
// services' /readyz does: the store does not answer, the subscription
// has dropped), and 200 again once the store is back and the projection
// has resubscribed.
func TestReadyzWhileTheStoreIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the store")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs := startRestartable(ctx, t, 3)
	h := startServer(t, rs.l, "", server.Limits{})
	h.caughtUp()

	// readyz polls /readyz until its status is want; it fails the test
	// when ctx ends first.
	readyz := func(want int) string {
		t.Helper()
		for {
			resp, err := h.http.Client().Get(h.http.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return string(b)
			}
			select {
			case <-ctx.Done():
				t.Fatalf("/readyz stayed %d %s, want %d", resp.StatusCode, b, want)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	readyz(http.StatusOK)

	rs.stop()
	if body := readyz(http.StatusServiceUnavailable); !strings.Contains(body, "UNAVAILABLE") {
		t.Errorf("/readyz with the store down: %s, want UNAVAILABLE", body)
	}

	rs.restart()
	readyz(http.StatusOK)
	h.stop()
}
