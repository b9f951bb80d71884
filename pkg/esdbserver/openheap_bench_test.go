//go:build unix

package esdbserver

import (
	"io"
	"log/slog"
	"os"
	"runtime"
	"testing"

	"github.com/craftledger/craftledger/pkg/internal/cputime"
)

// BenchmarkOpenedStoreGC measures what an opened store's in-memory state
// costs the garbage collector: it opens the store in $ESDB_BENCH_STORE
// (skipped when unset; opening writes to the directory, so point it at a
// copy you own, never at a shared benchmark store), then runs b.N forced
// collections and reports the process CPU each took, the live heap and its
// object count.
func BenchmarkOpenedStoreGC(b *testing.B) {
	dir := os.Getenv("ESDB_BENCH_STORE")
	if dir == "" {
		b.Skip("ESDB_BENCH_STORE not set")
	}
	st, err := openStore(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		runtime.GC()
	}
	cpu := cputime.Process() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/gc")
	b.ReportMetric(float64(ms.HeapObjects), "heap-objects")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(st)
}
