package mentorship_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

const benchWorkers = 1000

// seedWorkers registers n masters (senior) and n apprentices concurrently.
func seedWorkers(e *env, n int) {
	servicetest.Parallel(n, 16, func(i int) {
		e.register(fmt.Sprintf("bw%d", i), events.Senior)
		e.register(fmt.Sprintf("ba%d", i), 0)
	})
}

// BenchmarkStart measures pairings started (three appends each: the
// master's stream at its read revision, the pairing's, the apprentice's)
// through HTTP -> service -> store (embedded server over gRPC, fsync on)
// with 1, 16 and 64 concurrent clients over 1000 masters
// (servicetest.RunClients reports cpu-µs/cmd with the rates).
func BenchmarkStart(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, mentorship.Options{MaxActiveApprentices: 1 << 20})
			seedWorkers(e, benchWorkers)
			servicetest.RunClients(b, clients, http.StatusCreated, func(i int) *http.Request {
				body := fmt.Sprintf(`{"mentorshipId":"bm%d","masterId":"bw%d","apprenticeId":"ba%d","trade":{"code":%q},"academyId":%q,"plannedMonths":24,"occurredAt":"2025-01-01"}`,
					i, i%benchWorkers, (i/benchWorkers+i)%benchWorkers, trade, orgAcademy)
				r, _ := http.NewRequest("POST", e.URL+"/v1/mentorships", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+e.Toks["issuer"])
				return r
			})
		})
	}
}
