package training_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

const benchWorkers = 1000

// seedWorkers registers n craftsmen concurrently.
func (e *env) seedWorkers(b *testing.B, n int) {
	b.Helper()
	servicetest.Parallel(n, 16, func(i int) {
		e.craftsman(b, fmt.Sprintf("bw%d", i))
	})
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
			servicetest.RunClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"academyId":%q,"courseId":"elec-201","hours":2,"passed":true}`, academy)
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/craftsmen/bw%d/completions", e.url, i%benchWorkers), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				return req
			})
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

// backfillKinds are the lines BenchmarkBackfillKinds writes, one kind
// each: path and line i of craftsman w (the key and the fact's own id are
// unique per line).
var backfillKinds = []struct {
	kind, path string
	line       func(i, w int) string
}{
	{"assessments", "/v1/backfill/assessments", func(i, w int) string {
		return fmt.Sprintf(`{"craftsmanId":"bw%d","key":"l%d","assessmentId":"as%d","trade":{"code":%q},"level":"intermediate","evaluatingOrgId":%q,"passed":true,"occurredAt":"2015-06-01"}`, w, i, i, elec, academy)
	}},
	{"graduations", "/v1/backfill/graduations", func(i, w int) string {
		return fmt.Sprintf(`{"craftsmanId":"bw%d","key":"l%d","schoolKind":"technical_school","speciality":"电工","trade":{"code":%q},"occurredAt":"2009-07-01"}`, w, i, elec)
	}},
}

// BenchmarkBackfillKinds is BenchmarkBackfill for other kinds of line than
// course completions (assessments, graduations), 16 workers.
func BenchmarkBackfillKinds(b *testing.B) {
	for _, k := range backfillKinds {
		for _, order := range []string{"interleaved", "grouped"} {
			b.Run(fmt.Sprintf("kind=%s/order=%s/workers=16", k.kind, order), func(b *testing.B) {
				benchBackfillLines(b, order, 16, k.path, k.line)
			})
		}
	}
}

func benchBackfill(b *testing.B, order string, workers int) {
	benchBackfillLines(b, order, workers, "/v1/backfill/completions", func(i, w int) string {
		return fmt.Sprintf(`{"craftsmanId":"bw%d","key":"l%d","academyId":%q,"courseId":"elec-201","hours":2,"passed":true,"occurredAt":"2015-06-01"}`, w, i, academy)
	})
}

// benchBackfillLines posts b.N lines (line(i, craftsman)) to path over
// b.N/20 craftsmen (at least 1000) in the given order and reports records/s.
func benchBackfillLines(b *testing.B, order string, workers int, path string, line func(i, w int) string) {
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
		sb.WriteString(line(i, w))
		sb.WriteByte('\n')
	}
	body := sb.String()
	b.ResetTimer()
	start := time.Now()
	_, sum := e.backfill(b, path, "application/x-ndjson", body)
	elapsed := time.Since(start)
	b.StopTimer()
	if sum.OK != b.N {
		b.Fatalf("summary %+v", sum)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}
