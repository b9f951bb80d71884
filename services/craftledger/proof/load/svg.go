package load

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

var colours = map[string]string{
	OpRegister: "#1f77b4", OpComplete: "#d62728", OpCertify: "#9467bd",
	OpPopulation: "#2ca02c", OpTimeline: "#ff7f0e", OpAudit: "#8c564b",
}

// WriteSVG draws latency over time: one panel of p50 and one of p99 per
// operation (logarithmic milliseconds, one point per interval), and one of
// the answered operations per second. title heads the picture.
func (r *Result) WriteSVG(w io.Writer, title string) error {
	const (
		width  = 960
		left   = 70
		right  = 150
		panelH = 220
		gap    = 50
		top    = 50
	)
	n := 0
	for _, op := range Ops {
		n = max(n, len(r.Ops[op].Series))
	}
	if n == 0 {
		n = 1
	}
	secs := r.Interval.Seconds()
	plotW := float64(width - left - right)
	x := func(i int) float64 { return left + plotW*(float64(i)+0.5)/float64(n) }

	// Latency range over every point, in ms, log scale.
	lo, hi := math.Inf(1), 0.0
	for _, op := range Ops {
		for _, h := range r.Ops[op].Series {
			if h != nil && h.TotalCount() > 0 {
				lo = math.Min(lo, float64(h.ValueAtQuantile(50))/1000)
				hi = math.Max(hi, float64(h.ValueAtQuantile(99))/1000)
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 10
	}
	lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 0.01))))
	hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))

	var sb strings.Builder
	height := top + 3*panelH + 2*gap + 50
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&sb, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))

	panel := func(y0 int, label string, yTicks []float64, yPos func(float64) float64, yFmt func(float64) string) {
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.0f" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, plotW, panelH)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, y0-8, html.EscapeString(label))
		for _, t := range yTicks {
			y := yPos(t)
			fmt.Fprintf(&sb, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, left, left+plotW, y, y)
			fmt.Fprintf(&sb, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, yFmt(t))
		}
		step := max(1, n/10)
		for i := 0; i < n; i += step {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%.0f</text>`, x(i), y0+panelH+14, float64(i)*secs)
		}
		fmt.Fprintf(&sb, "\n")
	}
	line := func(pts []string, colour string, dash bool) {
		if len(pts) == 0 {
			return
		}
		d := ""
		if dash {
			d = ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="%s"/>`+"\n", colour, d, strings.Join(pts, " "))
	}

	var ticks []float64
	for t := lo; t <= hi*1.001; t *= 10 {
		ticks = append(ticks, t)
	}
	msFmt := func(v float64) string {
		if v < 1 {
			return fmt.Sprintf("%g ms", v)
		}
		return fmt.Sprintf("%.0f ms", v)
	}
	for p, q := range []float64{50, 99} {
		y0 := top + p*(panelH+gap)
		yPos := func(v float64) float64 {
			v = math.Min(math.Max(v, lo), hi)
			return float64(y0+panelH) - float64(panelH)*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
		}
		panel(y0, fmt.Sprintf("p%.0f latency per %gs (log scale, from when each request was due)", q, secs), ticks, yPos, msFmt)
		for _, op := range Ops {
			var pts []string
			for i, h := range r.Ops[op].Series {
				if h != nil && h.TotalCount() > 0 {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), yPos(float64(h.ValueAtQuantile(q))/1000)))
				}
			}
			line(pts, colours[op], false)
		}
	}

	// Throughput panel: answered (2xx) operations per second, stacked total.
	y0 := top + 2*(panelH+gap)
	tput := make([]float64, n)
	peak := 1.0
	for _, op := range Ops {
		for i, h := range r.Ops[op].Series {
			if h != nil {
				tput[i] += float64(h.TotalCount()) / secs
			}
		}
	}
	for _, v := range tput {
		peak = math.Max(peak, v)
	}
	peak = niceCeil(peak * 1.15) // headroom above the target line
	yPos := func(v float64) float64 { return float64(y0+panelH) - float64(panelH)*v/peak }
	step := niceCeil(peak / 5)
	var tputTicks []float64
	for v := 0.0; v <= peak*1.001; v += step {
		tputTicks = append(tputTicks, v)
	}
	panel(y0, fmt.Sprintf("answered operations per second (2xx; target %.0f/s)", r.Config.Rate),
		tputTicks, yPos, func(v float64) string { return fmt.Sprintf("%.0f", v) })
	var pts []string
	for i, v := range tput {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), yPos(v)))
	}
	line(pts, "#333", false)
	fmt.Fprintf(&sb, `<text x="%.0f" y="%d" text-anchor="middle">seconds since start</text>`+"\n", left+plotW/2, y0+panelH+34)

	// Legend.
	ly := top + 10
	for _, op := range Ops {
		if r.Ops[op].OK == 0 {
			continue
		}
		fmt.Fprintf(&sb, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`+"\n",
			width-right+15, width-right+40, ly, ly, colours[op], width-right+46, ly+4, op)
		ly += 20
	}
	sb.WriteString("</svg>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
