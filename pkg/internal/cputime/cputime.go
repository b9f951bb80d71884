//go:build unix

// Package cputime reads the process's CPU time, for benchmarks that report
// CPU per operation: a figure a loaded machine distorts far less than wall
// time.
package cputime

import (
	"syscall"
	"time"
)

// Process is the process's user + system CPU time so far (0 when it cannot
// be read).
func Process() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
