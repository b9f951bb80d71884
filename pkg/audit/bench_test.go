package audit_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/internal/cputime"
)

// The benchmarks read a store of sealed events (craftsman careers of 9
// events) through the official client from the embedded server over gRPC
// on loopback. Its size is -audit.bench-events, else $AUDIT_BENCH_EVENTS,
// else DefaultBenchEvents — small enough for `make bench`; the figures in
// docs/benchmarks.md were measured with 1,000,000. AUDIT_BENCH_DIR keeps
// the store between runs (it is filled once and never removed); otherwise
// a temporary one is filled per run and removed when the run ends
// (TestMain).
const defaultBenchEvents = 100_000

var benchEvents = flag.Int64("audit.bench-events", 0, "events in the benchmark store (default $AUDIT_BENCH_EVENTS, else 100000)")

var bench struct {
	once sync.Once
	st   *eventstore.Client
	srv  *esdbserver.Server
	url  string
	n    int64
	err  error
	temp string // a store directory to remove when the run ends
}

// TestMain removes the benchmarks' temporary store when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.st != nil {
		_ = bench.st.Close()
	}
	if bench.srv != nil {
		_ = bench.srv.Close()
	}
	if bench.temp != "" {
		if err := os.RemoveAll(bench.temp); err != nil {
			fmt.Fprintf(os.Stderr, "remove benchmark store: %v\n", err)
		}
	}
	os.Exit(code)
}

func benchSize() int64 {
	if *benchEvents > 0 {
		return *benchEvents
	}
	if v, err := strconv.ParseInt(os.Getenv("AUDIT_BENCH_EVENTS"), 10, 64); err == nil && v > 0 {
		return v
	}
	return defaultBenchEvents
}

func benchStore(b *testing.B) (*eventstore.Client, int64) {
	bench.once.Do(func() {
		want := benchSize()
		dir := os.Getenv("AUDIT_BENCH_DIR")
		if dir == "" {
			d, err := os.MkdirTemp("", "audit-bench-*")
			if err != nil {
				bench.err = err
				return
			}
			dir, bench.temp = d, d
		}
		srv, err := esdbserver.Start(esdbserver.Config{DataDir: filepath.Join(dir, "store"), Addr: "127.0.0.1:0", Insecure: true})
		if err != nil {
			bench.err = err
			return
		}
		bench.srv = srv
		ctx := context.Background()
		st, err := eventstore.Open(ctx, eventstore.Config{URL: srv.URL(), Timeout: time.Minute})
		if err != nil {
			bench.err = err
			return
		}
		bench.st, bench.url = st, srv.URL()
		marker := filepath.Join(dir, "events")
		if b, err := os.ReadFile(marker); err == nil {
			if n, err := strconv.ParseInt(string(b), 10, 64); err == nil && n >= want {
				bench.n = n
			}
		}
		// The competition the careers placed in, so the issuer rule finds
		// its organiser (as in a real ledger).
		comp := events.CompetitionStream("city-sh-2019")
		if _, err := st.ReadStream(ctx, comp, eventstore.ReadOptions{Max: 1}); err != nil {
			audittest.Append(b, st, comp, audittest.Seal(b, comp, audittest.Competition()))
			if bench.n > 0 {
				bench.n++
				bench.err = os.WriteFile(marker, []byte(strconv.FormatInt(bench.n, 10)), 0o644)
			}
		}
		if bench.n > 0 {
			return
		}
		var n int64
		n, bench.err = fill(ctx, b, st, want)
		bench.n = n + 1
		if bench.err == nil {
			bench.err = os.WriteFile(marker, []byte(strconv.FormatInt(bench.n, 10)), 0o644)
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.st, bench.n
}

// streamCareers is how many careers each benchmark stream holds:
// $AUDIT_BENCH_STREAM_CAREERS, else 1 (a stream of 9 events, one append).
// A large store fills much faster with long streams (56 careers: 504
// events in one append), and long streams cross the chunks of a parallel
// read.
func streamCareers() int {
	if v, err := strconv.Atoi(os.Getenv("AUDIT_BENCH_STREAM_CAREERS")); err == nil && v > 0 {
		return v
	}
	return 1
}

// fill writes careers with 8 concurrent writers until want events.
func fill(ctx context.Context, b *testing.B, st eventstore.Store, want int64) (int64, error) {
	careers := streamCareers()
	per := int64(len(audittest.Career("x")) * careers)
	streams := (want + per - 1) / per
	start := time.Now()
	var next, written atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	if want >= 1_000_000 {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			t := time.NewTicker(30 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					fmt.Fprintf(os.Stderr, "fill: %d of %d events in %s\n", written.Load(), want, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= streams {
					return
				}
				id := fmt.Sprintf("b%08d", i)
				stream := events.CraftsmanStream(id)
				var evs []audittest.Event
				for range careers {
					evs = append(evs, audittest.Career(id)...)
				}
				sealed := audittest.Seal(b, stream, evs)
				data := make([]eventstore.EventData, len(sealed))
				for j, s := range sealed {
					data[j] = s.EventData()
				}
				if _, err := st.Append(ctx, stream, eventstore.Any(), data...); err != nil {
					errc <- err
					return
				}
				written.Add(int64(len(data)))
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return written.Load(), err
	}
	b.Logf("filled %d events in %d streams in %s", written.Load(), streams, time.Since(start).Round(time.Second))
	return written.Load(), nil
}

func report(b *testing.B, n int64) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n), "events/op")
}

// cpuMeter reports the CPU the process (server, client and auditor
// together) spent per event — a figure the machine's load does not
// change much, unlike events/s — and how many cores it kept busy.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) *cpuMeter {
	b.Helper()
	return &cpuMeter{start: cputime.Process()}
}

func (m *cpuMeter) report(b *testing.B, n int64) {
	used := cputime.Process() - m.start
	if used <= 0 || n == 0 {
		return
	}
	b.ReportMetric(float64(used.Nanoseconds())/1e3/float64(n*int64(b.N)), "cpu-µs/event")
	b.ReportMetric(used.Seconds()/b.Elapsed().Seconds(), "cores")
}

func BenchmarkVerify(b *testing.B) {
	st, n := benchStore(b)
	for _, c := range []struct {
		name string
		opts audit.VerifyOptions
	}{
		{"all", audit.VerifyOptions{Parallel: 1}},
		{"chain-only", audit.VerifyOptions{SkipIssuers: true, Parallel: 1}},
		{"all-parallel=2", audit.VerifyOptions{Parallel: 2}},
		{"all-parallel=4", audit.VerifyOptions{Parallel: 4}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu := startCPU(b)
			for b.Loop() {
				rep, err := audit.Verify(context.Background(), st, c.opts)
				if err != nil || !rep.OK || rep.Events != n {
					b.Fatalf("verify: %v, %d events (want %d), %d findings", err, rep.Events, n, len(rep.Findings))
				}
			}
			report(b, n)
			cpu.report(b, n)
		})
	}
}

