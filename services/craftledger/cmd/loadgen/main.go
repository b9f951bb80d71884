// Command loadgen is craftledger's load harness: an open-loop mixed
// workload at a target rate through the real HTTP services and GraphQL —
// craftsman registrations, training completions, certificates, HR
// population queries, timelines and audit reads — reporting per-operation
// throughput and latency percentiles (HDR histograms) and drawing latency
// over time as an SVG.
//
//	loadgen --rate 200 --duration 3m --svg docs/img/load-latency.svg
//	loadgen --target http://127.0.0.1:8080 --rate 100 --duration 30s
//
// Without --target it starts the all-in-one server in this process on a
// temporary data directory (embedded store, loopback ports, development
// keys). With --target it drives a running all-in-one server, which must
// accept tokens signed with the development key (or the key in
// --jwt-key-file). Only loopback targets are accepted.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of a running all-in-one server on loopback (empty: start one in-process)")
	rate := fs.Float64("rate", 100, "operations per second, open loop")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	count := fs.Int("count", 0, "stop after this many operations (0: no limit)")
	poolN := fs.Int("pool", 200, "craftsmen registered before the clock starts")
	demo := fs.Int("demo", 0, "in-process only: load a demo population of this many craftsmen first")
	mix := fs.String("mix", "", "weights, e.g. register=10,complete=35,certify=10,population=10,timeline=25,audit=10 (default those)")
	inflight := fs.Int("max-inflight", 512, "requests outstanding at once; due requests beyond it are dropped and counted")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	svg := fs.String("svg", "", "write the latency-over-time graph (SVG) here")
	out := fs.String("out", "", "also write the Markdown report here")
	jsonOut := fs.String("json", "", "write a JSON summary here")
	data := fs.String("data", "", "in-process only: data directory (default: a temporary one, removed afterwards)")
	keyFile := fs.String("jwt-key-file", "", "key the tokens are signed with (default: the development key)")
	seed := fs.Uint64("seed", 1, "seed of the operation mix")
	logLevel := fs.String("log-level", "", "in-process only: the server's logs on stderr at this level (debug, info, warn, error; empty: none)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "loadgen: open-loop mixed workload against craftledger (loopback only)\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	weights, err := parseMix(*mix)
	if err != nil {
		return err
	}
	key := auth.DevKey()
	if *keyFile != "" {
		if key, err = auth.LoadKey(*keyFile, ""); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	base := *target
	where := base
	if base == "" {
		dir := *data
		if dir == "" {
			if dir, err = os.MkdirTemp("", "loadgen-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		fmt.Fprintf(os.Stderr, "loadgen: starting the all-in-one in-process on %s\n", dir)
		var logger *slog.Logger
		if *logLevel != "" {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
		}
		l, err := load.StartLocal(ctx, dir, "", *demo, os.Stderr, logger)
		if err != nil {
			return err
		}
		defer l.Close()
		base = l.App.BaseURL()
		where = "in-process all-in-one (embedded store, fsync on)"
	} else if err := loopbackOnly(base); err != nil {
		return err
	}
	c, err := load.NewClient(base, key, "loadgen-academy", *duration+time.Hour)
	if err != nil {
		return err
	}
	cfg := load.Config{Rate: *rate, Duration: *duration, Count: *count, Pool: *poolN, Mix: weights,
		MaxInFlight: *inflight, Timeout: *timeout, Seed: *seed,
		Progress: func(s string) { fmt.Fprintln(os.Stderr, s) }}
	fmt.Fprintf(os.Stderr, "loadgen: %s; registering %d craftsmen, then %.0f ops/s for %s\n", base, cfg.Pool, cfg.Rate, cfg.Duration)
	before := sample()
	res, err := load.Run(ctx, c, cfg)
	if err != nil {
		return err
	}
	after := sample()
	header := fmt.Sprintf("loadgen %s\n%s, %s; %d CPUs: %s; target: %s\n%.0f ops/s scheduled for %s (open loop), pool %d craftsmen, mix %s\n%s\n",
		strings.Join(args, " "), res.Started.UTC().Format(time.RFC3339), runtime.Version(), runtime.NumCPU(), cpuModel(), where,
		cfg.Rate, cfg.Duration, cfg.Pool, mixString(weights), after.since(before, *target == ""))
	report := header + "\n" + res.Table()
	fmt.Print(report)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if *svg != "" {
		f, err := os.Create(*svg)
		if err != nil {
			return err
		}
		title := fmt.Sprintf("craftledger loadgen — %.0f ops/s for %s, %s, %d CPUs", cfg.Rate, cfg.Duration, res.Started.UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU())
		if err := res.WriteSVG(f, title); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "loadgen: graph written to %s\n", *svg)
	}
	if *jsonOut != "" {
		type row struct {
			Op                         string
			OK, Failed, Dropped        int64
			PerSecond                  float64
			P50ms, P90ms, P99ms, Maxms float64
			Statuses                   map[string]int
		}
		var rows []row
		for _, o := range append(opsOf(res), res.Total) {
			ms := func(q float64) float64 { return float64(o.Quantile(q).Microseconds()) / 1000 }
			rows = append(rows, row{o.Name, o.OK, o.Failed, o.Dropped, o.Throughput(cfg.Duration), ms(50), ms(90), ms(99), float64(o.Hist.Max()) / 1000, o.Statuses})
		}
		b, _ := json.MarshalIndent(map[string]any{"started": res.Started.UTC(), "rate": cfg.Rate, "duration": cfg.Duration.String(), "ops": rows}, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.Total.OK == 0 {
		return fmt.Errorf("no operation succeeded")
	}
	return nil
}

func opsOf(r *load.Result) []*load.OpResult {
	var out []*load.OpResult
	for _, op := range load.Ops {
		out = append(out, r.Ops[op])
	}
	return out
}

func parseMix(s string) (map[string]int, error) {
	if s == "" {
		return load.DefaultMix, nil
	}
	m := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("--mix: %q is not op=weight", part)
		}
		if !slices.Contains(load.Ops, name) {
			return nil, fmt.Errorf("--mix: unknown operation %q (know %s)", name, strings.Join(load.Ops, ", "))
		}
		m[name] = n
	}
	return m, nil
}

func mixString(m map[string]int) string {
	var parts []string
	for _, op := range load.Ops {
		if m[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op, m[op]))
		}
	}
	return strings.Join(parts, ",")
}

