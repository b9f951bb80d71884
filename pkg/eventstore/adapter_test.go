package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/eventstore/storetest"
	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
)

func startServer(t *testing.T, dir, addr string) *esdbserver.Server {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: dir, Addr: addr, Insecure: true})
	if err != nil {
		t.Fatalf("start embedded server: %v", err)
	}
	return srv
}

// restartServer starts a server again on the address a stopped one used.
// The kernel may hold the port for a moment after the close, so listening
// fails with EADDRINUSE: retry that (only that) until a deadline.
func restartServer(t *testing.T, dir, addr string) *esdbserver.Server {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := esdbserver.Start(esdbserver.Config{DataDir: dir, Addr: addr, Insecure: true})
		if err == nil {
			return srv
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("restart embedded server on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func open(t *testing.T, cfg eventstore.Config) *eventstore.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := eventstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.URL, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

func TestContractEmbedded(t *testing.T) {
	storetest.RunContract(t, func(t *testing.T) eventstore.Store {
		srv := startServer(t, t.TempDir(), "127.0.0.1:0")
		t.Cleanup(func() { _ = srv.Close() })
		return open(t, eventstore.Config{URL: srv.URL(), Logger: testLogger(t)})
	})
}

// TestContractKurrentDB runs the same suite against a real KurrentDB named
// by KURRENTDB_URL (e.g. esdb://127.0.0.1:2113?tls=false).
func TestContractKurrentDB(t *testing.T) {
	url := os.Getenv("KURRENTDB_URL")
	if url == "" {
		t.Skip("KURRENTDB_URL not set")
	}
	storetest.RunContract(t, func(t *testing.T) eventstore.Store {
		return open(t, eventstore.Config{URL: url, Logger: testLogger(t)})
	})
}

func TestOpenRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "http://[::1", "esdb://host:notaport"} {
		if _, err := eventstore.Open(context.Background(), eventstore.Config{URL: u}); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("Open(%q) = %v, want errs.InvalidArgument", u, err)
		}
	}
}

// TestDeletedStreams uses the official client directly to delete and
// tombstone streams (the port has no delete) and checks the adapter's
// classification of what later reads and appends get.
func TestDeletedStreams(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	c := open(t, eventstore.Config{URL: srv.URL()})
	raw := connectRaw(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	data := eventstore.EventData{Type: "Thing.v1", Data: []byte(`{}`)}

	if _, err := c.Append(ctx, "soft-1", eventstore.NoStream(), data); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.DeleteStream(ctx, "soft-1", esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadStream(ctx, "soft-1", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
		t.Errorf("read soft-deleted = %v, want errs.NotFound", err)
	}
	// A soft-deleted stream can be written again, continuing its revisions.
	if res, err := c.Append(ctx, "soft-1", eventstore.Any(), data); err != nil || res.NextRevision != 1 {
		t.Errorf("append after soft delete = %+v, %v; want revision 1", res, err)
	}

	if _, err := c.Append(ctx, "hard-1", eventstore.NoStream(), data); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.TombstoneStream(ctx, "hard-1", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ReadStream(ctx, "hard-1", eventstore.ReadOptions{})
	if !errors.Is(err, errs.NotFound) || !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Errorf("read tombstoned = %v, want errs.NotFound and ErrStreamDeleted", err)
	}
	_, err = c.Append(ctx, "hard-1", eventstore.Any(), data)
	if !errors.Is(err, errs.NotFound) || !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Errorf("append to tombstoned = %v, want errs.NotFound and ErrStreamDeleted", err)
	}
	// None of this tripped the breaker.
	if st := c.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after business errors", st)
	}
}

