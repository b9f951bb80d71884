package fault_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

type projection struct {
	Position      string  `json:"position"`
	CaughtUp      bool    `json:"caughtUp"`
	EventsApplied float64 `json:"eventsApplied"`
}

func (p projection) commit() uint64 {
	c, _, _ := strings.Cut(p.Position, "/")
	n, _ := strconv.ParseUint(c, 10, 64)
	return n
}

// projectionOf asks a GraphQL server where its projection is (zero when it
// does not answer yet).
func projectionOf(c *load.Client) projection {
	var out struct{ Projection projection }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g, err := c.GraphQL(ctx, "", `{ projection { position caughtUp eventsApplied } }`, nil)
	if err == nil && g.Status == 200 {
		_ = json.Unmarshal(g.Data, &out)
	}
	return out.Projection
}

// TestProjectorKilledAndResumed: a bin/graphql process follows the store
// while clients keep recording training completions through the services.
// It is stopped with SIGTERM (writing a read-model snapshot mid-stream),
// restarted from that snapshot and killed with SIGKILL, restarted again
// after a backlog of 2,000 completions has built up and killed with SIGKILL
// in the middle of catching up (at once after it reported a position past
// its snapshot's and before the last acknowledged one; started again, up to
// five times, until the kill lands there, else the test fails), and
// restarted a last time. Every write must succeed: the services and the
// store are never touched. Once it has reached the last
// acknowledged position, every craftsman's training count in GraphQL equals
// the number of completions in the store: nothing counted twice after any
// of the resumes, nothing missed.
func TestProjectorKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("kills GraphQL processes")
	}
	addr := servicetest.FreeAddr(t)
	startStore(t, t.TempDir(), addr)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(addr), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-proj")
	ids := register(t, c, "proj", 24)

	// Writers: completions for the 24 craftsmen until told to stop.
	var (
		mu    sync.Mutex
		last  uint64
		acked int
		nfail int
		fails []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
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
				a, err := c.Complete(ctx, ids[(g*7+i)%len(ids)], fmt.Sprintf("proj-%d-%d", g, i))
				mu.Lock()
				if err == nil && a.OK() {
					acked++
					last = max(last, a.Position.Commit)
				} else if nfail++; len(fails) < 5 {
					fails = append(fails, fmt.Sprintf("%v %d %.200s", err, a.Status, a.Body))
				}
				mu.Unlock()
			}
		}()
	}
	ackedNow := func() int { mu.Lock(); defer mu.Unlock(); return acked }
	lastNow := func() uint64 { mu.Lock(); defer mu.Unlock(); return last }

	gqlAddr, dataDir := servicetest.FreeAddr(t), t.TempDir()
	bin := binary(t, graphqlPkg)
	env := []string{"CRAFTLEDGER_STORE=" + storeURL(addr), "CRAFTLEDGER_GRAPHQL_ADDR=" + gqlAddr,
		auth.DevKeyEnv + "=" + string(auth.DevKey()), "CRAFTLEDGER_GRAPHQL_DATA=" + dataDir}
	gc := client(t, "http://"+gqlAddr, c.Academy)
	start := func() *proc {
		p := startProc(t, "graphql", bin, env)
		eventually(t, 60*time.Second, "graphql answering", func() bool {
			if p.exited() {
				t.Fatalf("graphql exited: %v\n%s", p.err, p.out)
			}
			return projectionOf(gc).Position != ""
		})
		return p
	}
	passes := func(p *proc, target uint64) {
		eventually(t, 60*time.Second, fmt.Sprintf("projection past %d", target), func() bool {
			if p.exited() {
				t.Fatalf("graphql exited: %v\n%s", p.err, p.out)
			}
			return projectionOf(gc).commit() > target
		})
	}

	// 1. Follow live, then SIGTERM: a snapshot is written mid-stream.
	eventually(t, 60*time.Second, "200 completions", func() bool { return ackedNow() >= 200 })
	g1 := start()
	passes(g1, lastNow())
	g1.term(t)
	snap := filepath.Join(dataDir, "readmodel.snap")
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("no snapshot after SIGTERM: %v\n%s", err, g1.out)
	}

	// 2. Resume from the snapshot, follow live, SIGKILL.
	g2 := start()
	passes(g2, lastNow())
	g2.kill(t)

	// 3. Let a backlog build up with no projector, resume, and SIGKILL it
	// while it is catching up: at once after it reports a position past
	// the snapshot's (it applied something) but before the head (the last
	// acknowledged position when it started). A process that had caught
	// up by its first answer is killed too and another started; as the
	// SIGKILLed ones write no snapshot (SnapshotEvery's default), each
	// starts from the same snapshot with a longer backlog.
	mark := ackedNow()
	eventually(t, 60*time.Second, "a backlog of 2000 completions", func() bool { return ackedNow() >= mark+2000 })
	midway := false
	for try := 1; try <= 5 && !midway; try++ {
		head := lastNow()
		g3 := startProc(t, "graphql", bin, env)
		var at projection
		for deadline := time.Now().Add(60 * time.Second); ; { // poll without pausing: catch-up is quick
			if g3.exited() {
				t.Fatalf("graphql exited: %v\n%s", g3.err, g3.out)
			}
			if time.Now().After(deadline) {
				t.Fatalf("graphql 3 applied nothing\n%s", g3.out)
			}
			if at = projectionOf(gc); at.EventsApplied > 0 {
				midway = at.commit() < head
				break
			}
		}
		g3.kill(t)
		t.Logf("third projector, try %d: killed at %s with the head at %d: %s", try, at.Position, head,
			map[bool]string{true: "while catching up", false: "it had caught up already"}[midway])
	}
	if !midway {
		t.Error("five starts of the third projector all caught up before their first answer: no kill landed mid-catch-up")
	}

	// 4. Last resume; stop the writers; compare with the store.
	g4 := start()
	close(stop)
	wg.Wait()
	if nfail > 0 {
		t.Errorf("%d writes failed (the services and the store were never touched), the first: %v", nfail, fails)
	}
	passes(g4, lastNow()-1)
	p := projectionOf(gc)
	t.Logf("%d completions acknowledged; last projector applied %.0f events since its start, at %s", ackedNow(), p.EventsApplied, p.Position)
	checkGraphQLCounts(t, gc, openStore(t, storeURL(addr)), ids, lastNow())
	g4.term(t)
}
