package esdbserver

import "github.com/craftledger/craftledger/pkg/gctune"

// GCPercent is bin/eventstore's collector target unless GOGC is set: a
// cycle starts once the heap has grown by this many percent of what the
// last cycle left live. Every call allocates its request and answer (on
// both sides of the connection when client and store share a process) and
// keeps next to nothing, so at Go's default of 100 a store with a small
// live heap collected every ~50 ms under a 16-writer append load; spaced
// four times further apart, an append cost ~4 % less CPU and 16 writers
// made ~3 % more appends/s (medians of 12 alternated rounds; docs/store.md,
// "Known gaps", tenth session). It is gctune.ServerPercent, the go-kit
// services' value too (servicekit.GCPercent), which the all-in-one binary,
// with the store inside it, runs with.
const GCPercent = gctune.ServerPercent

// TuneGC applies bin/eventstore's collector settings (gctune.Apply with
// GCPercent and a soft memory limit of 3/4 of the memory the process may
// use, each unless GOGC or GOMEMLIMIT is set) and returns the GC percent
// and soft memory limit in force. The store's client benchmarks call it
// too, so that their figures are the binary's.
func TuneGC(lookup func(string) (string, bool)) (percent int, limit int64) {
	return gctune.Apply(lookup, GCPercent, 0)
}
