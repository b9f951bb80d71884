// Command competition serves craftledger's competition service: competition
// definitions, published results with the promotion entitlements they
// grant, and the approval (核准) of those entitlements.
//
//	competition --store esdb://127.0.0.1:2113?tls=false --addr :8083 --jwt-key-file jwt.key
//
// Every flag has an environment variable (CRAFTLEDGER_STORE,
// CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE; without a key file the key is
// read from CRAFTLEDGER_AUTH_KEY). It serves the API of docs/services-2.md
// beside /healthz, /readyz (the store answers) and Prometheus /metrics, and
// shuts down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/services/competition"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "competition:", err)
		os.Exit(1)
	}
}

func env(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("competition", flag.ContinueOnError)
	store := fs.String("store", env(getenv, "CRAFTLEDGER_STORE", "esdb://127.0.0.1:2113?tls=false"), "event store connection string (env CRAFTLEDGER_STORE)")
	addr := fs.String("addr", env(getenv, "CRAFTLEDGER_ADDR", ":8083"), "HTTP listen address (env CRAFTLEDGER_ADDR)")
	keyFile := fs.String("jwt-key-file", env(getenv, "CRAFTLEDGER_JWT_KEY_FILE", ""), "file holding the JWT HMAC key (env CRAFTLEDGER_JWT_KEY_FILE; else env "+auth.DevKeyEnv+")")
	approvers := fs.String("approvers", env(getenv, "CRAFTLEDGER_APPROVERS", ""), "comma-separated organisations whose hr users may approve entitlements (empty: any hr)")
	verbose := fs.Bool("v", false, "log every request (debug level)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	key, err := auth.LoadKey(*keyFile, auth.DevKeyEnv)
	if err != nil {
		return err
	}
	st, err := eventstore.Open(ctx, eventstore.Config{URL: *store, Logger: logger})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	metrics := kit.NewMetrics("competition")
	svc, err := competition.New(st, time.Now, competition.Options{Approvers: splitList(*approvers)})
	if err != nil {
		return err
	}
	svc = competition.LoggingMiddleware(logger)(competition.InstrumentingMiddleware(metrics)(svc))

	mux := http.NewServeMux()
	kit.Operational(mux, metrics, st.Ping)
	mux.Handle("/", competition.NewHTTPHandler(svc, logger, key, competition.HTTPOptions{}))
	srv := kit.NewServer(*addr, kit.AccessLog(logger, mux))
	return kit.Run(ctx, logger, kit.HTTPActor("competition", srv, nil, logger))
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
