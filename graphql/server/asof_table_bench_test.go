package server_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/server"
)

// BenchmarkAsOfTableMemory measures the as-of rows (schema/popasof.go)
// where the as-of index cannot answer (here: none built), as a start
// without its side file has them until the index is built: the population
// is the snapshot CRAFTLEDGER_BENCH_SNAPSHOT (read only) or a generated
// one (CRAFTLEDGER_BENCH_CRAFTSMEN, default 20,000); one asOf query
// derives every craftsman's row, each further one (a second later) reads
// most rows from the table. Reported: the live heap the queries added
// (collected before and after), per query and per craftsman, their wall
// and CPU time, and the CPU of the queries after the first. It takes no lock: run it under flock /tmp/bench.lock.
//
//	CRAFTLEDGER_BENCH_SNAPSHOT=/tmp/proj1m/readmodel.snap flock /tmp/bench.lock go test -run '^$' -bench AsOfTableMemory -benchtime 1x -v -timeout 30m ./server/
func BenchmarkAsOfTableMemory(b *testing.B) {
	l := startStore(b)
	srv, err := server.New(server.Config{Store: l.store, Key: devKey(), Limits: server.Limits{Timeout: 5 * time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	if snap := os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT"); snap != "" {
		if err := srv.Model().LoadSnapshot(snap, projector.Name); err != nil {
			b.Fatal(err)
		}
	} else {
		generatePopulation(b, srv.Model(), scaleN(), false)
	}
	hs := newHTTP(srv)
	defer hs.Close()
	tok := token(b, auditor)
	n := srv.Model().Seqs()
	var added, wall, cpu, warm float64
	for i := range b.N {
		// A date no query asked about before (the rows of the last one
		// hold for others in their spans).
		q := `{ populationStats(asOf: "` + time.Date(2026, 11, 26, 8, 51, 40+i, 0, time.UTC).Format(time.RFC3339) + `") { total byLevel { key count } } }`
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		w0, c0 := time.Now(), cpuTime()
		postQuery(b, hs.URL, tok, q)
		wall, cpu = wall+time.Since(w0).Seconds(), cpu+(cpuTime()-c0).Seconds()
		if i > 0 {
			warm += (cpuTime() - c0).Seconds()
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		added += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.Logf("heap %d -> %d MB", before.HeapAlloc>>20, after.HeapAlloc>>20)
		b.StartTimer()
	}
	if b.N > 1 {
		b.ReportMetric(warm/float64(b.N-1)*1000, "later-cpu-ms/query")
	}
	b.ReportMetric(added/float64(b.N)/(1<<20), "heap-MB/query")
	b.ReportMetric(added/float64(b.N)/float64(max(n, 1)), "heap-B/craftsman")
	b.ReportMetric(wall/float64(b.N), "wall-s/query")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/query")
}
