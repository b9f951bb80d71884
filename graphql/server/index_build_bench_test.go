package server_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/schema"
	"github.com/craftledger/craftledger/graphql/server"
)

// BenchmarkIndexBuilds times what Run does once the projection has caught
// up after a start without the population indexes' side files (a
// catch-up from zero, or a new version): building the eligibility entries
// and the as-of index (schema.BuildIndexes). The population is the
// snapshot CRAFTLEDGER_BENCH_SNAPSHOT (read only; loaded alone, without
// side files) or a generated one (CRAFTLEDGER_BENCH_CRAFTSMEN, default
// 20,000), loaded again before every build (untimed). Reported: wall and
// process CPU seconds (and the system CPU among them) per build of both, the live heap
// after it (collected), and what the indexes hold. It
// takes no lock: run it under flock /tmp/bench.lock.
//
//	CRAFTLEDGER_BENCH_SNAPSHOT=/tmp/proj1m/readmodel.snap flock /tmp/bench.lock go test -run '^$' -bench IndexBuilds -benchtime 1x -v -timeout 30m ./server/
func BenchmarkIndexBuilds(b *testing.B) {
	l := startStore(b)
	srv, err := server.New(server.Config{Store: l.store, Key: devKey()})
	if err != nil {
		b.Fatal(err)
	}
	snap := os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT")
	load := func() {
		if snap == "" {
			generatePopulation(b, srv.Model(), scaleN(), false)
			return
		}
		t0 := time.Now()
		if err := srv.Model().LoadSnapshot(snap, projector.Name); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded %s in %s", snap, time.Since(t0).Round(time.Millisecond))
	}
	var wall, cpu, sys time.Duration
	for range b.N {
		b.StopTimer()
		load()
		runtime.GC()
		b.StartTimer()
		w0, c0, s0 := time.Now(), cpuTime(), sysTime()
		if _, err := schema.BuildIndexes(context.Background(), srv.EligEntries(), srv.AsOfIndex()); err != nil {
			b.Fatal(err)
		}
		wall, cpu, sys = wall+time.Since(w0), cpu+cpuTime()-c0, sys+sysTime()-s0
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e, x := srv.EligEntries().Size(), srv.AsOfIndex().Size()
	b.Logf("eligibility entries: %d craftsmen, %d items, %.1f MB; as-of index: %d craftsmen, %d versions, %.1f MB",
		e.Craftsmen, e.Items, float64(e.Bytes)/(1<<20), x.Craftsmen, x.Versions, float64(x.Bytes)/(1<<20))
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/build")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/build")
	b.ReportMetric(sys.Seconds()/float64(b.N), "sys-s/build")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MB-after")
}

// sysTime is the process's system CPU time (of cpuTime's): page faults
// and releases of the mapped log are counted there.
func sysTime() time.Duration {
	_, sys := rusage()
	return sys
}
