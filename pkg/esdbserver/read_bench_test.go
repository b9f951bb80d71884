package esdbserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/internal/cputime"
)

// BenchmarkReadStream: what a service command's read of its stream costs,
// through the official client over loopback: 16 concurrent readers, each
// read (a) a 20-event stream forwards from the start with count 100 until
// EOF, (b) a stream that does not exist, or (c) a 20-event stream from
// revision 20 — the events after a cached copy, none (command.Latest's
// usual read). cpu-µs/read is the whole process (client and server) per
// read.
func BenchmarkReadStream(b *testing.B) {
	const readers = 16
	for _, tc := range []struct {
		name   string
		events int
		from   uint64 // revision read from
		want   int    // events read
	}{{"events=20", 20, 0, 20}, {"missing", 0, 0, 0}, {"tail", 20, 20, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			_, c := benchServer(b)
			streams := make([]string, readers)
			for i := range streams {
				streams[i] = fmt.Sprintf("read-%s-%d", tc.name, i)
				if tc.events > 0 {
					if _, err := c.AppendToStream(context.Background(), streams[i], esdb.AppendToStreamOptions{}, events(tc.events, "Bench.v1")...); err != nil {
						b.Fatal(err)
					}
				}
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			start, cpu0 := time.Now(), cputime.Process()
			for w := 0; w < readers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						n, err := readStreamToEOF(c, streams[w], tc.from)
						if tc.events == 0 {
							var e *esdb.Error
							if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeResourceNotFound {
								b.Errorf("missing stream: %v", err)
								return
							}
						} else if err != nil || n != tc.want {
							b.Errorf("read %d events, err %v", n, err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			secs := time.Since(start).Seconds()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(b.N)/secs, "reads/s")
			b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/read")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/read")
		})
	}
}

// readStreamToEOF reads stream forwards from revision from, count 100,
// until EOF, as the store adapter does; it returns the number of events.
func readStreamToEOF(c *esdb.Client, stream string, from uint64) (int, error) {
	var pos esdb.StreamPosition = esdb.Start{}
	if from > 0 {
		pos = esdb.Revision(from)
	}
	rs, err := c.ReadStream(context.Background(), stream, esdb.ReadStreamOptions{From: pos}, 100)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	n := 0
	for {
		_, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