// TestOversizeAppend: an append over the store's maximum size is the
// caller's error, named in the store's own words (not the official client's
// wrapper text), and does not trip the breaker.
func TestOversizeAppend(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	c := open(t, eventstore.Config{URL: srv.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	big := eventstore.EventData{Type: "Big.v1", Data: []byte(`"` + strings.Repeat("x", 2<<20) + `"`)}
	_, err := c.Append(ctx, "big-1", eventstore.Any(), big)
	want := "append big-1 at any: rejected by the store: Maximum Append Size of 1048576 Exceeded."
	if !errors.Is(err, errs.InvalidArgument) || err.Error() != want {
		t.Errorf("oversize append = %v, want errs.InvalidArgument %q", err, want)
	}
	if st := c.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after an oversize append", st)
	}
}

// TestBreakerOpensAndRecovers stops the store mid-test: calls fail with
// errs.Unavailable, the breaker opens and answers without calling the
// store; after a restart on the same address and data the adapter recovers
// by itself and everything acknowledged before is still there.
func TestBreakerOpensAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	dir := t.TempDir()
	srv := startServer(t, dir, "127.0.0.1:0")
	addr := srv.Addr()
	c := open(t, eventstore.Config{
		URL:     srv.URL(),
		Timeout: 2 * time.Second,
		Breaker: eventstore.BreakerConfig{Name: "test-store", Failures: 3, OpenFor: 300 * time.Millisecond},
		Logger:  testLogger(t),
	})
	ctx := context.Background()
	data := eventstore.EventData{Type: "Thing.v1", Data: []byte(`{}`)}
	if _, err := c.Append(ctx, "breaker-1", eventstore.NoStream(), data); err != nil {
		t.Fatal(err)
	}
	// Business errors never trip it.
	for i := 0; i < 5; i++ {
		if _, err := c.Append(ctx, "breaker-1", eventstore.NoStream(), data); !errors.Is(err, errs.Conflict) {
			t.Fatalf("conflict expected, got %v", err)
		}
		if _, err := c.ReadStream(ctx, "breaker-none", eventstore.ReadOptions{}); !errors.Is(err, errs.NotFound) {
			t.Fatalf("not found expected, got %v", err)
		}
	}
	if st := c.BreakerState(); st != "closed" {
		t.Fatalf("breaker %s after business errors, want closed", st)
	}

	sub, err := c.SubscribeAll(ctx, eventstore.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	recvCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for m, err := sub.Recv(recvCtx); !m.CaughtUp; m, err = sub.Recv(recvCtx) {
		if err != nil {
			t.Fatal(err)
		}
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// The live subscription drops with Unavailable; the caller resubscribes.
	if _, err := sub.Recv(recvCtx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("subscription after the store stopped: %v, want errs.Unavailable", err)
	}
	// Infrastructure failures: Unavailable, then the breaker opens.
	opened := false
	for i := 0; i < 20 && !opened; i++ {
		_, err := c.Append(ctx, "breaker-1", eventstore.Any(), data)
		if !errors.Is(err, errs.Unavailable) && !errors.Is(err, errs.DeadlineExceeded) {
			t.Fatalf("append to a stopped store = %v, want errs.Unavailable", err)
		}
		opened = errors.Is(err, eventstore.ErrBreakerOpen)
	}
	if !opened {
		t.Fatal("breaker never opened")
	}
	_, err = c.ReadStream(ctx, "breaker-1", eventstore.ReadOptions{})
	if !errors.Is(err, errs.Unavailable) || !errors.Is(err, eventstore.ErrBreakerOpen) {
		t.Errorf("read with open breaker = %v", err)
	}
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Errorf("breaker-open error carries no retry hint: %v", err)
	}
	if err := c.Ping(ctx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Ping with store down = %v", err)
	}
	if _, err := c.SubscribeAll(ctx, eventstore.SubscribeOptions{}); !errors.Is(err, eventstore.ErrBreakerOpen) {
		t.Errorf("subscribe with open breaker = %v", err)
	}

	srv2 := restartServer(t, dir, addr)
	t.Cleanup(func() { _ = srv2.Close() })

	// The adapter recovers by itself: retry as a client would until the
	// breaker lets a probe through and it succeeds.
	deadline := time.Now().Add(30 * time.Second)
	var res eventstore.AppendResult
	for {
		res, err = c.Append(ctx, "breaker-1", eventstore.At(0), data)
		if err == nil {
			break
		}
		if !errors.Is(err, errs.Unavailable) && !errors.Is(err, errs.DeadlineExceeded) {
			t.Fatalf("append after restart = %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after restart: %v (breaker %s)", err, c.BreakerState())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.NextRevision != 1 {
		t.Errorf("append after restart at revision %d, want 1 (the first event survived)", res.NextRevision)
	}
	if st := c.BreakerState(); st != "closed" {
		t.Errorf("breaker %s after recovery", st)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping after recovery: %v", err)
	}
}

// silentStore is the address of a loopback listener that accepts
// connections and never answers, like a store that has stopped responding.
func silentStore(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() }) // hold it open, say nothing
		}
	}()
	return ln.Addr().String()
}

