package registry_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

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