func BenchmarkReplayJSONL(b *testing.B) {
	st, n := benchStore(b)
	cpu := startCPU(b)
	for b.Loop() {
		w := audit.NewJSONLWriter(io.Discard)
		got, err := audit.Replay(context.Background(), st, audit.ReplayOptions{Parallel: 1}, w.Write)
		if err != nil || got != n {
			b.Fatalf("replay: %v, %d events", err, got)
		}
		_ = w.Close()
	}
	report(b, n)
	cpu.report(b, n)
}

// BenchmarkReplayJSONLParallel is BenchmarkReplayJSONL with concurrent
// chunked reads of $all (ReplayOptions.Parallel), same output order.
func BenchmarkReplayJSONLParallel(b *testing.B) {
	st, n := benchStore(b)
	for _, k := range []int{2, 4} {
		b.Run("parallel="+strconv.Itoa(k), func(b *testing.B) {
			cpu := startCPU(b)
			for b.Loop() {
				w := audit.NewJSONLWriter(io.Discard)
				got, err := audit.Replay(context.Background(), st, audit.ReplayOptions{Parallel: k}, w.Write)
				if err != nil || got != n {
					b.Fatalf("replay: %v, %d events", err, got)
				}
				_ = w.Close()
			}
			report(b, n)
			cpu.report(b, n)
		})
	}
}

// BenchmarkReadAllBaseline is the store's read rate through the adapter
// alone (pages of audit.PageSize, nothing done per event): the ceiling of
// replay and verify.
func BenchmarkReadAllBaseline(b *testing.B) {
	st, n := benchStore(b)
	for _, page := range []int{500, audit.PageSize, 8192} {
		b.Run("page="+strconv.Itoa(page), func(b *testing.B) {
			cpu := startCPU(b)
			for b.Loop() {
				var got int64
				err := eventstore.ForEachAll(context.Background(), st, nil, page, nil, func(eventstore.RecordedEvent) error { got++; return nil })
				if err != nil || got != n {
					b.Fatalf("read: %v, %d events", err, got)
				}
			}
			report(b, n)
			cpu.report(b, n)
		})
	}
}

// BenchmarkReadAllBareClient pages through $all with the official client
// directly, asking the server for exactly one page per call (the adapter
// asks for the rest of the log and cancels): how much the adapter's
// paging costs.
func BenchmarkReadAllBareClient(b *testing.B) {
	_, n := benchStore(b)
	conf, err := esdb.ParseConnectionString(bench.url)
	if err != nil {
		b.Fatal(err)
	}
	db, err := esdb.NewClient(conf)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for b.Loop() {
		var got int64
		var from esdb.AllPosition = esdb.Start{}
		var last *esdb.Position
		for {
			rs, err := db.ReadAll(ctx, esdb.ReadAllOptions{From: from}, audit.PageSize+1)
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				k++
				if ev.Event == nil || (last != nil && ev.Event.Position == *last) || strings.HasPrefix(ev.Event.EventType, "$") {
					continue
				}
				p := ev.Event.Position
				last = &p
				got++
			}
			rs.Close()
			if k < audit.PageSize+1 {
				break
			}
			from = *last
		}
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	report(b, n)
}

