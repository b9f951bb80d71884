// Package gctune applies a binary's garbage-collector settings: a GC
// percent above Go's default of 100 and a soft memory limit that keeps the
// larger heap bounded, each unless the operator set GOGC or GOMEMLIMIT.
//
// craftledger's long-running binaries allocate much per request or event
// and keep little of it, so at Go's default the collector runs often and
// marks the same live heap every time. bin/graphql (a large read model),
// ledgerctl (millions of events per verify) and the go-kit services (a
// start allocates ~110 KB, keeps a bounded stream cache) measured less CPU
// per operation with cycles spaced further apart; the figures are in the
// docs each binary's caller cites. Only a binary's main (and the benchmark
// that stands for it) should call Apply: it changes the whole process.
package gctune

import (
	"math"
	"runtime/debug"
	"strconv"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// ServerPercent is the GC percent of the long-running servers that share
// one process setting: the go-kit services (servicekit.GCPercent), the
// all-in-one binary and bin/eventstore (esdbserver.GCPercent), each
// measured better at it than at Go's default (docs/choices.md).
const ServerPercent = 400

// Apply sets the GC percent to percent unless lookup finds GOGC (then the
// runtime's own reading stands, "off" included, and is returned), and the
// soft memory limit to limit (> 0) or else to 3/4 of the memory the process
// may use — its cgroup's limit (v1 or v2), else the machine's — unless
// lookup finds GOMEMLIMIT (the runtime's reading stands). The memory the
// process may use is read by github.com/KimMachineGun/automemlimit's
// providers (its own Set is not used: it reads the environment itself,
// where Apply answers to lookup). It returns the GC percent and the soft
// limit in force.
func Apply(lookup func(string) (string, bool), percent int, limit int64) (int, int64) {
	if v, ok := lookup("GOGC"); ok && v != "" {
		switch n, err := strconv.Atoi(v); {
		case v == "off":
			percent = -1
		case err == nil:
			percent = n
		default:
			percent = 100 // the runtime ignores what it cannot parse
		}
	} else {
		debug.SetGCPercent(percent)
	}
	if v, ok := lookup("GOMEMLIMIT"); ok && v != "" {
		return percent, debug.SetMemoryLimit(-1) // the runtime's reading
	}
	if limit <= 0 {
		// Unreadable: the runtime's limit (none) stays.
		if n, err := memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)(); err == nil && n > 0 && n <= math.MaxInt64 {
			limit = int64(n / 4 * 3)
		}
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return percent, debug.SetMemoryLimit(-1)
}

// Saved returns a function that puts back the GC percent and soft memory
// limit in force now. A benchmark that stands for a binary applies the
// binary's settings after b.Cleanup(gctune.Saved()), so that the
// process's own come back when it ends.
func Saved() func() {
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
