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
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/registry"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGINT/SIGTERM; a clean stop is nil. The
// common flags and their environment variables are servicekit's (read
// after parsing: --help never shows $CRAFTLEDGER_STORE, a malformed
// variable stops start-up); the registry adds its two keys.
func run(ctx context.Context, args []string) error {
	f := servicekit.NewFlags("registry")
	cfg := servicekit.ServiceFlags(f, "registry", ":8081")
	var nidKeyFile, keysDir string
	f.StringVar(&nidKeyFile, "national-id-key-file", "CRAFTLEDGER_NATIONAL_ID_KEY_FILE", "", "file holding the national-ID hashing key, at least 32 bytes")
	f.StringVar(&keysDir, "personal-keys-dir", keyring.EnvDir, "", "seal personal data under per-craftsman keys kept in this directory; empty = store it in clear")
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
	nidKey, err := nationalIDKey(cfg.Dev, nidKeyFile)
	if err != nil {
		return err
	}
	st, err := cfg.OpenStore(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	opt := registry.Options{NationalIDKey: nidKey}
	if keysDir != "" {
		kr, err := registry.NewDirKeyring(keysDir)
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
	opts := registry.HTTPOptions{Backfill: cfg.Backfill(logger, metrics), Limiter: cfg.Limiter()}
	return cfg.Serve(ctx, logger, metrics, st.Ping, registry.NewHTTPHandler(svc, logger, key, opts))
}

// minNationalIDKey is the shortest national-ID hashing key accepted.
const minNationalIDKey = 32

// nationalIDKey reads the national-ID hashing key from file (at least
// minNationalIDKey bytes, surrounding white space trimmed), or the public
// development key with --dev.
func nationalIDKey(dev bool, file string) ([]byte, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read national ID key: %w", err)
		}
		nid := []byte(strings.TrimSpace(string(b)))
		if len(nid) < minNationalIDKey {
			return nil, fmt.Errorf("national ID key %s: %d bytes, want at least %d", file, len(nid), minNationalIDKey)
		}
		return nid, nil
	case dev:
		return []byte(registry.DevNationalIDKey), nil
	}
	return nil, fmt.Errorf("no national ID key: give --national-id-key-file or --dev")
}