// TestSlowStoreDeadline points the adapter at a listener that accepts
// connections and never answers: calls end at their deadline with
// errs.DeadlineExceeded, which counts against the breaker.
func TestSlowStoreDeadline(t *testing.T) {
	c := open(t, eventstore.Config{
		URL:     "esdb://" + silentStore(t) + "?tls=false",
		Timeout: 200 * time.Millisecond,
		Breaker: eventstore.BreakerConfig{Failures: 2, OpenFor: time.Minute},
	})
	data := eventstore.EventData{Type: "Thing.v1", Data: []byte(`{}`)}
	for i := 0; i < 2; i++ {
		_, err := c.Append(context.Background(), "slow-1", eventstore.Any(), data)
		if !errors.Is(err, errs.DeadlineExceeded) {
			t.Fatalf("append to a silent store = %v, want errs.DeadlineExceeded", err)
		}
	}
	_, err := c.ReadStream(context.Background(), "slow-1", eventstore.ReadOptions{})
	if !errors.Is(err, eventstore.ErrBreakerOpen) {
		t.Errorf("after two timeouts: %v, want the breaker open", err)
	}
	// A caller's shorter deadline wins over the configured timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := c.Append(ctx, "slow-1", eventstore.Any(), data); !errors.Is(err, errs.Unavailable) && !errors.Is(err, errs.DeadlineExceeded) {
		t.Errorf("append with an expiring context = %v", err)
	}
}

// TestOutageUnderLoad stops and restarts the store while writers append
// concurrently: every failure is classified Unavailable or
// DeadlineExceeded, the adapter recovers by itself, and every acknowledged
// event is in the store afterwards.
func TestOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server under load")
	}
	dir := t.TempDir()
	srv := startServer(t, dir, "127.0.0.1:0")
	addr := srv.Addr()
	c := open(t, eventstore.Config{
		URL:     srv.URL(),
		Timeout: time.Second,
		Breaker: eventstore.BreakerConfig{Failures: 3, OpenFor: 200 * time.Millisecond},
		Logger:  testLogger(t),
	})
	const writers = 8
	var (
		mu       sync.Mutex
		acked    []string
		failures = map[string]int{}
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			stream := fmt.Sprintf("load-%d", w)
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := uuid.NewString()
				_, err := c.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{ID: id, Type: "Thing.v1", Data: []byte(`{}`)})
				mu.Lock()
				if err == nil {
					acked = append(acked, id)
				} else {
					failures[errs.Code(err)]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a client backing off
				}
			}
		}(w)
	}
	waitAcked := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d appends acknowledged, waiting for %d (breaker %s)", got, n, c.BreakerState())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked(100)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	openBy := time.Now().Add(30 * time.Second)
	for c.BreakerState() != "open" {
		if time.Now().After(openBy) {
			t.Fatalf("breaker still %s 30s after the store stopped", c.BreakerState())
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	srv2 := restartServer(t, dir, addr)
	t.Cleanup(func() { _ = srv2.Close() })
	waitAcked(before + 100)
	close(stop)
	wg.Wait()

	for code := range failures {
		if code != "UNAVAILABLE" && code != "DEADLINE_EXCEEDED" {
			t.Errorf("%d failures classified %s", failures[code], code)
		}
	}
	if failures["UNAVAILABLE"] == 0 {
		t.Error("no failure while the store was down")
	}
	stored := map[string]bool{}
	for w := 0; w < writers; w++ {
		evs, err := c.ReadStream(context.Background(), fmt.Sprintf("load-%d", w), eventstore.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			stored[e.ID] = true
		}
	}
	for _, id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged event %s is missing", id)
		}
	}
	t.Logf("%d acknowledged, failures %v", len(acked), failures)
}

// connectRaw opens the bare official client on url (closed when t ends):
// what the adapter is compared with, or what does what the port cannot.
var connectRaw = esdbtest.Connect
