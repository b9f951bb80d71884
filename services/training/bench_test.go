package training_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const benchWorkers = 1000

// seedWorkers registers n craftsmen concurrently.
func (e *env) seedWorkers(b *testing.B, n int) {
	b.Helper()
	var wg sync.WaitGroup
	ids := make(chan int)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				e.craftsman(b, fmt.Sprintf("bw%d", i))
			}
		}()
	}
	for i := 0; i < n; i++ {
		ids <- i
	}
	close(ids)
	wg.Wait()
}

// BenchmarkCommand measures course completions through HTTP -> service ->
// store (embedded server over gRPC, fsync on) with 1, 16 and 64 concurrent
// clients spread over 1000 craftsmen; it reports commands/s and p50/p99
// latency in milliseconds.
func BenchmarkCommand(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b)
			e.seedWorkers(b, benchWorkers)
			tok := issuer(b, academy)
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						body := fmt.Sprintf(`{"academyId":%q,"courseId":"elec-201","hours":2,"passed":true}`, academy)
						req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/craftsmen/bw%d/completions", e.url, i%benchWorkers), strings.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+tok)
						t0 := time.Now()
						resp, err := hc.Do(req)
						if err != nil {
							failed.Add(1)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						lat[i] = time.Since(t0)
						if resp.StatusCode != http.StatusCreated {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d commands failed", n, b.N)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cmds/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkBackfill measures a JSON Lines back-fill of b.N course
// completions through HTTP over b.N/20 craftsmen (at least 1000), with the
// lines interleaved (line i for craftsman i mod n) or grouped by craftsman
// (as paper records per worker usually are, letting consecutive lines of
// one craftsman share an append); it reports records/s.
func BenchmarkBackfill(b *testing.B) {
	for _, order := range []string{"interleaved", "grouped"} {
		for _, workers := range []int{16, 64} {
			b.Run(fmt.Sprintf("order=%s/workers=%d", order, workers), func(b *testing.B) { benchBackfill(b, order, workers) })
		}
	}
}

func benchBackfill(b *testing.B, order string, workers int) {
	e := newEnvWorkers(b, workers)
	n := max(benchWorkers, b.N/20)
	e.seedWorkers(b, n)
	var sb strings.Builder
	per := (b.N + n - 1) / n
	for i := 0; i < b.N; i++ {
		w := i % n
		if order == "grouped" {
			w = i / per
		}
		fmt.Fprintf(&sb, `{"craftsmanId":"bw%d","key":"l%d","academyId":%q,"courseId":"elec-201","hours":2,"passed":true,"occurredAt":"2015-06-01"}`+"\n", w, i, academy)
	}
	body := sb.String()
	b.ResetTimer()
	start := time.Now()
	_, sum := e.backfill(b, "/v1/backfill/completions", "application/x-ndjson", body)
	elapsed := time.Since(start)
	b.StopTimer()
	if sum.OK != b.N {
		b.Fatalf("summary %+v", sum)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}
