package generate_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/services/craftledger/generate"
)

// Away from a terminal the progress is plain lines: one at most every 5 s
// of the run and one when a phase ends, never a redrawn bar.
func TestProgressBarWritesLinesToAFile(t *testing.T) {
	var b bytes.Buffer
	bar := generate.ProgressBar(&b)
	for i := 0; i <= 100; i++ { // 100 updates over 10 s, then the phase ends
		bar(generate.Progress{Phase: "craftsmen", Done: i, Total: 100, Events: int64(i * 20), Elapsed: time.Duration(i) * 100 * time.Millisecond})
	}
	bar(generate.Progress{Phase: "craftsmen", Done: 100, Total: 100, Events: 2000, Elapsed: 10 * time.Second}) // repeated end: no new line
	out := b.String()
	if strings.Contains(out, "\r") {
		t.Errorf("a redrawn bar in a file: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// one at 5 s, then the phase's end at 10 s.
	if len(lines) != 2 || !strings.Contains(lines[0], " 5.0s") || !strings.Contains(lines[1], "100/100") {
		t.Errorf("%d lines, want the one at 5 s and the phase's end:\n%s", len(lines), out)
	}
}
