package esdbserver_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/gctune"
	"github.com/craftledger/craftledger/pkg/internal/cputime"
)

// Benchmarks go through the official client over loopback against a server
// whose data directory is on the benchmark's temp dir, fsync on.
// Figures and the command that produced them: docs/benchmarks.md.

func benchServer(b *testing.B) (*esdbserver.Server, *esdb.Client) {
	b.Helper()
	// The collector settings bin/eventstore runs with, for this benchmark.
	b.Cleanup(gctune.Saved())
	esdbserver.TuneGC(os.LookupEnv)
	srv := startServer(b, esdbserver.Config{Insecure: true})
	return srv, connect(b, srv.URL())
}

// BenchmarkAppend: durable appends per second with W concurrent writers,
// each appending E events per call to its own stream.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		for _, perAppend := range []int{1, 10} {
			b.Run(fmt.Sprintf("writers=%d/events=%d", writers, perAppend), func(b *testing.B) {
				srv, c := benchServer(b)
				_, writes0 := esdbserver.GroupCommitStats(srv)
				syncs0, syncTime0 := esdbserver.WALSyncs(srv)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start, cpu0 := time.Now(), cputime.Process()
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						stream := fmt.Sprintf("bench-%d", w)
						for next.Add(1) <= int64(b.N) {
							// Fresh ids every time: re-sent ids would be idempotent no-ops.
							if _, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, events(perAppend, "Bench.v1")...); err != nil {
								b.Error(err)
								return
							}
						}
					}(w)
				}
				wg.Wait()
				secs := time.Since(start).Seconds()
				b.ReportMetric(float64(b.N)/secs, "appends/s")
				b.ReportMetric(float64(b.N*perAppend)/secs, "events/s")
				b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/append")
				_, writes := esdbserver.GroupCommitStats(srv)
				syncs, syncTime := esdbserver.WALSyncs(srv)
				b.ReportMetric(float64(writes-writes0)/float64(syncs-syncs0), "appends/fsync")
				b.ReportMetric(float64((syncTime-syncTime0).Microseconds())/float64(syncs-syncs0), "fsync-µs")
				// Share of the run's wall time the WAL spent in fsync.
				b.ReportMetric((syncTime-syncTime0).Seconds()/secs, "fsync-busy")
			})
		}
	}
}

// fill appends total events to a fresh server: 500-event appends from 8 writers.
func fill(b *testing.B, c *esdb.Client, total int) {
	b.Helper()
	fillNamed(b, c, total, func(i int) string { return fmt.Sprintf("fill-%d", i) })
}

// fillNamed is fill with the i-th 500-event stream named by name(i).
func fillNamed(b *testing.B, c *esdb.Client, total int, name func(int) string) {
	b.Helper()
	const batch = 500
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total/batch; i += 8 {
				if _, err := c.AppendToStream(context.Background(), name(i), esdb.AppendToStreamOptions{}, events(batch, "Bench.v1")...); err != nil {
					b.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
}

// BenchmarkReadAll: $all read throughput through the client.
func BenchmarkReadAll(b *testing.B) {
	_, c := benchServer(b)
	fill(b, c, 200_000)
	b.ResetTimer()
	n := 0
	start, cpu0 := time.Now(), cputime.Process()
	for i := 0; i < b.N; i++ {
		rs, err := c.ReadAll(context.Background(), esdb.ReadAllOptions{}, math.MaxUint64)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rs.Recv(); err != nil {
				break
			}
			n++
		}
		rs.Close()
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(n), "cpu-ns/event")
}

// BenchmarkSubscriptionCatchUp: a $all subscription from the start,
// through the client, until caught up (what a projection rebuild does).
func BenchmarkSubscriptionCatchUp(b *testing.B) {
	_, c := benchServer(b)
	fill(b, c, 200_000)
	b.ResetTimer()
	n := 0
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sub, err := c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: esdb.Start{}})
		if err != nil {
			b.Fatal(err)
		}
		for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
			if ev.SubscriptionDropped != nil {
				b.Fatal(ev.SubscriptionDropped.Error)
			}
			if ev.EventAppeared != nil {
				n++
			}
		}
		sub.Close()
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// projectorPrefixes are the stream-name prefixes the GraphQL projector
// subscribes with (graphql/readmodel.Prefixes()).
var projectorPrefixes = []string{"craftsman-", "academy-", "competition-", "mentorship-", "policy-"}

