package fault_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// latencyProxy forwards TCP connections on loopback to upstream, holding
// every chunk of bytes, in both directions, for the current delay before
// passing it on (in order).
type latencyProxy struct {
	ln       net.Listener
	upstream string
	delay    atomic.Int64 // nanoseconds
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startProxy(t *testing.T, upstream string) *latencyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &latencyProxy{ln: ln, upstream: upstream}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(up, down)
			go p.pipe(down, up)
		}
	}()
	t.Cleanup(p.close)
	return p
}

// storeBehindProxy starts the embedded store (closed at cleanup) and a
// latencyProxy in front of it.
func storeBehindProxy(t *testing.T) (*esdbserver.Server, *latencyProxy) {
	t.Helper()
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, startProxy(t, srv.Addr())
}

func (p *latencyProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	type chunk struct {
		due time.Time
		b   []byte
	}
	q := make(chan chunk, 4096)
	go func() { // reader: stamp each chunk with when it may be passed on
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(time.Duration(p.delay.Load())), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	for c := range q { // writer: latency, not a bandwidth limit
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			for range q {
			}
			return
		}
	}
}

func (p *latencyProxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *latencyProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestSlowStore: the registry and training services talk to the embedded
// store through a TCP proxy on loopback that delays every chunk of bytes.
// The store client's deadline is 2 s and its breaker opens after 3
// failures and probes after 1 s. With 200 ms of injected latency each way
// commands still succeed; with 5 s every request answers 503 or 504 (none
// hangs until the client's 15 s timeout), the breaker opens (503 + Retry-After,
// naming the open breaker, without calling the store); when the latency
// goes away the services recover by themselves. Every command is then
// retried with its key until acknowledged, and the store holds each
// exactly once — a timed-out append that reached the store anyway is found
// by its key, not written twice.
func TestSlowStore(t *testing.T) {
	if testing.Short() {
		t.Skip("injects seconds of latency")
	}
	srv, proxy := storeBehindProxy(t)
	ctx := context.Background()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: storeURL(proxy.ln.Addr().String()), Timeout: 2 * time.Second,
		Breaker: eventstore.BreakerConfig{Failures: 3, OpenFor: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now
	reg, err := registry.New(st, now, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.New(st, now, training.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle("/api/registry/", http.StripPrefix("/api/registry", registry.NewHTTPHandler(reg, logger, auth.DevKey(), registry.HTTPOptions{})))
	mux.Handle("/api/training/", http.StripPrefix("/api/training", training.NewHTTPHandler(tr, logger, auth.DevKey(), training.HTTPOptions{})))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	c := client(t, hs.URL, "acad-slow")
	c.HTTP.Timeout = 15 * time.Second
	ids := register(t, c, "slow", 4)

	var cmds []*keyed
	send := func(i int) (*keyed, time.Duration, error) {
		k := &keyed{craftsman: ids[i%len(ids)], key: fmt.Sprintf("slow-%d", i)}
		cmds = append(cmds, k)
		t0 := time.Now()
		a, err := c.Complete(ctx, k.craftsman, k.key)
		if err == nil && a.OK() {
			k.acked, k.ans = true, a
		}
		k.ans.Status, k.ans.RetryAfter, k.ans.Error = a.Status, a.RetryAfter, a.Error
		return k, time.Since(t0), err
	}

	// Slow but within the deadline: commands succeed.
	proxy.setDelay(200 * time.Millisecond)
	for i := range 3 {
		k, d, err := send(i)
		if err != nil || !k.acked {
			t.Fatalf("with 200 ms latency: %v %d %s", err, k.ans.Status, k.ans.Error.Message)
		}
		t.Logf("200 ms latency: %d in %s", k.ans.Status, d.Round(time.Millisecond))
	}

	// Slower than the deadline: every request answers 503/504, the breaker
	// opens.
	proxy.setDelay(5 * time.Second)
	opened := false
	seen := map[int]int{}
	for i := 3; i < 23 && !opened; i++ {
		k, d, err := send(i)
		if err != nil {
			t.Fatalf("request %d got no answer (the deadline did not hold): %v", i, err)
		}
		seen[k.ans.Status]++
		if k.ans.Status != 503 && k.ans.Status != 504 {
			t.Errorf("with 5 s latency: %d %s, want 503 or 504", k.ans.Status, k.ans.Error.Message)
		}
		if k.ans.Status == 503 && k.ans.RetryAfter == "" {
			t.Errorf("503 without Retry-After: %s", k.ans.Error.Message)
		}
		opened = k.ans.Status == 503 && strings.Contains(k.ans.Error.Message, "breaker")
		t.Logf("5 s latency: %d %s in %s", k.ans.Status, k.ans.Error.Code, d.Round(time.Millisecond))
	}
	if !opened {
		t.Fatalf("the breaker never opened: %v", seen)
	}

	// The latency goes away: the breaker's probe closes it.
	proxy.setDelay(0)
	i := 100
	eventually(t, 60*time.Second, "a command succeeding after the latency is gone", func() bool {
		k, _, _ := send(i)
		i++
		return k.acked
	})

	for _, k := range cmds {
		eventually(t, 30*time.Second, "retry of "+k.key, func() bool {
			if !k.acked {
				a, err := c.Complete(ctx, k.craftsman, k.key)
				if err == nil && a.OK() {
					k.acked, k.ans = true, a
				}
			}
			return k.acked
		})
	}
	direct, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	checkExactlyOnce(t, direct, cmds)
}
