// Command graphql serves craftledger's read side on its own: it follows the
// event store's $all, keeps the read models in memory (snapshotted to
// --data) and serves the GraphQL API, the explorer, /healthz, /readyz,
// /metrics and the web page at /.
//
//	graphql --store esdb://127.0.0.1:2113?tls=false --addr :8080 \
//	        --jwt-key-file key.txt --data ./data/graphql
//
// Every flag can also come from the environment (CRAFTLEDGER_STORE,
// CRAFTLEDGER_GRAPHQL_ADDR or CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE,
// CRAFTLEDGER_GRAPHQL_DATA);
// without a key file the key is read from CRAFTLEDGER_AUTH_KEY.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/graphql/web"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(logger, os.Args[1:]); err != nil {
		logger.Error("graphql stopped", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("graphql", flag.ContinueOnError)
	store := fs.String("store", env("CRAFTLEDGER_STORE", "esdb://127.0.0.1:2113?tls=false"), "event store connection string (esdb://…)")
	addr := fs.String("addr", env("CRAFTLEDGER_GRAPHQL_ADDR", env("CRAFTLEDGER_ADDR", ":8080")), "HTTP listen address")
	keyFile := fs.String("jwt-key-file", env("CRAFTLEDGER_JWT_KEY_FILE", ""), "file holding the token signing key (else $"+auth.DevKeyEnv+")")
	data := fs.String("data", env("CRAFTLEDGER_GRAPHQL_DATA", ""), "directory for read-model snapshots (empty: no snapshots, replay on start)")
	maxPage := fs.Int("max-page-size", 100, "largest page a connection may ask for")
	maxDepth := fs.Int("max-depth", 12, "deepest query accepted")
	maxComplexity := fs.Int("max-complexity", 20000, "most expensive query accepted (fields × page sizes)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "graphql: craftledger's read side (projections + GraphQL API)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := auth.LoadKey(*keyFile, auth.DevKeyEnv)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := eventstore.Open(ctx, eventstore.Config{URL: *store, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Config{
		Store: st, Key: key, DataDir: *data, Logger: logger, Web: web.Handler(),
		Limits: server.Limits{MaxPageSize: *maxPage, MaxDepth: *maxDepth, MaxComplexity: *maxComplexity, Timeout: *timeout},
	})
	if err != nil {
		return err
	}
	pctx, stop := context.WithCancel(ctx)
	projector := kit.Actor{
		Name:      "projector",
		Execute:   func() error { return srv.Run(pctx) },
		Interrupt: func(error) { stop() },
	}
	httpSrv := kit.NewServer(*addr, kit.AccessLog(logger, srv.Handler()))
	return kit.Run(ctx, logger, projector, kit.HTTPActor("graphql", httpSrv, nil, logger))
}