// BenchmarkSubscribeBaseline is the store's catch-up subscription rate
// through the adapter, nothing done per event.
func BenchmarkSubscribeBaseline(b *testing.B) {
	st, n := benchStore(b)
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		sub, err := st.SubscribeAll(ctx, eventstore.SubscribeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var got int64
		for {
			m, err := sub.Recv(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if m.Event != nil {
				got++
			}
			if m.CaughtUp || got == n {
				break
			}
		}
		_ = sub.Close()
		cancel()
		if got != n {
			b.Fatalf("subscribe: %d events, want %d", got, n)
		}
	}
	report(b, n)
}

// memEvents is n events of sealed careers in memory, as the store returns them.
func memEvents(b testing.TB, n int) []eventstore.RecordedEvent {
	var evs []eventstore.RecordedEvent
	comp := events.CompetitionStream("city-sh-2019")
	for _, s := range audittest.Seal(b, comp, audittest.Competition()) {
		evs = append(evs, eventstore.RecordedEvent{Stream: comp, ID: s.ID, Type: s.Type, Data: s.Data, Metadata: s.Metadata, Created: time.Now()})
	}
	for i := 0; len(evs) < n; i++ {
		id := fmt.Sprintf("m%08d", i)
		stream := events.CraftsmanStream(id)
		for r, s := range audittest.Seal(b, stream, audittest.Career(id)) {
			evs = append(evs, eventstore.RecordedEvent{Stream: stream, Revision: uint64(r), ID: s.ID, Type: s.Type, Data: s.Data, Metadata: s.Metadata,
				Position: eventstore.Position{Commit: uint64(len(evs)), Prepare: uint64(len(evs))}, Created: time.Now()})
		}
	}
	return evs
}

// BenchmarkVerifyEngine is the verifier's own cost, without the store:
// 200,000 events in memory through VerifyFeed (the code path of Verify
// after the read). It bounds what verify could reach with a faster store.
func BenchmarkVerifyEngine(b *testing.B) {
	evs := memEvents(b, 200_000)
	for _, c := range []struct {
		name string
		opts audit.VerifyOptions
	}{{"all", audit.VerifyOptions{}}, {"chain-only", audit.VerifyOptions{SkipIssuers: true}}} {
		b.Run(c.name, func(b *testing.B) {
			cpu := startCPU(b)
			for b.Loop() {
				rep, err := audit.VerifyFeed(context.Background(), nil, c.opts, audit.SliceFeed(evs))
				if err != nil || !rep.OK || rep.Events != int64(len(evs)) {
					b.Fatalf("verify: %v %+v", err, rep.Findings)
				}
			}
			report(b, int64(len(evs)))
			cpu.report(b, int64(len(evs)))
		})
	}
}

// BenchmarkReplayEngine is the JSON Lines encoder's own cost, without the store.
func BenchmarkReplayEngine(b *testing.B) {
	evs := memEvents(b, 200_000)
	cpu := startCPU(b)
	for b.Loop() {
		w := audit.NewJSONLWriter(io.Discard)
		for i := range evs {
			if err := w.Write(&evs[i]); err != nil {
				b.Fatal(err)
			}
		}
		_ = w.Close()
	}
	report(b, int64(len(evs)))
	cpu.report(b, int64(len(evs)))
}

// TestVerifyChainAllocations: an honest event costs verify no allocation
// — the chain is checked with one chain.Verifier per worker keeping each
// stream's last hash as a chain.Sum, and the issuer rule reads its fields
// as parts of the event's bytes — so what remains is per stream (table
// growth) and per report. The count is exact (allocations, not time).
func TestVerifyChainAllocations(t *testing.T) {
	evs := memEvents(t, 20_000)
	for _, c := range []struct {
		name string
		opts audit.VerifyOptions
	}{{"chain-only", audit.VerifyOptions{SkipIssuers: true}}, {"all", audit.VerifyOptions{}}} {
		allocs := testing.AllocsPerRun(2, func() {
			rep, err := audit.VerifyFeed(context.Background(), nil, c.opts, audit.SliceFeed(evs))
			if err != nil || !rep.OK || rep.Events != int64(len(evs)) {
				t.Fatalf("verify: %v %+v", err, rep.Findings)
			}
		})
		if per := allocs / float64(len(evs)); per > 0.1 {
			t.Errorf("%s verify: %.2f allocations per event, want at most 0.1 (nothing per honest event)", c.name, per)
		} else {
			t.Logf("%s verify: %.3f allocations per event", c.name, per)
		}
	}
}
