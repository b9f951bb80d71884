package load

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The operations of the mixed workload.
const (
	OpRegister   = "register"   // POST registry craftsmen: a new craftsman
	OpComplete   = "complete"   // POST training completions for a known craftsman
	OpCertify    = "certify"    // POST training certificates for a known craftsman
	OpPopulation = "population" // GraphQL craftsmen + populationStats as HR of the academy
	OpTimeline   = "timeline"   // GraphQL a craftsman's timeline as an auditor
	OpAudit      = "audit"      // GraphQL audit of a craftsman's stream as an auditor
)

// Ops lists the operations in report order.
var Ops = []string{OpRegister, OpComplete, OpCertify, OpPopulation, OpTimeline, OpAudit}

// DefaultMix is the default weight of each operation.
var DefaultMix = map[string]int{OpRegister: 10, OpComplete: 35, OpCertify: 10, OpPopulation: 10, OpTimeline: 25, OpAudit: 10}

// Config configures a run.
type Config struct {
	Rate        float64        // operations per second (open loop); required
	Duration    time.Duration  // how long to schedule operations; required
	Count       int            // at most this many operations (0 = no limit)
	Pool        int            // craftsmen registered before the run (default 200)
	Mix         map[string]int // weights (nil = DefaultMix)
	MaxInFlight int            // requests outstanding at once; a due request beyond it is dropped and counted (default 512)
	Timeout     time.Duration  // per request (default 10 s)
	Interval    time.Duration  // width of the time series buckets (default 1 s)
	RunID       string         // prefix of the ids the run creates (default from the clock)
	IDBase      int            // first national ID number index (default from the clock, so reruns against one server differ)
	Seed        uint64
	Progress    func(string) // called about once per Interval with a one-line status (nil: none)
}

// Result is what a run measured.
type Result struct {
	Config   Config
	Started  time.Time
	Elapsed  time.Duration // from the first due operation to the last answer
	Ops      map[string]*OpResult
	Total    *OpResult
	Interval time.Duration
}

// OpResult is one operation's figures.
type OpResult struct {
	Name     string
	Hist     *hdr.Histogram // latency of 2xx answers, microseconds, from when the request was due
	OK       int64
	Failed   int64             // non-2xx answers and transport errors
	Dropped  int64             // due while MaxInFlight requests were outstanding
	Statuses map[string]int    // "201", "503", "error", …
	Samples  map[string]string // the first answer (or error) of each failing status
	Series   []*hdr.Histogram
}

func newOp(name string) *OpResult {
	return &OpResult{Name: name, Hist: hdr.New(1, 120_000_000, 3), Statuses: map[string]int{}, Samples: map[string]string{}}
}

// Throughput is 2xx answers per second over d.
func (o *OpResult) Throughput(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(o.OK) / d.Seconds()
}

// Quantile is the q-th percentile latency (0–100).
func (o *OpResult) Quantile(q float64) time.Duration {
	return time.Duration(o.Hist.ValueAtQuantile(q)) * time.Microsecond
}

type recorder struct {
	mu       sync.Mutex
	start    time.Time
	interval time.Duration
	ops      map[string]*OpResult
}

func (r *recorder) record(op string, due time.Time, lat time.Duration, status string, ok bool, sample string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.ops[op]
	o.Statuses[status]++
	if !ok {
		o.Failed++
		if _, seen := o.Samples[status]; !seen {
			o.Samples[status] = sample
		}
		return
	}
	o.OK++
	us := max(1, lat.Microseconds())
	_ = o.Hist.RecordValue(us)
	i := int(due.Sub(r.start) / r.interval)
	for len(o.Series) <= i {
		o.Series = append(o.Series, hdr.New(1, 120_000_000, 3))
	}
	_ = o.Series[i].RecordValue(us)
}

