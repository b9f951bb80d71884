package servicetest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/gctune"
	"github.com/craftledger/craftledger/pkg/internal/cputime"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// RunClients sends b.N requests from clients goroutines (request i built
// by req), fails the benchmark when any request errs or answers other than
// want, and reports commands/s and p50/p99 latency in milliseconds
// ("cmds/s", "p50-ms", "p99-ms"), and the CPU time of the whole process
// (HTTP clients and server, service, embedded store) per command
// ("cpu-µs/cmd"): other processes' load does not distort it the way it
// distorts the wall-clock figures on a shared machine. Each client sends
// its next request as soon as its last one is answered (a closed loop):
// the run finds the highest rate the clients can drive, and the latency
// grows with the queue they keep full. With ClientProcessEnv set the
// clients run in a process of their own.
func RunClients(b *testing.B, clients, want int, req func(i int) *http.Request) {
	b.Helper()
	run(b, clients, 0, want, req)
}

// RunPaced is RunClients with the requests offered at a fixed rate
// (requests per second, over all clients) instead of as fast as answers
// come back: request i is due rate⁻¹·i after the start and is sent then by
// whichever client is free. Its latency is counted from when it was due,
// not from when a client got to send it, so time spent waiting for a free
// client counts too (no coordinated omission). It also reports how late
// requests were sent ("late-p99-ms": due → sent); "cmds/s" below the rate
// means the clients could not keep up.
func RunPaced(b *testing.B, clients int, rate float64, want int, req func(i int) *http.Request) {
	b.Helper()
	if rate <= 0 {
		b.Fatalf("RunPaced: rate %v, want > 0", rate)
	}
	run(b, clients, rate, want, req)
}

func run(b *testing.B, clients int, rate float64, want int, req func(i int) *http.Request) {
	b.Helper()
	// The collector settings the service binaries run with, for this run.
	b.Cleanup(gctune.Saved())
	servicekit.TuneGC()
	var load Load
	var cpu, clientCPU time.Duration
	if os.Getenv(ClientProcessEnv) != "" {
		reqs, err := CaptureRequests(b.N, req)
		if err != nil {
			b.Fatal(err)
		}
		job, err := writeLoadJob(b, reqs, clients, rate, want)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		cpu0 := cputime.Process()
		if load, clientCPU, err = job.run(); err != nil {
			b.Fatal(err)
		}
		cpu = cputime.Process() - cpu0
	} else {
		hc := NewClient(clients)
		b.ResetTimer()
		cpu0 := cputime.Process()
		load = Drive(hc, clients, rate, want, b.N, req)
		cpu = cputime.Process() - cpu0
	}
	b.StopTimer()
	if load.Failed > 0 {
		b.Fatalf("%d of %d commands failed; the first: %s", load.Failed, b.N, load.FirstFailure)
	}
	ReportLatency(b, b.N, load.Elapsed, load.Lat, "cmds/s")
	if load.Late != nil {
		slices.Sort(load.Late)
		b.ReportMetric(float64(load.Late[len(load.Late)*99/100].Microseconds())/1000, "late-p99-ms")
	}
	b.ReportMetric(float64((cpu+clientCPU).Microseconds())/float64(b.N), "cpu-µs/cmd")
	if clientCPU > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "service-cpu-µs/cmd")
	}
}

// Load is what one run of requests measured: each request's latency (in
// request order), how late each was sent when paced (nil otherwise), the
// failures, and the time from the first request sent to the last answer;
// CPU is cmd loadgen's own CPU time while it sent them (0 in process).
type Load struct {
	Lat, Late    []time.Duration
	Failed       int
	FirstFailure string
	Elapsed      time.Duration
	CPU          time.Duration
}

// NewClient is the benchmarks' HTTP client for clients concurrent clients:
// one kept connection each.
func NewClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
}

// Drive sends n requests (request i built by req) from clients goroutines
// through hc, as fast as they are answered (rate 0) or offered at rate
// requests per second (see RunPaced), and measures them; a request fails
// when it errs or answers other than want. RunClients and RunPaced drive
// their requests with it, in the benchmark's process or in a process of
// their own (cmd loadgen).
func Drive(hc *http.Client, clients int, rate float64, want, n int, req func(i int) *http.Request) Load {
	load := Load{Lat: make([]time.Duration, n)}
	if rate > 0 {
		load.Late = make([]time.Duration, n)
	}
	var next atomic.Int64
	var mu sync.Mutex
	fail := func(what string) {
		mu.Lock()
		if load.Failed++; load.Failed == 1 {
			load.FirstFailure = what
		}
		mu.Unlock()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := req(i)
				t0 := time.Now()
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					t0 = due
					load.Late[i] = time.Since(due)
				}
				resp, err := hc.Do(r)
				if err != nil {
					fail(fmt.Sprintf("request %d: %v", i, err))
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				load.Lat[i] = time.Since(t0)
				if resp.StatusCode != want {
					fail(fmt.Sprintf("request %d: status %d", i, resp.StatusCode))
				}
			}
		}()
	}
	wg.Wait()
	load.Elapsed = time.Since(start)
	return load
}

// ReportLatency reports n/elapsed under rate (e.g. "cmds/s") and the p50
// and p99 of lat in milliseconds ("p50-ms", "p99-ms"); it sorts lat.
func ReportLatency(b *testing.B, n int, elapsed time.Duration, lat []time.Duration, rate string) {
	b.Helper()
	b.ReportMetric(float64(n)/elapsed.Seconds(), rate)
	ReportPercentiles(b, lat, "")
}

// ReportPercentiles reports the p50 and p99 of lat in milliseconds as
// prefix+"p50-ms" and prefix+"p99-ms"; it sorts lat.
func ReportPercentiles(b *testing.B, lat []time.Duration, prefix string) {
	b.Helper()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, prefix+"p99-ms")
}

// Parallel calls f(i) for every i in [0, n) from workers goroutines and
// returns when all calls have returned (to seed a benchmark's fixtures).
func Parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	ids := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				f(i)
			}
		}()
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()
}