// BenchmarkSubscriptionCatchUpFiltered: what the GraphQL projector does on a
// rebuild — a $all subscription from the start with a server-side
// stream-name prefix filter (default window 32: a checkpoint every 32
// events) until caught up — next to the same subscription unfiltered, over
// the same 200,000 events in streams named after the five prefixes plus
// one stream family in six that the filter drops; filtered=regex is the
// same filter as one regex (a plain one, which the server matches with Go's
// regexp: filterregex.go's filterRegex), filtered=regex-digits one that also
// checks the digits after the prefix (matched by regexp2, .NET's engine).
func BenchmarkSubscriptionCatchUpFiltered(b *testing.B) {
	_, c := benchServer(b)
	names := append(append([]string(nil), projectorPrefixes...), "other-")
	fillNamed(b, c, 200_000, func(i int) string { return fmt.Sprintf("%s%d", names[i%len(names)], i) })
	for _, filtered := range []string{"false", "true", "regex", "regex-digits"} {
		b.Run("filtered="+filtered, func(b *testing.B) {
			opts := esdb.SubscribeToAllOptions{From: esdb.Start{}}
			switch filtered {
			case "true":
				opts.Filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: projectorPrefixes}
			case "regex":
				opts.Filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^(craftsman|academy|competition|mentorship|policy)-`}
			case "regex-digits":
				opts.Filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: `^(craftsman|academy|competition|mentorship|policy)-\d+$`}
			}
			n, checkpoints := 0, 0
			start, cpu0 := time.Now(), cputime.Process()
			for i := 0; i < b.N; i++ {
				sub, err := c.SubscribeToAll(context.Background(), opts)
				if err != nil {
					b.Fatal(err)
				}
				for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
					switch {
					case ev.SubscriptionDropped != nil:
						b.Fatal(ev.SubscriptionDropped.Error)
					case ev.EventAppeared != nil:
						n++
					case ev.CheckPointReached != nil:
						checkpoints++
					}
				}
				sub.Close()
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(n), "cpu-ns/event")
			b.ReportMetric(float64(checkpoints)/float64(b.N), "checkpoints/op")
		})
	}
}

// BenchmarkSubscriptionLatency: time from starting an append to the event
// reaching a live $all subscriber (so it includes the append's fsync).
func BenchmarkSubscriptionLatency(b *testing.B) {
	_, c := benchServer(b)
	sub, err := c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: esdb.End{}})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	for ev := sub.Recv(); ev.CaughtUp == nil; ev = sub.Recv() {
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := event("Ping", "{}")
		start := time.Now()
		if _, err := c.AppendToStream(context.Background(), "latency", esdb.AppendToStreamOptions{}, ev); err != nil {
			b.Fatal(err)
		}
		for {
			got := sub.Recv()
			if got.SubscriptionDropped != nil {
				b.Fatal(got.SubscriptionDropped.Error)
			}
			if got.EventAppeared != nil && got.EventAppeared.Event.EventID == ev.EventID {
				lat = append(lat, time.Since(start))
				break
			}
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkDiskFsync: the physical limit — sequential 4 KiB writes, each
// followed by fdatasync, in the same temp dir the servers use. "append"
// grows the file (size metadata is synced too); "overwrite" rewrites a
// preallocated file, as pebble does with its recycled WAL files.
func BenchmarkDiskFsync(b *testing.B) {
	for _, mode := range []string{"append", "overwrite"} {
		b.Run(mode, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, 4096)
			const prealloc = 64 << 20
			if mode == "overwrite" {
				if _, err := f.Write(make([]byte, prealloc)); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if mode == "overwrite" {
					_, err = f.WriteAt(buf, int64(i*len(buf))%prealloc)
				} else {
					_, err = f.Write(buf)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := fdatasync(f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "syncs/s")
		})
	}
}
