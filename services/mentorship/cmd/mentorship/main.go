// Command mentorship serves craftledger's mentorship service
// (master–apprentice pairings, sessions, completion and early ends,
// corrections, bulk back-fill) over a KurrentDB store.
//
//	mentorship --store esdb://127.0.0.1:2113?tls=false --addr :8084 --jwt-key-file jwt.key
//
// Every flag has an environment variable (CRAFTLEDGER_STORE,
// CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE, CRAFTLEDGER_MAX_APPRENTICES,
// ...), read after the command line; a value that does not parse stops
// start-up (pkg/servicekit). Without a key file the JWT key comes from
// CRAFTLEDGER_AUTH_KEY; --dev uses the public development key. It serves
// /healthz, /readyz (store reachable) and /metrics beside the API
// (docs/services-2.md) and shuts down gracefully on SIGINT/SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/mentorship"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "mentorship:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil.
func run(ctx context.Context, args []string) error {
	f := servicekit.NewFlags("mentorship")
	cfg := servicekit.ServiceFlags(f, "mentorship", ":8084")
	var maxApprentices int
	var minLevel string
	f.IntVar(&maxApprentices, "max-apprentices", "CRAFTLEDGER_MAX_APPRENTICES", mentorship.DefaultMaxActiveApprentices, "most active apprentices per master")
	f.StringVar(&minLevel, "min-master-level", "CRAFTLEDGER_MIN_MASTER_LEVEL", mentorship.DefaultMinMasterLevel.String(), "lowest level in the trade that allows mentoring")
	if err := f.Parse(args, os.LookupEnv); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	if maxApprentices < 1 {
		return fmt.Errorf("--max-apprentices: must be at least 1, not %d", maxApprentices)
	}
	lvl, err := events.ParseLevel(minLevel)
	if err != nil {
		return fmt.Errorf("--min-master-level: %w", err)
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

	svc, err := mentorship.New(st, time.Now, mentorship.Options{MinMasterLevel: lvl, MaxActiveApprentices: maxApprentices})
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("mentorship")
	svc = mentorship.LoggingMiddleware(logger)(mentorship.InstrumentingMiddleware(metrics)(svc))
	opts := mentorship.HTTPOptions{Backfill: cfg.Backfill(logger, metrics), Limiter: cfg.Limiter()}
	return cfg.Serve(ctx, logger, metrics, st.Ping, mentorship.NewHTTPHandler(svc, logger, key, opts))
}
