package server

import "github.com/craftledger/craftledger/pkg/gctune"

// DefaultGCPercent is the collector's target for bin/graphql when GOGC is
// not set: a cycle starts once the heap has grown by this many percent of
// what the last cycle left live. The read model is a large live heap that
// every cycle marks in full while queries allocate little that lives, so
// cycles are spaced four times further apart than Go's default (100),
// for four times the headroom above the live heap.
const DefaultGCPercent = 400

// TuneGC applies bin/graphql's collector settings (gctune.Apply with
// DefaultGCPercent and a soft memory limit of 3/4 of the memory the
// process may use, each unless GOGC or GOMEMLIMIT is set) and returns the
// GC percent and soft memory limit in force. The Scale benchmark calls the
// same function (TestMain), so its figures are the binary's.
func TuneGC(lookup func(string) (string, bool)) (percent int, limit int64) {
	return gctune.Apply(lookup, DefaultGCPercent, 0)
}
