package esdbserver

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestFilterRegexNoTimeoutClock: filterRegex sets no match timeout, as
// KurrentDB sets none, so regexp2 never starts the goroutine that keeps
// its timeout clock (runClock): a filter leaves nothing running behind it.
// With a timeout set the goroutine would run for a second past the last
// match's deadline.
func TestFilterRegexNoTimeoutClock(t *testing.T) {
	match, err := filterRegex(`^craftsman-(?!0)\d+$`)
	if err != nil {
		t.Fatal(err)
	}
	if !match("craftsman-12") || match("craftsman-01") {
		t.Fatal("lookahead filter matched wrongly")
	}
	time.Sleep(10 * time.Millisecond) // a started goroutine would be scheduled by now
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "regexp2.runClock") {
		t.Errorf("regexp2's timeout clock is running:\n%s", stacks)
	}
}
