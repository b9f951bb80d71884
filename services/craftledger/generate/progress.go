package generate

import (
	"fmt"
	"io"
	"strings"
)

// ProgressBar returns a Progress callback drawing a one-line bar on w
// (a terminal's stderr): the phase, done/total, events written and the
// event rate. Each phase ends with a newline.
func ProgressBar(w io.Writer) func(Progress) {
	const width = 30
	last := ""
	return func(p Progress) {
		frac := 1.0
		if p.Total > 0 {
			frac = float64(p.Done) / float64(p.Total)
		}
		filled := int(frac * width)
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Events) / s
		}
		fmt.Fprintf(w, "\r%-13s [%s%s] %7d/%-7d %9d events %8.0f events/s %6.1fs",
			p.Phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.Done, p.Total, p.Events, rate, p.Elapsed.Seconds())
		if p.Done >= p.Total && last != p.Phase+"done" {
			fmt.Fprintln(w)
			last = p.Phase + "done"
		}
	}
}
