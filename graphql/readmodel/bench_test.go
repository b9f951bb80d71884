package readmodel

import (
	"os"
	"testing"
)

// BenchmarkLoadSnapshot loads the snapshot named by
// CRAFTLEDGER_BENCH_SNAPSHOT (skipped when unset), written by projection
// CRAFTLEDGER_BENCH_PROJECTION (default the projector's name), e.g. the
// one BenchmarkScaleStore leaves in its data directory.
func BenchmarkLoadSnapshot(b *testing.B) {
	path := os.Getenv("CRAFTLEDGER_BENCH_SNAPSHOT")
	if path == "" {
		b.Skip("CRAFTLEDGER_BENCH_SNAPSHOT names a snapshot file")
	}
	name := os.Getenv("CRAFTLEDGER_BENCH_PROJECTION")
	if name == "" {
		name = "craftledger-readmodel-v1"
	}
	for i := 0; i < b.N; i++ {
		m := NewMemory()
		if err := m.LoadSnapshot(path, name); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.Len()), "events")
	}
}
