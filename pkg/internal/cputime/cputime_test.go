//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/internal/cputime"
)

func TestProcessCountsWork(t *testing.T) {
	before := cputime.Process()
	deadline := time.Now().Add(20 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	if after := cputime.Process(); after <= before {
		t.Fatalf("CPU time %v then %v after %d busy iterations", before, after, n)
	}
}