// registerPatiently registers pool craftsman id, waiting out 429 answers
// (Retry-After, else a second) for up to a minute: the pool is filled
// before the clock starts, as fast as the target lets it, and a target
// that limits its callers' rate (the all-in-one by default) is no failure.
// The registration's idempotency key makes each retry safe.
func registerPatiently(ctx context.Context, c *Client, id string, n int) (Answer, error) {
	give := time.Now().Add(time.Minute)
	for {
		a, err := c.Register(ctx, id, n, "reg-"+id)
		if err != nil || a.Status != http.StatusTooManyRequests || time.Now().After(give) {
			return a, err
		}
		wait := time.Second
		if s, err := strconv.Atoi(a.RetryAfter); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// pool is the craftsmen known to exist (registered and acknowledged), with
// the $all position of their registration: reads about a craftsman pass it
// as X-Min-Position (read-your-writes), as a real client would.
type pool struct {
	mu  sync.RWMutex
	ids []string
	pos []uint64
}

func (p *pool) add(id string, pos uint64) {
	p.mu.Lock()
	p.ids, p.pos = append(p.ids, id), append(p.pos, pos)
	p.mu.Unlock()
}

func (p *pool) pick(r *rand.Rand) (string, uint64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	i := r.IntN(len(p.ids))
	return p.ids[i], p.pos[i]
}

// Run registers cfg.Pool craftsmen, then schedules operations at cfg.Rate
// for cfg.Duration (or cfg.Count operations), each in its own goroutine,
// and waits for the last answer.
func Run(ctx context.Context, c *Client, cfg Config) (*Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("load: rate and duration must be positive")
	}
	if cfg.Pool <= 0 {
		cfg.Pool = 200
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 512
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.RunID == "" {
		cfg.RunID = fmt.Sprintf("lg%x", time.Now().UnixNano()/1e6%0xffffff)
	}
	if cfg.IDBase == 0 {
		cfg.IDBase = int(time.Now().UnixNano()/1e6%16_000) * 1000
	}
	var weights []int
	var names []string
	total := 0
	for _, op := range Ops {
		if w := cfg.Mix[op]; w > 0 {
			names, weights = append(names, op), append(weights, w)
			total += w
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("load: the mix has no operation")
	}
	if err := c.Setup(ctx); err != nil {
		return nil, fmt.Errorf("load setup: %w", err)
	}

	// The pool: registered concurrently before the clock starts.
	known := &pool{}
	var seq atomic.Int64
	{
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		next := atomic.Int64{}
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= cfg.Pool {
						return
					}
					id := fmt.Sprintf("%s-p%d", cfg.RunID, i)
					a, err := registerPatiently(ctx, c, id, cfg.IDBase+i)
					if err == nil && !a.OK() {
						err = fmt.Errorf("register %s: %d %s", id, a.Status, a.Body)
					}
					if err != nil {
						select {
						case errc <- err:
						default:
						}
						return
					}
					known.add(id, a.Position.Commit)
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errc:
			return nil, fmt.Errorf("load pool: %w", err)
		default:
		}
	}

	rec := &recorder{interval: cfg.Interval, ops: map[string]*OpResult{}}
	for _, op := range Ops {
		rec.ops[op] = newOp(op)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x10ad))
	var inflight atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	rec.start = start
	end := start.Add(cfg.Duration)
	lastProgress := start

	send := func(op string, due time.Time, r *rand.Rand) {
		defer wg.Done()
		defer inflight.Add(-1)
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		n := int(seq.Add(1))
		var status int
		var err error
		var graphErr bool
		var body []byte
		switch op {
		case OpRegister:
			id := fmt.Sprintf("%s-r%d", cfg.RunID, n)
			var a Answer
			if a, err = c.Register(rctx, id, cfg.IDBase+cfg.Pool+n, "reg-"+id); err == nil {
				status, body = a.Status, a.Body
				if a.OK() {
					known.add(id, a.Position.Commit)
				}
			}
		case OpComplete:
			var a Answer
			id, _ := known.pick(r)
			a, err = c.Complete(rctx, id, fmt.Sprintf("%s-c%d", cfg.RunID, n))
			status, body = a.Status, a.Body
		case OpCertify:
			var a Answer
			num := fmt.Sprintf("%s-%d", strings.ToUpper(cfg.RunID), n)
			id, _ := known.pick(r)
			a, err = c.Certify(rctx, id, num, "cert-"+num)
			status, body = a.Status, a.Body
		case OpPopulation, OpTimeline, OpAudit:
			var g GraphQLAnswer
			id, pos := known.pick(r)
			minPos := fmt.Sprint(pos)
			switch op {
			case OpPopulation:
				g, err = c.GraphQL(rctx, c.HR, PopulationQuery, map[string]any{"trade": Trade})
			case OpTimeline:
				g, err = c.GraphQL(rctx, c.Auditor, TimelineQuery, map[string]any{"id": id}, "X-Min-Position", minPos)
			case OpAudit:
				g, err = c.GraphQL(rctx, c.Auditor, AuditQuery, map[string]any{"s": "craftsman-" + id}, "X-Min-Position", minPos)
			}
			status = g.Status
			graphErr = len(g.Errors) > 0
			if graphErr {
				body, _ = json.Marshal(g.Errors)
			}
		}
		lat := time.Since(due)
		switch {
		case err != nil:
			rec.record(op, due, lat, "error", false, err.Error())
		case graphErr:
			rec.record(op, due, lat, fmt.Sprintf("%d+errors", status), false, string(body))
		default:
			rec.record(op, due, lat, fmt.Sprint(status), status >= 200 && status < 300, string(body))
		}
	}

	scheduled := 0
	for i := 0; ; i++ {
		due := start.Add(time.Duration(math.Round(float64(i) * float64(time.Second) / cfg.Rate)))
		if !due.Before(end) || (cfg.Count > 0 && scheduled >= cfg.Count) || ctx.Err() != nil {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		x := rng.IntN(total)
		op := names[len(names)-1]
		for j, w := range weights {
			if x < w {
				op = names[j]
				break
			}
			x -= w
		}
		scheduled++
		if inflight.Load() >= int64(cfg.MaxInFlight) {
			rec.mu.Lock()
			rec.ops[op].Dropped++
			rec.mu.Unlock()
			continue
		}
		inflight.Add(1)
		wg.Add(1)
		go send(op, due, rand.New(rand.NewPCG(cfg.Seed, uint64(i))))
		if cfg.Progress != nil && time.Since(lastProgress) >= cfg.Interval {
			lastProgress = time.Now()
			cfg.Progress(progressLine(rec, start, inflight.Load()))
		}
	}
	wg.Wait()
	res := &Result{Config: cfg, Started: start, Elapsed: time.Since(start), Ops: rec.ops, Interval: cfg.Interval}
	res.Total = newOp("total")
	for _, op := range Ops {
		o := rec.ops[op]
		res.Total.Hist.Merge(o.Hist)
		res.Total.OK += o.OK
		res.Total.Failed += o.Failed
		res.Total.Dropped += o.Dropped
		for k, v := range o.Statuses {
			res.Total.Statuses[k] += v
		}
	}
	return res, nil
}

func progressLine(rec *recorder, start time.Time, inflight int64) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var ok, failed int64
	for _, o := range rec.ops {
		ok += o.OK
		failed += o.Failed
	}
	return fmt.Sprintf("%6.0fs  %8d ok  %6d failed  %4d in flight", time.Since(start).Seconds(), ok, failed, inflight)
}

// Table is the per-operation report as a Markdown table.
func (r *Result) Table() string {
	var sb strings.Builder
	d := r.Config.Duration
	fmt.Fprintf(&sb, "| operation | ok | failed | dropped | ok/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n")
	fmt.Fprintf(&sb, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(o *OpResult) {
		ms := func(q float64) string { return fmt.Sprintf("%.1f", float64(o.Quantile(q).Microseconds())/1000) }
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %.1f | %s | %s | %s | %s | %.1f |\n", o.Name, o.OK, o.Failed, o.Dropped,
			o.Throughput(d), ms(50), ms(90), ms(99), ms(99.9), float64(o.Hist.Max())/1000)
	}
	for _, op := range Ops {
		if o := r.Ops[op]; o.OK+o.Failed+o.Dropped > 0 {
			row(o)
		}
	}
	row(r.Total)
	var statuses []string
	for k, v := range r.Total.Statuses {
		statuses = append(statuses, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(statuses)
	fmt.Fprintf(&sb, "\nanswers: %s\n", strings.Join(statuses, " "))
	for _, op := range Ops {
		for st, sample := range r.Ops[op].Samples {
			if len(sample) > 300 {
				sample = sample[:300] + "…"
			}
			fmt.Fprintf(&sb, "first %s %s: %s\n", op, st, sample)
		}
	}
	return sb.String()
}
