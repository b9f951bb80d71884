package server_test

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/pkg/gctune"
)

// TestMain runs the package's tests and benchmarks (Scale among them)
// with bin/graphql's collector settings, through the binary's own call.
func TestMain(m *testing.M) {
	server.TuneGC(os.LookupEnv)
	os.Exit(m.Run())
}

func TestTuneGC(t *testing.T) {
	defer gctune.Saved()()
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	none := func(string) (string, bool) { return "", false }
	got, limit := server.TuneGC(none)
	if got != server.DefaultGCPercent {
		t.Fatalf("TuneGC without GOGC = %d, want %d", got, server.DefaultGCPercent)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		t.Errorf("TuneGC without GOMEMLIMIT set no soft limit (%d) on a machine with /proc/meminfo", limit)
	}
}
