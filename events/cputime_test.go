package events_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used: dividing
// work by it gives a figure that other processes' load does not distort
// the way wall-clock ns/op is distorted on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
