package server

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultGCPercent is the collector's target for bin/graphql when GOGC is
// not set: a cycle starts once the heap has grown by this many percent of
// what the last cycle left live. The read model is a large live heap that
// every cycle marks in full while queries allocate little that lives, so
// cycles are spaced four times further apart than Go's default (100),
// for four times the headroom above the live heap.
const DefaultGCPercent = 400

// TuneGC applies bin/graphql's collector settings and returns the GC
// percent and soft memory limit in force. GOGC, when lookup finds it, is
// left to the runtime (which has already read it, "off" included);
// otherwise DefaultGCPercent. GOMEMLIMIT, when set, is likewise the
// runtime's; otherwise the soft limit is 3/4 of the smaller of the
// cgroup's memory.max and the machine's MemTotal (neither readable: none),
// so that the larger headroom never grows the heap into the OOM killer: the
// collector runs earlier as the heap nears the limit. The Scale benchmark
// calls the same function (TestMain), so its figures are the binary's.
func TuneGC(lookup func(string) (string, bool)) (percent int, limit int64) {
	percent = DefaultGCPercent
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
		debug.SetGCPercent(DefaultGCPercent)
	}
	if v, ok := lookup("GOMEMLIMIT"); ok && v != "" {
		return percent, debug.SetMemoryLimit(-1) // the runtime's reading
	}
	if m := memoryAvailable(); m > 0 {
		debug.SetMemoryLimit(m / 4 * 3)
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
