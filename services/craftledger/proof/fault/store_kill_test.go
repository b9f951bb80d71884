package fault_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

// TestStoreKilledUnderLoad: the real bin/eventstore process is killed with
// SIGKILL while eight clients send training completions through the
// all-in-one's HTTP services (pointed at it with --store), then restarted
// on the same address and data directory. Checked: the services answer 503
// with Retry-After while it is down and their breaker opens (answers naming
// the open breaker); they recover without a restart; every command is then
// retried with its idempotency key until acknowledged; in the store every
// acknowledged event is at the revision its answer named and every key's
// event exists exactly once; the projector resumes and GraphQL's training
// counts equal the store's.
func TestStoreKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the store process")
	}
	dir, addr := t.TempDir(), servicetest.FreeAddr(t)
	store := startStore(t, dir, addr)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(addr), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-kill")
	ids := register(t, c, "kill", 16)

	var (
		mu        sync.Mutex
		cmds      []*keyed
		acks      atomic.Int64
		unavail   atomic.Int64 // 503 with Retry-After
		breaker   atomic.Int64 // 503 naming the open breaker
		other     sync.Map     // other statuses seen
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		statusesM sync.Mutex
		statuses  = map[string]int{}
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := &keyed{craftsman: ids[(g*5+i)%len(ids)], key: fmt.Sprintf("kill-%d-%d", g, i)}
				a, err := c.Complete(ctx, k.craftsman, k.key)
				st := fmt.Sprint(a.Status)
				switch {
				case err != nil:
					st = "transport error"
				case a.OK():
					k.acked, k.ans = true, a
					acks.Add(1)
				case a.Status == 503 && a.RetryAfter != "":
					unavail.Add(1)
					if strings.Contains(a.Error.Message, "breaker") {
						breaker.Add(1)
					}
				default:
					other.Store(st, string(a.Body))
				}
				statusesM.Lock()
				statuses[st]++
				statusesM.Unlock()
				mu.Lock()
				cmds = append(cmds, k)
				mu.Unlock()
				if !k.acked {
					time.Sleep(20 * time.Millisecond) // a client backing off a little
				}
			}
		}()
	}

	eventually(t, 60*time.Second, "100 acknowledged commands before the kill", func() bool { return acks.Load() >= 100 })
	store.kill(t)
	killedAt := acks.Load()
	eventually(t, 60*time.Second, "503 answers naming the open breaker", func() bool { return breaker.Load() >= 3 })
	startStore(t, dir, addr) // stopped by the test's cleanup, like the first
	eventually(t, 90*time.Second, "100 acknowledged commands after the restart (the breaker closed by itself)", func() bool {
		return acks.Load() >= killedAt+100
	})
	close(stop)
	wg.Wait()
	other.Range(func(k, v any) bool { t.Logf("also answered %v: %.200v", k, v); return true })
	t.Logf("answers: %v; %d acknowledged, %d × 503 with Retry-After (%d from the open breaker)", statuses, acks.Load(), unavail.Load(), breaker.Load())
	if unavail.Load() == 0 {
		t.Error("no 503 with Retry-After while the store was down")
	}

	// Commands without an answer may or may not have been written; their
	// client retries them with the same key until one is acknowledged.
	retried, replayed := 0, 0
	for _, k := range cmds {
		if k.acked {
			continue
		}
		retried++
		eventually(t, 30*time.Second, "retry of "+k.key, func() bool {
			a, err := c.Complete(ctx, k.craftsman, k.key)
			if err == nil && a.OK() {
				k.acked, k.ans = true, a
				if a.Replayed {
					replayed++ // written before the kill, its answer lost
				}
			}
			return k.acked
		})
	}
	st := openStore(t, storeURL(addr))
	checkExactlyOnce(t, st, cmds)

	// The projector resumed after its subscription dropped and caught up:
	// GraphQL's counts are the store's.
	var last uint64
	for _, k := range cmds {
		last = max(last, k.ans.Position.Commit)
	}
	status := l.App.GraphQL().Projector().Status()
	t.Logf("%d commands (%d retried after no answer, %d of them found already written); projector: %d drops, %d applied",
		len(cmds), retried, replayed, status.Drops, status.Applied)
	if status.Drops == 0 {
		t.Error("the projector's subscription never dropped: the kill did not reach it")
	}
	checkGraphQLCounts(t, c, st, ids, last)
}
