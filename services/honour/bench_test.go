package honour_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
)

const benchWorkers = 1000

// seedWorkers registers n craftsmen concurrently.
func seedWorkers(e *env, n int) {
	servicetest.Parallel(n, 16, func(i int) {
		e.register(fmt.Sprintf("bw%d", i), events.Senior)
	})
}

// BenchmarkConfer measures honours conferred through HTTP -> service ->
// store (embedded server over gRPC, fsync on) with 1, 16 and 64 concurrent
// clients spread over 1000 craftsmen.
func BenchmarkConfer(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b)
			seedWorkers(e, benchWorkers)
			servicetest.RunClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"honourId":"bh%d","code":"enterprise_craftsman","occurredAt":"2020-01-01"}`, i)
				r, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/craftsmen/bw%d/honours", e.URL, i%benchWorkers), strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
				return r
			})
		})
	}
}

// BenchmarkBackfill measures a JSON Lines back-fill of b.N honours over
// 1000 craftsmen through HTTP with 4 and 16 back-fill workers (16: the
// binary's default); it reports records/s. order=interleaved cycles
// through the craftsmen line by line; order=grouped gives each craftsman's
// lines one after the other, as paper records usually come.
func BenchmarkBackfill(b *testing.B) {
	for _, order := range []string{"interleaved", "grouped"} {
		for _, workers := range []int{4, 16} {
			b.Run(fmt.Sprintf("order=%s/workers=%d", order, workers), func(b *testing.B) {
				e := newEnvBackfill(b, honour.Options{CheckWriters: true, ConferringBodies: testBodies()}, command.Backfill{Workers: workers})
				seedWorkers(e, benchWorkers)
				per := (b.N + benchWorkers - 1) / benchWorkers
				var sb strings.Builder
				for i := range b.N {
					w := i % benchWorkers
					if order == "grouped" {
						w = i / per
					}
					fmt.Fprintf(&sb, `{"craftsmanId":"bw%d","honourId":"bf%d","code":"city_craftsman","occurredAt":"2015-06-01"}`+"\n", w, i)
				}
				e.BenchBackfill(b, "issuer", "/v1/backfill/honours", sb.String())
			})
		}
	}
}
