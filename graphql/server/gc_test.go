package server_test

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/craftledger/craftledger/graphql/server"
)

// TestMain runs the package's tests and benchmarks (Scale among them)
// with bin/graphql's collector settings, through the binary's own call.
func TestMain(m *testing.M) {
	server.TuneGC(os.LookupEnv)
	os.Exit(m.Run())
}

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	none := func(string) (string, bool) { return "", false }
	if got := server.TuneGC(none); got != server.DefaultGCPercent {
		t.Fatalf("TuneGC without GOGC = %d, want %d", got, server.DefaultGCPercent)
	}
	if now := debug.SetGCPercent(100); now != server.DefaultGCPercent {
		t.Fatalf("GC percent after TuneGC = %d, want %d", now, server.DefaultGCPercent)
	}
	for v, want := range map[string]int{"250": 250, "off": -1} {
		env := func(k string) (string, bool) { return v, k == "GOGC" }
		if got := server.TuneGC(env); got != want {
			t.Errorf("TuneGC with GOGC=%s = %d, want %d", v, got, want)
		}
		if now := debug.SetGCPercent(100); now != 100 {
			t.Errorf("TuneGC with GOGC=%s changed the GC percent to %d; the runtime's own reading must stand", v, now)
		}
	}
}
