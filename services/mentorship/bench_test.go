package mentorship_test

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

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/services/mentorship"
)

const benchWorkers = 1000

// seedWorkers registers n masters (senior) and n apprentices concurrently.
func seedWorkers(e *env, n int) {
	var wg sync.WaitGroup
	ids := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				e.register(fmt.Sprintf("bw%d", i), events.Senior)
				e.register(fmt.Sprintf("ba%d", i), 0)
			}
		}()
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()
}

// runClients sends b.N requests from clients goroutines (request i built
// by req) and reports commands/s and p50/p99 latency in milliseconds.
func runClients(b *testing.B, clients, want int, req func(i int) *http.Request) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	lat := make([]time.Duration, b.N)
	var next, failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				r := req(i)
				t0 := time.Now()
				resp, err := hc.Do(r)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != want {
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
}

// BenchmarkStart measures pairings started (three appends each: the
// master's stream at its read revision, the pairing's, the apprentice's)
// through HTTP -> service -> store (embedded server over gRPC, fsync on)
// with 1, 16 and 64 concurrent clients over 1000 masters.
func BenchmarkStart(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, mentorship.Options{MaxActiveApprentices: 1 << 20})
			seedWorkers(e, benchWorkers)
			runClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"mentorshipId":"bm%d","masterId":"bw%d","apprenticeId":"ba%d","trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":"2025-01-01"}`,
					i, i%benchWorkers, (i/benchWorkers+i)%benchWorkers, trade, orgAcademy)
				r, _ := http.NewRequest("POST", e.URL+"/v1/mentorships", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
				return r
			})
		})
	}
}
