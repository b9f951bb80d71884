package competition_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

const benchWorkers = 1000

// seedWorkers registers n craftsmen concurrently.
func seedWorkers(e *env, n int) {
	servicetest.Parallel(n, 16, func(i int) {
		e.register(fmt.Sprintf("bw%d", i), events.Senior)
	})
}

// BenchmarkPublish measures results published one placement per request
// (the competition's stream, then the worker's placement and entitlement
// decided on its folded career) through HTTP -> service -> store
// (embedded server over gRPC, fsync on) with 1, 16 and 64 concurrent
// clients over 1000 craftsmen. Request i places craftsman i%1000 in
// competition bc<i%clients>-<i/1000> (all defined before the timing), so
// concurrent requests mostly write to different competitions' streams:
// the figure is per placement, not the queue of many publishers on one
// competition's stream.
func BenchmarkPublish(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b)
			seedWorkers(e, benchWorkers)
			comp := func(i int) string { return fmt.Sprintf("bc%d-%d", i%clients, i/benchWorkers) }
			defined := map[string]bool{}
			for i := 0; i < b.N; i++ {
				if !defined[comp(i)] {
					defined[comp(i)] = true
					if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(comp(i)), nil); code != 201 {
						b.Fatalf("define: %d %+v", code, eb)
					}
				}
			}
			servicetest.RunClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"bw%d","track":"employees","rank":%d}]}`, i%benchWorkers, i%30+1)
				r, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/competitions/%s/results", e.URL, comp(i)), strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
				return r
			})
		})
	}
}

// BenchmarkPublishBatch measures the usual case, a competition's results
// published in one request: each op publishes 100 placements (100
// craftsmen, written 8 at a time) to a new competition; it reports
// placements/s and the latency of one publication.
func BenchmarkPublishBatch(b *testing.B) {
	const batch = 100
	e := newEnv(b)
	seedWorkers(e, benchWorkers)
	bodies := make([]string, b.N)
	for i := range b.N {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(fmt.Sprintf("bb%d", i)), nil); code != 201 {
			b.Fatalf("define: %d %+v", code, eb)
		}
		var sb strings.Builder
		sb.WriteString(`{"occurredAt":"2025-09-05","placements":[`)
		for k := range batch {
			if k > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"craftsmanId":"bw%d","track":"employees","rank":%d}`, (i*batch+k)%benchWorkers, k+1)
		}
		sb.WriteString("]}")
		bodies[i] = sb.String()
	}
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		t0 := time.Now()
		if code, eb := e.Do("issuer", "POST", fmt.Sprintf("/v1/competitions/bb%d/results", i), bodies[i], nil); code != 201 {
			b.Fatalf("publish %d: %d %+v", i, code, eb)
		}
		lat[i] = time.Since(t0)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "placements/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms/publication")
}

// BenchmarkBackfill measures a JSON Lines back-fill of b.N placements
// (each line the competition's stream, combined with the other lines of
// the competition, and the worker's, shared with the worker's other queued
// lines) over 1000 craftsmen, one competition per 1000 lines, through
// HTTP with the default 16 back-fill workers; it reports records/s.
func BenchmarkBackfill(b *testing.B) {
	e := newEnv(b)
	seedWorkers(e, benchWorkers)
	for c := 0; c <= (b.N-1)/benchWorkers; c++ {
		if code, eb := e.Do("issuer", "POST", "/v1/competitions", classOne(fmt.Sprintf("bf%d", c)), nil); code != 201 {
			b.Fatalf("define: %d %+v", code, eb)
		}
	}
	var sb strings.Builder
	for i := range b.N {
		fmt.Fprintf(&sb, `{"competitionId":"bf%d","occurredAt":"2025-09-05","craftsmanId":"bw%d","track":"employees","rank":%d}`+"\n",
			i/benchWorkers, i%benchWorkers, i%30+1)
	}
	e.BenchBackfill(b, "issuer", "/v1/backfill/results", sb.String())
}
