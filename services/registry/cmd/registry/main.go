// Command registry serves the registry service's HTTP JSON API (craftsmen,
// academies, issuers) over a KurrentDB store.
//
//	registry --store esdb://127.0.0.1:2113?tls=false --addr :8081 \
//	         --jwt-key-file jwt.key --national-id-key-file nid.key
//
// Every flag has an environment variable (CRAFTLEDGER_STORE, CRAFTLEDGER_ADDR,
// CRAFTLEDGER_JWT_KEY_FILE, CRAFTLEDGER_NATIONAL_ID_KEY_FILE, ...). Without
// a key file the JWT key comes from CRAFTLEDGER_AUTH_KEY; --dev uses the
// public development keys. It serves /healthz, /readyz (store reachable) and
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
	"github.com/craftledger/craftledger/services/registry"
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
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	store := fs.String("store", "", "KurrentDB connection string (default $CRAFTLEDGER_STORE, else "+defaultStore+")")
	addr := fs.String("addr", env("CRAFTLEDGER_ADDR", ":8081"), "HTTP listen address (CRAFTLEDGER_ADDR)")
	jwtKeyFile := fs.String("jwt-key-file", env("CRAFTLEDGER_JWT_KEY_FILE", ""), "file holding the JWT HMAC key (CRAFTLEDGER_JWT_KEY_FILE; else $"+auth.DevKeyEnv+")")
	nidKeyFile := fs.String("national-id-key-file", env("CRAFTLEDGER_NATIONAL_ID_KEY_FILE", ""), "file holding the national-ID hashing key (CRAFTLEDGER_NATIONAL_ID_KEY_FILE)")
	dev := fs.Bool("dev", env("CRAFTLEDGER_DEV", "") == "1", "use the public development keys (never in production) (CRAFTLEDGER_DEV=1)")
	keysDir := fs.String("personal-keys-dir", env("CRAFTLEDGER_PERSONAL_KEYS_DIR", ""), "seal personal data under per-craftsman keys kept in this directory; empty = store it in clear (CRAFTLEDGER_PERSONAL_KEYS_DIR)")
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

	key, nidKey, err := keys(*dev, *jwtKeyFile, *nidKeyFile)
	if err != nil {
		return err
	}
	st, err := eventstore.Open(ctx, eventstore.Config{URL: *store, Logger: logger, Breaker: eventstore.BreakerConfig{Name: "registry-store"}})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	opt := registry.Options{NationalIDKey: nidKey}
	if *keysDir != "" {
		kr, err := registry.NewDirKeyring(*keysDir)
		if err != nil {
			return err
		}
		opt.Keyring = kr
	}
	svc, err := registry.New(st, time.Now, opt)
	if err != nil {
		return err
	}
	metrics := kit.NewMetrics("registry")
	svc = registry.LoggingMiddleware(logger)(registry.InstrumentingMiddleware(metrics)(svc))
	opts := registry.HTTPOptions{Backfill: command.Backfill{Workers: *workers, Progress: func(s command.Summary) {
		logger.Info("back-fill progress", "lines", s.Lines, "ok", s.OK, "failed", s.Failed, "millis", s.Millis)
	}, ProgressEvery: 10000}}
	if *rate > 0 {
		opts.Limiter = kit.NewRateLimiter(*rate, int(*rate)+1)
	}
	mux := http.NewServeMux()
	kit.Operational(mux, metrics, st.Ping)
	mux.Handle("/", kit.AccessLog(logger, registry.NewHTTPHandler(svc, logger, key, opts)))
	return kit.Run(ctx, logger, kit.HTTPActor("registry", kit.NewServer(*addr, mux), nil, logger))
}

// minNationalIDKey is the shortest national-ID hashing key accepted.
const minNationalIDKey = 32

func keys(dev bool, jwtFile, nidFile string) (auth.Key, []byte, error) {
	var key auth.Key
	var err error
	switch {
	case jwtFile != "" || os.Getenv(auth.DevKeyEnv) != "":
		key, err = auth.LoadKey(jwtFile, auth.DevKeyEnv)
	case dev:
		key = auth.DevKey()
	default:
		err = fmt.Errorf("no JWT key: give --jwt-key-file, $%s or --dev", auth.DevKeyEnv)
	}
	if err != nil {
		return nil, nil, err
	}
	var nid []byte
	switch {
	case nidFile != "":
		b, err := os.ReadFile(nidFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read national ID key: %w", err)
		}
		nid = []byte(strings.TrimSpace(string(b)))
		if len(nid) < minNationalIDKey {
			return nil, nil, fmt.Errorf("national ID key %s: %d bytes, want at least %d", nidFile, len(nid), minNationalIDKey)
		}
	case dev:
		nid = []byte(registry.DevNationalIDKey)
	default:
		return nil, nil, fmt.Errorf("no national ID key: give --national-id-key-file or --dev")
	}
	return key, nid, nil
}
