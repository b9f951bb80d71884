package fault_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

// TestReadYourWritesTimeoutsLeaveWritesAlone is the behaviour craftledger
// wants (a bug found by loadgen at 1,000 ops/s and fixed in pkg/eventstore,
// see docs/reliability.md): GraphQL queries that give up waiting for a
// position (read-your-writes, 504 after 5 s) must not open the circuit
// breaker the write side uses, when the store itself is merely slow.
//
// Before the fix, in the all-in-one, the projector's WaitFor asked the store
// (nothingBetween) with the request's context; when the request's deadline
// ends during that read the adapter counts the caller's DeadlineExceeded as
// a store failure, and the breaker — one per store client, shared by the
// read and write sides — opens: commands answer 503 although the store
// answers every call. The store here sits behind a loopback proxy adding
// 300 ms each way (commands take ~1.5 s but succeed).
func TestReadYourWritesTimeoutsLeaveWritesAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped in -short")
	}
	_, proxy := storeBehindProxy(t)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(proxy.ln.Addr().String()), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-ryw")
	ids := register(t, c, "ryw", 1)

	proxy.setDelay(300 * time.Millisecond)
	a, err := c.Complete(ctx, ids[0], "ryw-before")
	if err != nil || !a.OK() {
		t.Fatalf("a command with a slow store: %v %d %s", err, a.Status, a.Body)
	}
	// Eight readers ask for a position the log has not reached; each gives
	// up after the read-your-writes wait.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := c.GraphQL(ctx, c.Auditor, load.TimelineQuery, map[string]any{"id": ids[0]}, "X-Min-Position", "999999999")
			if err != nil || g.Status != 504 {
				t.Errorf("waiting for an unreached position: %v %d %+v", err, g.Status, g.Errors)
			}
		}()
	}
	wg.Wait()
	a, err = c.Complete(ctx, ids[0], "ryw-after")
	if err != nil || !a.OK() {
		t.Errorf("a command after read-your-writes timeouts: %v %d %s — the readers' deadlines opened the writers' breaker", err, a.Status, a.Body)
	}
}
