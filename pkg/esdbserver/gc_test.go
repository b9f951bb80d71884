package esdbserver_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/gctune"
)

// TestTuneGC: bin/eventstore's settings are GCPercent and a soft memory
// limit unless the environment sets its own.
func TestTuneGC(t *testing.T) {
	t.Cleanup(gctune.Saved())
	debug.SetMemoryLimit(math.MaxInt64)
	none := func(string) (string, bool) { return "", false }
	got, limit := esdbserver.TuneGC(none)
	if got != esdbserver.GCPercent || debug.SetGCPercent(100) != esdbserver.GCPercent {
		t.Fatalf("TuneGC without GOGC = %d, want %d in force", got, esdbserver.GCPercent)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		t.Errorf("TuneGC without GOMEMLIMIT set no soft limit (%d) on a machine with /proc/meminfo", limit)
	}
	debug.SetGCPercent(100)
	env := func(k string) (string, bool) { return "250", k == "GOGC" }
	if got, _ := esdbserver.TuneGC(env); got != 250 || debug.SetGCPercent(100) != 100 {
		t.Fatalf("TuneGC with GOGC=250 answered %d or changed the runtime's percent", got)
	}
}
