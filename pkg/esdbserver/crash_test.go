package esdbserver_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// crashChildEnv makes the test binary act as a bare server process (for the
// crash test): it serves the named data directory and prints its address.
const crashChildEnv = "ESDBSERVER_CRASH_CHILD_DATA"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		srv, err := esdbserver.Start(esdbserver.Config{DataDir: dir, Addr: "127.0.0.1:0", Insecure: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println("ADDR " + srv.Addr())
		select {} // until killed
	}
	os.Exit(m.Run())
}

// startChild runs the server in a child process on dir.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not start: %q %v", line, err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
}

// acked is one acknowledged append: its events' ids at consecutive revisions.
type acked struct {
	stream string
	first  uint64
	ids    []uuid.UUID
}

// TestCrashRecovery: concurrent writers append through the client, the
// server process is killed with SIGKILL mid-flight, and after a restart
// every acknowledged event is at its revision, appends are all-or-nothing,
// and the whole log reads back.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test spawns server processes")
	}
	dir := t.TempDir()
	var all []acked
	const rounds, writers = 3, 8
	next := map[string]uint64{} // per stream, the next revision after what the server acknowledged
	for round := 0; round < rounds; round++ {
		cmd, addr := startChild(t, dir)
		c := connect(t, "esdb://"+addr+"?tls=false")
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		stuck := false // a writer outlived the round (see below): its answer is not counted
		for w := 0; w < writers; w++ {
			stream := fmt.Sprintf("crash-%d", w)
			// The kill may have hit after a write committed but before its ack:
			// continue from what the server actually holds.
			start := uint64(0)
			if got, err := readStream(t, c, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1); err == nil && len(got) == 1 {
				start = got[0].Event.EventNumber + 1
			}
			mu.Lock()
			ackedUpTo := next[stream]
			mu.Unlock()
			if start < ackedUpTo {
				t.Fatalf("round %d: %s holds %d events, %d were acknowledged", round, stream, start, ackedUpTo)
			}
			wg.Add(1)
			go func(w int, stream string, rev uint64) {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					n := 1 + (i+w)%3
					evs := make([]esdb.EventData, n)
					ids := make([]uuid.UUID, n)
					for j := range evs {
						evs[j] = event("Crash", fmt.Sprintf(`{"w":%d,"i":%d,"j":%d}`, w, i, j))
						ids[j] = evs[j].EventID
					}
					exp := esdb.ExpectedRevision(esdb.NoStream{})
					if rev > 0 {
						exp = esdb.Revision(rev - 1)
					}
					if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, evs...); err != nil {
						return // the server died under us
					}
					mu.Lock()
					if stuck {
						mu.Unlock()
						return
					}
					all = append(all, acked{stream, rev, ids})
					next[stream] = rev + uint64(n)
					mu.Unlock()
					rev += uint64(n)
				}
			}(w, stream, start)
		}
		time.Sleep(1200 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		// The official client's reconnection does not watch the call's
		// context (docs/platform.md), and once in ~10 runs a writer stayed
		// inside AppendToStream after the kill until the test's timeout.
		// A writer still there 30 s later holds no acknowledgement of the
		// dead server: it is left behind, and whatever it is answered
		// later is not counted (the next round reads each stream's end
		// from the store, not from its count).
		if !waitGroupFor(&wg, 30*time.Second) {
			mu.Lock()
			stuck = true
			mu.Unlock()
			t.Logf("round %d: a writer is still inside the client 30 s after the kill; not waiting for it", round)
			go c.Close()
			continue
		}
		c.Close()
	}
	cmd, addr := startChild(t, dir)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	c := connect(t, "esdb://"+addr+"?tls=false")
	streams := map[string][]*esdb.ResolvedEvent{}
	for w := 0; w < writers; w++ {
		s := fmt.Sprintf("crash-%d", w)
		evs, err := readStream(t, c, s, esdb.ReadStreamOptions{}, 1<<40)
		if err != nil {
			t.Fatalf("read %s after crashes: %v", s, err)
		}
		for i, e := range evs {
			if e.Event.EventNumber != uint64(i) {
				t.Fatalf("%s: event %d has revision %d", s, i, e.Event.EventNumber)
			}
		}
		streams[s] = evs
	}
	if len(all) < 50 {
		t.Fatalf("only %d appends acknowledged: the test did not exercise anything", len(all))
	}
	for _, a := range all {
		evs := streams[a.stream]
		for j, id := range a.ids {
			rev := a.first + uint64(j)
			if rev >= uint64(len(evs)) || evs[rev].Event.EventID != id {
				t.Fatalf("acknowledged event %s at %s@%d lost", id, a.stream, rev)
			}
		}
	}
	// Appends are atomic: each event's j counts up from 0 within its append.
	for s, evs := range streams {
		for i := 0; i < len(evs); {
			var w, it, j int
			if n, err := fmt.Sscanf(string(evs[i].Event.Data), `{"w":%d,"i":%d,"j":%d}`, &w, &it, &j); n != 3 || err != nil {
				t.Fatalf("%s@%d: data %q is not what the writers wrote (%d of 3 numbers read: %v)", s, i, evs[i].Event.Data, n, err)
			}
			if j != 0 {
				t.Fatalf("%s@%d starts mid-append (j=%d)", s, i, j)
			}
			n := 1 + (it+w)%3
			if i+n > len(evs) {
				t.Fatalf("%s: last append half-written (%d of %d events)", s, len(evs)-i, n)
			}
			i += n
		}
	}
	total := 0
	for _, evs := range streams {
		total += len(evs)
	}
	crashEvents := 0
	var prev uint64
	for _, e := range readAll(t, c, esdb.ReadAllOptions{}, 1<<40) {
		if e.Event.Position.Commit <= prev {
			t.Fatal("$all positions not increasing after recovery")
		}
		prev = e.Event.Position.Commit
		if strings.HasPrefix(e.Event.StreamID, "crash-") {
			crashEvents++
		}
	}
	if crashEvents != total {
		t.Errorf("$all holds %d crash events, streams %d", crashEvents, total)
	}
	t.Logf("%d acknowledged appends over %d kills; %d events recovered", len(all), rounds, total)
}

// waitGroupFor waits for wg at most d; it reports whether wg finished.
func waitGroupFor(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
