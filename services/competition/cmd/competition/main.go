// Command competition serves craftledger's competition service (competition
// definitions, published results with the promotion entitlements they
// grant, the approval of those entitlements, corrections of placements)
// over a KurrentDB store.
//
//	competition --store esdb://127.0.0.1:2113?tls=false --addr :8083 --jwt-key-file jwt.key --approvers mohrss
//
// Every flag has an environment variable (CRAFTLEDGER_STORE,
// CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE, CRAFTLEDGER_APPROVERS, ...),
// read after the command line; a value that does not parse stops start-up
// (pkg/servicekit). Without a key file the JWT key comes from
// CRAFTLEDGER_AUTH_KEY; --dev uses the public development key.
//
// --approvers / CRAFTLEDGER_APPROVERS is required: the comma list of the
// human-resources authorities whose hr users may approve (核准) promotion
// entitlements (any other organisation's hr user gets 403), or * for any
// hr user; without it the binary does not start.
//
// It serves /healthz, /readyz (store reachable) and /metrics beside the
// API (docs/services-2.md) and shuts down gracefully on SIGINT/SIGTERM.
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
	"github.com/craftledger/craftledger/services/competition"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "competition:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil.
func run(ctx context.Context, args []string) error {
	f := servicekit.NewFlags("competition")
	cfg := servicekit.ServiceFlags(f, "competition", ":8083")
	var approvers string
	f.StringVar(&approvers, "approvers", "CRAFTLEDGER_APPROVERS", "", "comma list of the organisations (human-resources authorities) whose hr users may approve entitlements; * = any hr user; required")
	if err := f.Parse(args, os.LookupEnv); err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	approverList, err := competition.ParseApprovers(approvers)
	if err != nil {
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

	svc, err := competition.New(st, time.Now, competition.Options{Approvers: approverList})
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("competition")
	svc = competition.LoggingMiddleware(logger)(competition.InstrumentingMiddleware(metrics)(svc))
	opts := competition.HTTPOptions{Backfill: cfg.Backfill(logger, metrics), Limiter: cfg.Limiter()}
	return cfg.Serve(ctx, logger, metrics, st.Ping, competition.NewHTTPHandler(svc, logger, key, opts))
}
