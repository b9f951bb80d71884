// Command craftledger is the all-in-one server: the embedded event store
// (or an external KurrentDB), every service, the GraphQL projector and
// server, on one HTTP listener. `make run` starts it as
//
//	craftledger --data ./data --demo
//
// With --demo, the first start on an empty data directory loads the demo
// population through the real services (progress on stderr); later starts
// reuse it. It then prints the URLs, a demo token per role and an example
// query, and stops cleanly on SIGINT/SIGTERM.
//
// Every flag has an environment variable: CRAFTLEDGER_ADDR, CRAFTLEDGER_DATA,
// CRAFTLEDGER_STORE, CRAFTLEDGER_STORE_ADDR, CRAFTLEDGER_JWT_KEY_FILE,
// CRAFTLEDGER_NATIONAL_ID_KEY_FILE, CRAFTLEDGER_DEMO=1, CRAFTLEDGER_DEMO_COUNT,
// CRAFTLEDGER_DEMO_SEED, CRAFTLEDGER_LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "craftledger:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("craftledger", flag.ContinueOnError)
	addr := fs.String("addr", env("CRAFTLEDGER_ADDR", app.DefaultAddr), "HTTP listen address of every API, GraphQL and the web page (CRAFTLEDGER_ADDR)")
	data := fs.String("data", env("CRAFTLEDGER_DATA", "./data"), "data directory: embedded store in <data>/store, read-model snapshots in <data>/graphql (CRAFTLEDGER_DATA)")
	store := fs.String("store", env("CRAFTLEDGER_STORE", ""), "external KurrentDB connection string (esdb://…) instead of the embedded store (CRAFTLEDGER_STORE)")
	storeAddr := fs.String("store-addr", env("CRAFTLEDGER_STORE_ADDR", app.DefaultStoreAddr), "gRPC address of the embedded store (CRAFTLEDGER_STORE_ADDR)")
	jwtKeyFile := fs.String("jwt-key-file", env("CRAFTLEDGER_JWT_KEY_FILE", ""), "file holding the token signing key (CRAFTLEDGER_JWT_KEY_FILE; else $"+auth.DevKeyEnv+", else the public development key)")
	nidKeyFile := fs.String("national-id-key-file", env("CRAFTLEDGER_NATIONAL_ID_KEY_FILE", ""), "file holding the national-ID hashing key (CRAFTLEDGER_NATIONAL_ID_KEY_FILE; else the public development key)")
	demo := fs.Bool("demo", env("CRAFTLEDGER_DEMO", "") == "1", "load the demo population on first start and print demo tokens (CRAFTLEDGER_DEMO=1)")
	count := fs.Int("demo-count", envInt("CRAFTLEDGER_DEMO_COUNT", 3000), "craftsmen in the demo population (CRAFTLEDGER_DEMO_COUNT)")
	seed := fs.Uint64("demo-seed", uint64(envInt("CRAFTLEDGER_DEMO_SEED", 1)), "seed of the demo population (CRAFTLEDGER_DEMO_SEED)")
	concurrency := fs.Int("demo-concurrency", 8, "craftsmen written at once while loading the demo")
	level := fs.String("log-level", env("CRAFTLEDGER_LOG_LEVEL", "warn"), "debug, info, warn or error (CRAFTLEDGER_LOG_LEVEL)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "craftledger: the whole system in one process (store, services, GraphQL, web page)\n\nUsage: craftledger [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	key, devKey, err := loadKey(*jwtKeyFile)
	if err != nil {
		return err
	}
	nidKey := []byte(registry.DevNationalIDKey)
	if *nidKeyFile != "" {
		b, err := os.ReadFile(*nidKeyFile)
		if err != nil {
			return fmt.Errorf("read national ID key: %w", err)
		}
		nidKey = []byte(strings.TrimSpace(string(b)))
	}

	var tokens []auth.DevToken
	if *demo {
		if tokens, err = auth.DevTokens(key, app.TokenTTL, nil); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, app.Config{DataDir: *data, Addr: *addr, StoreURL: *store, StoreAddr: *storeAddr,
		Key: key, NationalIDKey: nidKey, Logger: logger, DemoTokens: tokens})
	if err != nil {
		return err
	}
	defer a.Close()

	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	fmt.Fprintf(os.Stderr, "craftledger: serving on %s, store %s\n", a.BaseURL(), a.StoreURL())
	if *demo {
		info, loaded, err := a.LoadDemo(ctx, generate.Config{Craftsmen: *count, Seed: *seed, Concurrency: *concurrency}, os.Stderr)
		switch {
		case err != nil && ctx.Err() != nil:
			fmt.Fprintln(os.Stderr, "craftledger: demo load interrupted; the next start resumes it")
			return <-done
		case err != nil:
			stop()
			<-done
			return err
		case loaded:
			fmt.Fprintf(os.Stderr, "craftledger: demo population loaded: %d craftsmen, %d academies, %d events in %.1fs (%.0f events/s)\n",
				info.Stats.Craftsmen, info.Stats.Academies, info.Stats.Events, info.Stats.Elapsed.Seconds(), float64(info.Stats.Events)/info.Stats.Elapsed.Seconds())
		default:
			fmt.Fprintf(os.Stderr, "craftledger: reusing the demo population in %s (%d craftsmen, seed %d, loaded %s)\n",
				*data, info.Craftsmen, info.Seed, info.CompletedAt.Format("2006-01-02 15:04 MST"))
			if info.Craftsmen != *count || info.Seed != *seed {
				fmt.Fprintf(os.Stderr, "craftledger: --demo-count %d / --demo-seed %d apply to a new data directory only (or add them with bin/ledgerctl generate)\n", *count, *seed)
			}
		}
		fmt.Fprintln(os.Stderr, "craftledger: waiting for the projection to catch up …")
		if err := a.WaitCaughtUp(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "craftledger: projection not caught up yet:", err)
		}
	}
	if ctx.Err() == nil {
		a.Banner(os.Stdout, tokens, devKey)
	}
	return <-done
}

// loadKey reads the token key from a file or $CRAFTLEDGER_AUTH_KEY, and
// falls back to the public development key (reported by devKey).
func loadKey(file string) (key auth.Key, devKey bool, err error) {
	if file != "" || os.Getenv(auth.DevKeyEnv) != "" {
		key, err = auth.LoadKey(file, auth.DevKeyEnv)
		return key, false, err
	}
	return auth.DevKey(), true, nil
}
