package generate

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ProgressBar returns a Progress callback for w. On a terminal it draws a
// one-line bar, redrawn in place: the phase, done/total, events written and
// the event rate. Anywhere else (a file, a pipe, a log collector) it writes
// a plain line at most every logEvery and when a phase ends, so that a log
// does not fill with redrawn bars. Each phase ends with a newline.
func ProgressBar(w io.Writer) func(Progress) {
	const width = 30
	tty := IsTerminal(w)
	last := ""
	var logged time.Duration
	return func(p Progress) {
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Events) / s
		}
		end := p.Done >= p.Total && last != p.Phase+"done"
		if end {
			last = p.Phase + "done"
		}
		if !tty {
			if end || p.Elapsed-logged >= logEvery {
				logged = p.Elapsed
				fmt.Fprintf(w, "%-13s %7d/%-7d %9d events %8.0f events/s %6.1fs\n", p.Phase, p.Done, p.Total, p.Events, rate, p.Elapsed.Seconds())
			}
			return
		}
		frac := 1.0
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		filled := int(frac * width)
		fmt.Fprintf(w, "\r%-13s [%s%s] %7d/%-7d %9d events %8.0f events/s %6.1fs",
			p.Phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, p.Total, p.Events, rate, p.Elapsed.Seconds())
		if end {
			fmt.Fprintln(w)
		}
	}
}

// logEvery is how often ProgressBar writes a line when w is not a terminal.
const logEvery = 5 * time.Second

// IsTerminal reports whether w is a character device (a terminal): where
// progress may be drawn in place. ledgerctl's --progress auto asks it too.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
