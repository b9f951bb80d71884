package server

import (
	"runtime/debug"
	"strconv"
)

// DefaultGCPercent is the collector's target for bin/graphql when GOGC is
// not set: a cycle starts once the heap has grown by this many percent of
// what the last cycle left live. The read model is a large live heap that
// every cycle marks in full while queries allocate little that lives, so
// cycles are spaced four times further apart than Go's default (100),
// for four times the headroom above the live heap.
const DefaultGCPercent = 400

// TuneGC applies bin/graphql's collector settings and returns the GC
// percent in force: GOGC, when lookup finds it, is left to the runtime
// (which has already read it, "off" included); otherwise DefaultGCPercent.
// GOMEMLIMIT, when set, is likewise the runtime's: a soft limit that makes
// the collector run earlier as the heap nears it, which a deployment with
// a memory budget should set (e.g. to 80 % of it) since the default leaves
// the heap up to 5× the live read model. The Scale benchmark calls the
// same function (TestMain), so its figures are the binary's.
func TuneGC(lookup func(string) (string, bool)) int {
	if v, ok := lookup("GOGC"); ok && v != "" {
		if v == "off" {
			return -1
		}
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return 100 // the runtime ignores what it cannot parse
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
