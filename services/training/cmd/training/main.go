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
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/training"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "training:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil. The
// flags and their environment variables are servicekit's (read after
// parsing: --help never shows $CRAFTLEDGER_STORE, a malformed variable
// stops start-up).
func run(ctx context.Context, args []string) error {
	f := servicekit.NewFlags("training")
	cfg := servicekit.ServiceFlags(f, "training", ":8082")
	if err := f.Parse(args, os.LookupEnv); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	logger, key, err := cfg.LoggerKey(os.Stderr)
	if err != nil {
		return err
	}
	st, err := cfg.OpenStore(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	svc, err := training.New(st, time.Now, training.Options{})
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("training")
	svc = training.LoggingMiddleware(logger)(training.InstrumentingMiddleware(metrics)(svc))
	opts := training.HTTPOptions{Backfill: cfg.Backfill(logger, metrics), Limiter: cfg.Limiter()}
	return cfg.Serve(ctx, logger, metrics, st.Ping, training.NewHTTPHandler(svc, logger, key, opts))
}
