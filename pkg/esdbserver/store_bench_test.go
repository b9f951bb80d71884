package esdbserver

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGroupCommit measures the storage engine alone — W goroutines
// appending 1-event writes straight to the store, every write synced —
// to separate the group commit's capacity from the gRPC cost that
// BenchmarkAppend (through the official client) adds on top.
func BenchmarkGroupCommit(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			st, err := openStore(b.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer st.close()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					stream := fmt.Sprint("bench-", w)
					for next.Add(1) <= int64(b.N) {
						r := st.submit(&writeOp{kind: opAppend, stream: stream, expected: expectation{kind: expAny},
							events: []proposed{{ID: newUUID(), Type: "Bench.v1", IsJSON: true, Data: []byte(`{"craftsman":"c-1","level":3}`)}}})
						if r.err != nil {
							b.Error(r.err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
			b.ReportMetric(float64(st.statOps.Load())/float64(st.statBatches.Load()), "appends/fsync")
		})
	}
}
