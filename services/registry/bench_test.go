package registry_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// BenchmarkRegister measures craftsman registrations (a new stream each)
// through HTTP -> service -> store with 1, 16 and 64 concurrent clients;
// it reports commands/s and p50/p99 latency in milliseconds.
func BenchmarkRegister(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b)
			tok := issuer(b, "academy-a")
			servicetest.RunClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"craftsmanId":"r%d","nationalId":%q,"personal":{"name":"工匠%d"}}`, i, nationalID(i), i)
				req, _ := http.NewRequest("POST", e.url+"/v1/craftsmen", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				return req
			})
		})
	}
}

// BenchmarkBackfillTrades measures a JSON Lines back-fill of b.N trades
// through HTTP over b.N/20 craftsmen (at least 1000), 16 workers, with the
// lines interleaved (line i for craftsman i mod n) or grouped by craftsman;
// it reports records/s.
func BenchmarkBackfillTrades(b *testing.B) {
	for _, order := range []string{"interleaved", "grouped"} {
		b.Run(fmt.Sprintf("order=%s/workers=16", order), func(b *testing.B) {
			e := newEnvBackfill(b, command.Backfill{Workers: 16})
			n := max(1000, b.N/20)
			servicetest.Parallel(n, 16, func(i int) { e.register(b, fmt.Sprintf("bt%d", i), 1000+i) })
			var sb strings.Builder
			per := (b.N + n - 1) / n
			for i := 0; i < b.N; i++ {
				w, j := i%n, i/n // craftsman, and the line's rank among its lines (< 20)
				if order == "grouped" {
					w, j = i/per, i%per
				}
				fmt.Fprintf(&sb, `{"craftsmanId":"bt%d","key":"l%d","trade":{"code":"6-31-%02d-01"},"occurredAt":"2008-03-01"}`+"\n", w, i, j)
			}
			body := sb.String()
			tok := issuer(b, "academy-a")
			b.ResetTimer()
			start := time.Now()
			_, sum := e.backfill(b, tok, "/v1/backfill/trades", "application/x-ndjson", body)
			elapsed := time.Since(start)
			b.StopTimer()
			if sum.OK != b.N {
				b.Fatalf("summary %+v", sum)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
		})
	}
}
