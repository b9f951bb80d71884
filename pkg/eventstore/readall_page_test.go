package eventstore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

// countingProxy forwards loopback TCP connections to addr and counts the
// bytes the server sends back.
type countingProxy struct {
	lis  net.Listener
	down atomic.Int64
	wg   sync.WaitGroup
}

func startProxy(t *testing.T, addr string) *countingProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{lis: lis}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := lis.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(countWriter{in, &p.down}, out); in.Close() }()
		}
	}()
	t.Cleanup(func() { lis.Close() })
	return p
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// fillLog appends n events of ~size bytes to streams p-noise-<i/100>, with
// a system-typed event every 7th and a "mine" event every 1000th.
func fillLog(t testing.TB, c *eventstore.Client, p string, n, size int) {
	t.Helper()
	ctx := context.Background()
	pad := strings.Repeat("x", size)
	for i := 0; i < n; i += 100 {
		batch := make([]eventstore.EventData, 0, 100)
		for j := i; j < i+100 && j < n; j++ {
			typ := "Noise.v1"
			switch {
			case j%1000 == 999:
				typ = "Mine.v1"
			case j%7 == 3:
				typ = "$noise"
			}
			batch = append(batch, eventstore.EventData{Type: typ, Data: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, j, pad)})
		}
		if _, err := c.Append(ctx, fmt.Sprintf("%s-noise-%d", p, i/100), eventstore.Any(), batch...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadAllMaxTransfersLittle: a Max: 1 read of $all makes the server
// send about one event, not the log (before, it asked for every event and
// cancelled after the first: the server sent a flow-control window of
// them). Measured in bytes through a loopback proxy, not in time.
func TestReadAllMaxTransfersLittle(t *testing.T) {
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	fillLog(t, open(t, eventstore.Config{URL: srv.URL()}), "big", 3000, 1000) // ~3 MB
	proxy := startProxy(t, srv.Addr())
	c := open(t, eventstore.Config{URL: "esdb://" + proxy.lis.Addr().String() + "?tls=false"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil { // connection set up outside the measure
		t.Fatal(err)
	}
	for _, o := range []eventstore.ReadAllOptions{
		{Max: 1},
		{Max: 1, Direction: eventstore.Backwards, FromEnd: true},
	} {
		before := proxy.down.Load()
		got, err := c.ReadAll(ctx, o)
		if err != nil || len(got) != 1 {
			t.Fatalf("ReadAll(%+v) = %d events, %v", o, len(got), err)
		}
		time.Sleep(50 * time.Millisecond) // let anything in flight arrive
		sent := proxy.down.Load() - before
		t.Logf("ReadAll(Max: 1, direction %d): the server sent %d bytes", o.Direction, sent)
		if sent > 16<<10 {
			t.Errorf("ReadAll(%+v) made the server send %d bytes for one ~1 KB event", o, sent)
		}
	}
}

// TestReadAllPagesLikeOneRead: reads with a Max, which page (system and
// filtered events leave pages short, a filtered page holds 4096 events),
// return exactly the first Max events of the same read without a Max, in
// both directions and from an inclusive position.
func TestReadAllPagesLikeOneRead(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 9,000-event log")
	}
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(func() { _ = srv.Close() })
	c := open(t, eventstore.Config{URL: srv.URL()})
	fillLog(t, c, "pg", 9000, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	read := func(o eventstore.ReadAllOptions) []eventstore.RecordedEvent {
		t.Helper()
		got, err := c.ReadAll(ctx, o)
		if err != nil {
			t.Fatalf("ReadAll(%+v): %v", o, err)
		}
		return got
	}
	mine := &eventstore.Filter{OnEventType: true, Prefixes: []string{"Mine."}}
	all := read(eventstore.ReadAllOptions{})
	mid := all[len(all)/2].Position
	for _, base := range []eventstore.ReadAllOptions{
		{},
		{Filter: mine},
		{Filter: &eventstore.Filter{Regex: `^pg-noise-(1|5)\d$`}},
		{Direction: eventstore.Backwards, FromEnd: true},
		{Direction: eventstore.Backwards, FromEnd: true, Filter: mine},
		{From: mid},
		{From: mid, Filter: mine},
		{Direction: eventstore.Backwards, From: mid, Filter: mine},
		{Direction: eventstore.Backwards, From: mid},
	} {
		want := read(base)
		for _, max := range []int{1, 2, 3, 6, 7, 8, 9, 100, 5000, 20000} {
			o := base
			o.Max = max
			got := read(o)
			w := want[:min(max, len(want))]
			if len(got) != len(w) {
				t.Fatalf("ReadAll(%+v) = %d events, want %d", o, len(got), len(w))
			}
			for i := range w {
				if got[i].ID != w[i].ID || got[i].Position != w[i].Position || !bytes.Equal(got[i].Data, w[i].Data) {
					t.Fatalf("ReadAll(%+v)[%d] = %s@%d, want %s@%d", o, i, got[i].Stream, got[i].Revision, w[i].Stream, w[i].Revision)
				}
				if strings.HasPrefix(got[i].Type, "$") {
					t.Fatalf("ReadAll(%+v) delivered system event %s", o, got[i].Type)
				}
			}
		}
	}
}
