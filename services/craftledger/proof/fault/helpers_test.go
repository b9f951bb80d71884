package fault_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// binaries built once per test run, by package path.
var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	buildDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fault-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary builds the main package pkg (a module path) once and returns the
// executable's path.
func binary(t *testing.T, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	out := filepath.Join(buildDir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

const (
	storePkg    = "github.com/craftledger/craftledger/pkg/cmd/eventstore"
	trainingPkg = "github.com/craftledger/craftledger/services/training/cmd/training"
	graphqlPkg  = "github.com/craftledger/craftledger/graphql/cmd/graphql"
)

// proc is a child process of the test.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *sectest.SyncBuffer
	done chan struct{}
	err  error
}

// startProc starts bin with args and extra environment; it is SIGKILLed at
// cleanup if still running.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &sectest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(t) })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// term sends SIGTERM and waits (a minute at most) for a clean exit.
func (p *proc) term(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s after SIGTERM: %v\n%s", p.name, p.err, p.out)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not stop after SIGTERM\n%s", p.name, p.out)
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// eventually polls f every 50 ms until it returns true or limit passes
// (then the test fails with what). A liveness bound, not a timing claim.
func eventually(t *testing.T, limit time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startStore runs bin/eventstore on dir and addr and waits until it takes
// connections.
func startStore(t *testing.T, dir, addr string) *proc {
	t.Helper()
	p := startProc(t, "eventstore", binary(t, storePkg), nil, "--data", dir, "--addr", addr, "--insecure")
	eventually(t, 30*time.Second, "event store listening on "+addr, func() bool {
		if p.exited() {
			t.Fatalf("event store exited: %v\n%s", p.err, p.out)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

func storeURL(addr string) string { return "esdb://" + addr + "?tls=false" }

// openStore is a store client of the test's own, for checking content.
func openStore(t *testing.T, url string) *eventstore.Client {
	t.Helper()
	c, err := eventstore.Open(context.Background(), eventstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readStream reads a whole stream, retrying while the store comes back.
func readStream(t *testing.T, st eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	var evs []eventstore.RecordedEvent
	var err error
	eventually(t, 30*time.Second, "read "+stream, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		evs, err = st.ReadStream(ctx, stream, eventstore.ReadOptions{})
		return err == nil
	})
	return evs
}

// client is the load harness's HTTP client for a server at base.
func client(t *testing.T, base, academy string) *load.Client {
	t.Helper()
	c, err := load.NewClient(base, auth.DevKey(), academy, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP.Timeout = 30 * time.Second
	return c
}

// register records n craftsmen "<prefix>-<i>" and returns their ids.
func register(t *testing.T, c *load.Client, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := c.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		a, err := c.Register(ctx, ids[i], i, "reg-"+ids[i])
		if err != nil || !a.OK() {
			t.Fatalf("register %s: %v %d %s", ids[i], err, a.Status, a.Body)
		}
	}
	return ids
}

// completions counts the TrainingCompleted events of a stream by event id.
func completions(evs []eventstore.RecordedEvent) map[string]int {
	ids := map[string]int{}
	for _, e := range evs {
		if strings.HasPrefix(e.Type, "TrainingCompleted.") {
			ids[e.ID]++
		}
	}
	return ids
}

// keyed is one command sent with an idempotency key, and its outcome.
type keyed struct {
	craftsman, key string
	acked          bool
	ans            load.Answer // the 2xx answer when acked
}

// checkExactlyOnce checks, in the store, that every acknowledged command's
// event is at the revision its answer named, that each key's event is
// present exactly once, and that the streams hold no other completion.
func checkExactlyOnce(t *testing.T, st eventstore.Store, cmds []*keyed) {
	t.Helper()
	byCraftsman := map[string][]*keyed{}
	for _, k := range cmds {
		byCraftsman[k.craftsman] = append(byCraftsman[k.craftsman], k)
	}
	for id, ks := range byCraftsman {
		stream := "craftsman-" + id
		evs := readStream(t, st, stream)
		got := completions(evs)
		for _, k := range ks {
			want := command.EventID(stream, k.key, 0)
			if got[want] != 1 {
				t.Errorf("%s key %s: event %s present %d times, want once", stream, k.key, want, got[want])
			}
			if k.acked {
				r := k.ans.Revision
				if int(r) >= len(evs) || evs[r].ID != k.ans.EventIDs[0] || evs[r].Revision != r {
					t.Errorf("%s: acknowledged event %v at revision %d is not there", stream, k.ans.EventIDs, r)
				}
			}
		}
		if len(got) != len(ks) {
			t.Errorf("%s holds %d completions for %d keys", stream, len(got), len(ks))
		}
	}
}

// waitReady polls url+"/readyz" until 200.
func waitReady(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	eventually(t, limit, url+"/readyz", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// checkGraphQLCounts asks GraphQL, once its projection has reached position
// last, for each craftsman's training count and compares it with the number
// of completions in the craftsman's stream in the store.
func checkGraphQLCounts(t *testing.T, c *load.Client, st eventstore.Store, ids []string, last uint64) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		want := len(completions(readStream(t, st, "craftsman-"+id)))
		var got struct {
			Craftsman struct {
				Training struct{ Count int } `json:"training"`
			} `json:"craftsman"`
		}
		eventually(t, 60*time.Second, "GraphQL answer for "+id, func() bool {
			g, err := c.GraphQL(ctx, c.Auditor, load.TrainingQuery, map[string]any{"id": id}, "X-Min-Position", fmt.Sprint(last))
			if err != nil || g.Status != 200 || len(g.Errors) > 0 {
				return false // 504 while the projection catches up
			}
			return json.Unmarshal(g.Data, &got) == nil
		})
		if got.Craftsman.Training.Count != want {
			t.Errorf("GraphQL counts %d completions for %s, the store holds %d", got.Craftsman.Training.Count, id, want)
		}
	}
}
