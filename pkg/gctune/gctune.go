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
	"runtime/debug"
	"strconv"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// Apply sets the GC percent to percent unless lookup finds GOGC (then the
// runtime's own reading stands, "off" included, and is returned), and the
// soft memory limit to limit (> 0) or else to 3/4 of the memory the process
// may use — its cgroup's limit (v1 or v2), else the machine's — unless
// lookup finds GOMEMLIMIT (the runtime's reading stands). The memory
// available is read by github.com/KimMachineGun/automemlimit, which also
// honours its own AUTOMEMLIMIT variable (a ratio, or "off"). It returns the
// GC percent and the soft limit in force.
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
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	} else {
		// An unreadable limit leaves the runtime's (none): the error
		// changes nothing else, and the limit in force is returned below.
		_, _ = memlimit.Set(memlimit.WithRatio(0.75),
			memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)))
	}
	return percent, debug.SetMemoryLimit(-1)
}
