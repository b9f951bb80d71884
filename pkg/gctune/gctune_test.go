package gctune_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/craftledger/craftledger/pkg/gctune"
)

// restore puts the runtime's settings back after a test changed them.
func restore(t *testing.T) {
	prev, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(prev); debug.SetMemoryLimit(prevLimit) })
}

func none(string) (string, bool) { return "", false }

func TestApplyDefaults(t *testing.T) {
	restore(t)
	got, limit := gctune.Apply(none, 400, 0)
	if got != 400 {
		t.Fatalf("Apply without GOGC = %d, want 400", got)
	}
	if now := debug.SetGCPercent(100); now != 400 {
		t.Fatalf("GC percent after Apply = %d, want 400", now)
	}
	if limit <= 0 || limit == math.MaxInt64 {
		t.Errorf("Apply without GOMEMLIMIT set no soft limit (%d) on a machine with /proc/meminfo", limit)
	}
	if now := debug.SetMemoryLimit(-1); now != limit {
		t.Errorf("soft limit in force %d, Apply returned %d", now, limit)
	}
}

func TestApplyGivenLimit(t *testing.T) {
	restore(t)
	if _, limit := gctune.Apply(none, 300, 4<<30); limit != 4<<30 {
		t.Fatalf("Apply with a 4 GiB limit = %d", limit)
	}
	if now := debug.SetMemoryLimit(-1); now != 4<<30 {
		t.Errorf("soft limit in force %d, want 4 GiB", now)
	}
}

func TestApplyLeavesTheOperatorsSettings(t *testing.T) {
	restore(t)
	for v, want := range map[string]int{"250": 250, "off": -1, "bogus": 100} {
		env := func(k string) (string, bool) { return v, k == "GOGC" || k == "GOMEMLIMIT" }
		if got, limit := gctune.Apply(env, 400, 4<<30); got != want || limit != math.MaxInt64 {
			t.Errorf("Apply with GOGC=GOMEMLIMIT=%s = %d, %d; want %d and the runtime's limit", v, got, limit, want)
		}
		if now := debug.SetGCPercent(100); now != 100 {
			t.Errorf("Apply with GOGC=%s changed the GC percent to %d; the runtime's own reading must stand", v, now)
		}
	}
}

func TestSavedPutsBackTheSettings(t *testing.T) {
	restore(t)
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(3 << 30)
	put := gctune.Saved()
	gctune.Apply(none, 400, 5<<30)
	put()
	if percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); percent != 150 || limit != 3<<30 {
		t.Fatalf("after Saved's function: percent %d, limit %d; want 150 and 3 GiB", percent, limit)
	}
}
