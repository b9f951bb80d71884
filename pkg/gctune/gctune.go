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
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Apply sets the GC percent to percent unless lookup finds GOGC (then the
// runtime's own reading stands, "off" included, and is returned), and the
// soft memory limit to limit (> 0) or else to 3/4 of the smaller of the
// cgroup's memory.max and the machine's MemTotal (neither readable: no
// limit) unless lookup finds GOMEMLIMIT (the runtime's reading stands). It
// returns the GC percent and the soft limit in force.
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
		if m := memoryAvailable(); m > 0 {
			limit = m / 4 * 3
		}
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return percent, debug.SetMemoryLimit(-1)
}

// memoryAvailable is the smaller of the cgroup (v2) memory limit and the
// machine's memory, in bytes; 0 when neither can be read.
func memoryAvailable() int64 {
	total := memTotal()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

// memTotal is /proc/meminfo's MemTotal in bytes; 0 when it cannot be read.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
