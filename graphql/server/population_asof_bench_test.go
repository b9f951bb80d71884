package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/server"
)

// asOfForms are the asOf population forms: BenchmarkPopulationQueries'
// and dates no earlier query asked about (the ScaleStore store was
// recorded on 2026-11-26 08:49:34-08:53:48 UTC, its events occurring
// 2005-2032: 2031 lies before some occurrences).
func asOfForms() []struct{ name, q string } {
	var out []struct{ name, q string }
	for _, f := range populationForms {
		if strings.HasPrefix(f.name, "asOf") && !f.hr {
			out = append(out, struct{ name, q string }{f.name, f.q})
		}
	}
	return append(out,
		struct{ name, q string }{"asOf,stats,everyone,recording-60s", `{ populationStats(asOf: "2026-11-26T08:50:40Z") { total byLevel { key count } byRegion { key count } byAcademy { key count } } }`},
		struct{ name, q string }{"asOf,sort=region,2031", `{ craftsmen(asOf: "2031-01-01", sort: "region", first: 50) { totalCount nodes { id region level { api } } } }`},
		struct{ name, q string }{"asOf,trade,sort=level_desc,recording+90s", `{ craftsmen(asOf: "2026-11-26T08:53:10Z", trade: "6-18-02-04", sort: "level_desc", first: 50) { totalCount nodes { id } } }`},
	)
}

// BenchmarkPopulationAsOf times the as-of index at the population
// BenchmarkPopulationQueries uses (CRAFTLEDGER_BENCH_SNAPSHOT, or a
// generated one), as a restart leaves it. Without the index's side file
// in CRAFTLEDGER_BENCH_ASOF_DIR (default: a directory of the benchmark's
// own): its build (wall, process CPU, memory: logged) with a first query
// at a date no query asked about arriving 100 ms into it (logged), then
// the side file is written there (for a snapshot file). With it (a second
// run with the same directory: a restart): the load's time and the first
// queries at dates no query asked about (logged). Then each asOf form's
// first query (logged) and further ones (timed). It takes /tmp/bench.lock
// itself once the population is loaded: never run it under flock.
//
//	CRAFTLEDGER_BENCH_SNAPSHOT=/tmp/proj1m/readmodel.snap CRAFTLEDGER_BENCH_ASOF_DIR=/tmp/asofside go test -run '^$' -bench PopulationAsOf -benchtime 5x -v -timeout 30m ./server/
func BenchmarkPopulationAsOf(b *testing.B) {
	l := startStore(b)
	srv, err := server.New(server.Config{Store: l.store, Key: devKey(), Limits: server.Limits{Timeout: 2 * time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	x := srv.AsOfIndex()
	sc := readmodel.WithSidecars(srv.Model())
	if sc.Dir = os.Getenv("CRAFTLEDGER_BENCH_ASOF_DIR"); sc.Dir == "" {
		sc.Dir = b.TempDir() // the snapshot's directory may be read-only
	}
	sc.Add(x)
	snap := os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT")
	w0, c0 := time.Now(), cpuTime()
	if snap != "" {
		if err := sc.LoadSnapshot(snap, projector.Name); err != nil {
			b.Fatal(err)
		}
	} else {
		generatePopulation(b, srv.Model(), scaleN(), os.Getenv("CRAFTLEDGER_BENCH_LIVE") != "")
	}
	restarted := x.Size().Craftsmen > 0
	if restarted {
		b.Logf("restart with the side file: snapshot and side file loaded in %s (%s CPU), %d craftsmen with a timeline",
			time.Since(w0).Round(time.Millisecond), (cpuTime() - c0).Round(time.Millisecond), x.Size().Craftsmen)
	}
	unlock := benchLock(b)
	defer unlock()
	hs := newHTTP(srv)
	defer hs.Close()
	tok := token(b, auditor)
	post := func(b *testing.B, q string) { postQuery(b, hs.URL, tok, q) }
	first := func(what, q string) {
		w0, c0 := time.Now(), cpuTime()
		post(b, q)
		b.Logf("%s: first query %s (%s process CPU)", what, time.Since(w0).Round(time.Microsecond), (cpuTime() - c0).Round(time.Microsecond))
	}
	if restarted {
		first("restart with the side file", `{ populationStats(asOf: "2026-11-26T08:52:20Z") { total byLevel { key count } byRegion { key count } } }`)
		first("restart with the side file", `{ craftsmen(asOf: "2020-03-01", sort: "level_desc", first: 50) { totalCount nodes { id level { api } } } }`)
	} else {
		// The build, as Run starts it after a load without the side file,
		// and a first query while it runs (it waits for the build).
		done := make(chan error, 1)
		w0, c0 := time.Now(), cpuTime()
		go func() { done <- x.Build(context.Background()) }()
		time.Sleep(100 * time.Millisecond) // the build has begun
		first("100 ms into the build (its CPU included)", `{ populationStats(asOf: "2026-11-26T08:52:50Z") { total byLevel { key count } byRegion { key count } } }`)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		z := x.Size()
		b.Logf("as-of index built in %s (%s process CPU, the query's included): %d craftsmen, %d versions (%.2f each), %.1f MB (%.0f bytes per craftsman)",
			time.Since(w0).Round(time.Millisecond), (cpuTime() - c0).Round(time.Millisecond), z.Craftsmen, z.Versions,
			float64(z.Versions)/float64(max(z.Craftsmen, 1)), float64(z.Bytes)/1e6, float64(z.Bytes)/float64(max(z.Craftsmen, 1)))
		if snap != "" {
			w0, c0 := time.Now(), cpuTime()
			if err := sc.WriteSidecars(); err != nil {
				b.Fatal(err)
			}
			side := sc.SidecarPath(snap, x.SidecarName())
			fi, err := os.Stat(side)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("side file %s written in %s (%s CPU): %.1f MB (a run again with this CRAFTLEDGER_BENCH_ASOF_DIR restarts with it)",
				side, time.Since(w0).Round(time.Millisecond), (cpuTime() - c0).Round(time.Millisecond), float64(fi.Size())/1e6)
		}
	}
	for _, f := range asOfForms() {
		b.Run(f.name, func(b *testing.B) {
			w0, u0 := time.Now(), cpuTime()
			post(b, f.q) // first query of its form: document cache
			if b.N == 1 {
				b.Logf("first query %s (%s CPU)", time.Since(w0).Round(time.Microsecond), (cpuTime() - u0).Round(time.Microsecond))
			}
			b.ResetTimer()
			c0, t0 := cpuTime(), time.Now()
			for i := 0; i < b.N; i++ {
				post(b, f.q)
			}
			b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "wall-ms/query")
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/query")
		})
	}
}
