// Package cputime reads the process's CPU time, for benchmarks that report
// CPU per operation: a figure a loaded machine distorts far less than wall
// time.
package cputime
