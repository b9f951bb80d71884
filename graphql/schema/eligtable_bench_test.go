package schema

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/craftledger/craftledger/graphql/readmodel"
)

// BenchmarkEligSideLoad times most of what a snapshot load adds for the
// eligibility entries: reading the side file CRAFTLEDGER_BENCH_ELIG_SIDE
// (e.g. one BenchmarkPopulationQueries wrote with CRAFTLEDGER_BENCH_ELIG_DIR)
// and parsing its body. The load's CRC check over the file is not timed.
//
//	CRAFTLEDGER_BENCH_ELIG_SIDE=<dir>/readmodel.snap.elig go test -run '^$' -bench EligSideLoad -benchtime 5x ./schema/
func BenchmarkEligSideLoad(b *testing.B) {
	path := os.Getenv("CRAFTLEDGER_BENCH_ELIG_SIDE")
	if path == "" {
		b.Skip("CRAFTLEDGER_BENCH_ELIG_SIDE names no side file")
	}
	for b.Loop() {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		// The container's header (readmodel/sidecar.go): magic, version,
		// name, sidecar version, checkpoint flag, commit, prepare,
		// craftsmen, sum; then the body and a CRC.
		r := data[5:]
		skip := func() uint64 {
			v, n := binary.Uvarint(r)
			r = r[n:]
			return v
		}
		r = r[skip():] // name
		skip()         // version
		r = r[1:]      // checkpoint flag
		skip()
		skip()
		craftsmen := skip()
		r = r[4:]
		if parseEligTable(r[:len(r)-4], readmodel.SnapshotTag{Craftsmen: int(craftsmen)}) == nil {
			b.Fatal("the body does not parse")
		}
	}
}
