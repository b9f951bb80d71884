// Command training serves the training service's HTTP JSON API (enrolments,
// completions, graduations, titles, assessments, certificates and their bulk
// back-fill) over a KurrentDB store.
//
//	training --store esdb://127.0.0.1:2113?tls=false --addr :8082 --jwt-key-file jwt.key
//
// Every flag has an environment variable (CRAFTLEDGER_STORE, CRAFTLEDGER_ADDR,
// CRAFTLEDGER_JWT_KEY_FILE, ...). Without a key file the JWT key comes from
// CRAFTLEDGER_AUTH_KEY; --dev uses the public development key. It serves /healthz, /readyz (store reachable) and
// /metrics beside the API and shuts down gracefully on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/services/training"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envFloat is the number in $name, def when unset; a value that is not a
// number is an error (start-up fails rather than run on the default).
func envFloat(name string, def float64) (float64, error) {
	v, ok := os.LookupEnv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("$%s: %q is not a number", name, v)
	}
	return f, nil
}

// defaultStore is the store used when neither --store nor $CRAFTLEDGER_STORE
// is given. The environment's value is not shown as the flag's default in
// --help: a connection string may carry credentials.
const defaultStore = "esdb://127.0.0.1:2113?tls=false"

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "training:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("training", flag.ContinueOnError)
	store := fs.String("store", "", "KurrentDB connection string (default $CRAFTLEDGER_STORE, else "+defaultStore+")")
	addr := fs.String("addr", env("CRAFTLEDGER_ADDR", ":8082"), "HTTP listen address (CRAFTLEDGER_ADDR)")
	jwtKeyFile := fs.String("jwt-key-file", env("CRAFTLEDGER_JWT_KEY_FILE", ""), "file holding the JWT HMAC key (CRAFTLEDGER_JWT_KEY_FILE; else $"+auth.DevKeyEnv+")")
	envWorkers, err := envFloat("CRAFTLEDGER_BACKFILL_WORKERS", 16)
	if err != nil {
		return err
	}
	if envWorkers != float64(int(envWorkers)) || envWorkers < 1 {
		return fmt.Errorf("$CRAFTLEDGER_BACKFILL_WORKERS: %v is not a positive whole number", envWorkers)
	}
	envRate, err := envFloat("CRAFTLEDGER_RATE", 0)
	if err != nil {
		return err
	}
	workers := fs.Int("backfill-workers", int(envWorkers), "concurrent commands per back-fill request (CRAFTLEDGER_BACKFILL_WORKERS)")
	dev := fs.Bool("dev", env("CRAFTLEDGER_DEV", "") == "1", "use the public development keys (never in production) (CRAFTLEDGER_DEV=1)")
	rate := fs.Float64("rate", envRate, "requests per second per caller, 0 = unlimited (CRAFTLEDGER_RATE)")
	level := fs.String("log-level", env("CRAFTLEDGER_LOG_LEVEL", "info"), "debug, info, warn or error (CRAFTLEDGER_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *store == "" {
		*store = env("CRAFTLEDGER_STORE", defaultStore)
	}
	if *workers < 1 {
		return fmt.Errorf("--backfill-workers: %d, want at least 1", *workers)
	}
	if *rate < 0 {
		return fmt.Errorf("--rate: %v, want 0 (unlimited) or more", *rate)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	key, err := jwtKey(*dev, *jwtKeyFile)
	if err != nil {
		return err
	}
	st, err := eventstore.Open(ctx, eventstore.Config{URL: *store, Logger: logger, Breaker: eventstore.BreakerConfig{Name: "training-store"}})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	svc, err := training.New(st, time.Now, training.Options{})
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("training")
	svc = training.LoggingMiddleware(logger)(training.InstrumentingMiddleware(metrics)(svc))
	opts := training.HTTPOptions{Backfill: command.Backfill{Workers: *workers, Progress: func(s command.Summary) {
		logger.Info("back-fill progress", "lines", s.Lines, "ok", s.OK, "failed", s.Failed, "millis", s.Millis)
	}, ProgressEvery: 10000}}
	if *rate > 0 {
		opts.Limiter = kit.NewRateLimiter(*rate, int(*rate)+1)
	}
	mux := http.NewServeMux()
	kit.Operational(mux, metrics, st.Ping)
	mux.Handle("/", kit.AccessLog(logger, training.NewHTTPHandler(svc, logger, key, opts)))
	return kit.Run(ctx, logger, kit.HTTPActor("training", kit.NewServer(*addr, mux), nil, logger))
}

func jwtKey(dev bool, file string) (auth.Key, error) {
	switch {
	case file != "" || os.Getenv(auth.DevKeyEnv) != "":
		return auth.LoadKey(file, auth.DevKeyEnv)
	case dev:
		return auth.DevKey(), nil
	}
	return nil, fmt.Errorf("no JWT key: give --jwt-key-file, $%s or --dev", auth.DevKeyEnv)
}