// loopbackOnly refuses targets that are not on this machine's loopback.
func loopbackOnly(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--target %q is not a URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--target %s: only loopback targets are allowed", base)
}

// usage is what this process and the machine did, sampled around the run.
type usage struct {
	at       time.Time
	cpu      time.Duration // user + system CPU of this process
	gcPause  time.Duration
	gcCount  uint32
	loadavg1 string
}

func sample() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u := usage{at: time.Now(), cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		gcPause: time.Duration(ms.PauseTotalNs), gcCount: ms.NumGC}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		u.loadavg1 = strings.Fields(string(b))[0]
	}
	return u
}

// since describes the run between two samples: the load average before
// and after, and (in-process) the CPU this process used — harness and
// server together — and its garbage collections.
func (u usage) since(b usage, inProcess bool) string {
	s := fmt.Sprintf("machine load average %s before, %s after", b.loadavg1, u.loadavg1)
	if inProcess {
		wall := u.at.Sub(b.at)
		cpu := u.cpu - b.cpu
		s += fmt.Sprintf("; this process (harness + server): %.1f CPU-s in %.1f s (%.2f cores), %d GCs, %.0f ms of GC pauses",
			cpu.Seconds(), wall.Seconds(), cpu.Seconds()/wall.Seconds(), u.gcCount-b.gcCount, float64(u.gcPause-b.gcPause)/1e6)
	}
	return s
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
