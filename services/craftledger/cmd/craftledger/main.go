// Command craftledger is the all-in-one server: the embedded event store
// (or an external KurrentDB), every service, the GraphQL projector and
// server, on one HTTP listener. `make run` starts it as
//
//	craftledger --data ./data --demo
//
//	craftledger --data ./data --demo --dev
//
// Keys: the token key comes from --jwt-key-file or $CRAFTLEDGER_AUTH_KEY and
// the national-ID hashing key from --national-id-key-file (each at least 32
// bytes); only --dev (CRAFTLEDGER_DEV=1) lets either fall back to the public
// development keys, as the five services do. Without a key and without
// --dev it refuses to start.
//
// With --demo, the first start on an empty data directory loads the demo
// population through the real services (progress on stderr); later starts
// reuse it. It then prints the URLs and an example query, and stops cleanly
// on SIGINT/SIGTERM. Demo tokens (one per role, admin included) are printed
// and offered on the web page only when the token key is the public
// development key: tokens signed with a real key are never handed out.
//
// Every flag has an environment variable: CRAFTLEDGER_ADDR, CRAFTLEDGER_DATA,
// CRAFTLEDGER_STORE, CRAFTLEDGER_STORE_ADDR, CRAFTLEDGER_JWT_KEY_FILE,
// CRAFTLEDGER_NATIONAL_ID_KEY_FILE, CRAFTLEDGER_DEV=1, CRAFTLEDGER_DEMO=1,
// CRAFTLEDGER_DEMO_COUNT, CRAFTLEDGER_DEMO_SEED, CRAFTLEDGER_RATE,
// CRAFTLEDGER_BURST, CRAFTLEDGER_APPROVERS, CRAFTLEDGER_CREDENTIAL_KEY_FILE,
// CRAFTLEDGER_TLS_CERT_FILE, CRAFTLEDGER_TLS_KEY_FILE, CRAFTLEDGER_LOG_LEVEL,
// CRAFTLEDGER_PERSONAL_KEYS_DIR.
//
// Personal data (names, phones) is sealed under a key per craftsman kept
// in --personal-keys-dir (default <data>/keys), which the registry and
// the read side share in process: GraphQL and the web page show a name
// while its key exists; POST /api/registry/v1/craftsmen/{id}/forget
// destroys the key, and from then on the craftsman shows as erased,
// across restarts. Data recorded in clear before (a data directory from
// an earlier version) stays in clear and cannot be forgotten.
//
// --tls-cert and --tls-key (both or neither), as on the five services and
// bin/graphql, make the one listener serve HTTPS (TLS 1.2+) with that PEM
// certificate and key; the banner then prints https URLs. A half or broken
// pair stops start-up before the store is opened.
//
// Workers' signed credentials (/credentials/…, GraphQL verifyCredential)
// are signed with the Ed25519 key of --credential-key-file (PKCS #8 PEM, as
// `ledgerctl credential keygen` writes). With --dev and no file, a
// development key is generated once in <data>/dev-credential.key (its
// public key beside it, .pub) and the credentials name their issuer
// "craftledger (development)". With neither, no credentials are issued and
// verifyCredential answers FAILED_PRECONDITION.
//
// Only hr users of the organisations in --approvers (a comma list; default
// the demo's authorities, app.DefaultApprovers: mohrss, tj-hrss, gd-hrss,
// js-hrss, sd-hrss) may approve (核准) promotion entitlements; "*" lets
// every hr user approve.
//
// Every caller of /graphql and of the services' APIs is limited to --rate
// requests per second (default 50) in bursts of --burst (default 100);
// beyond that the answer is 429 with Retry-After. --rate 0 turns it off.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// DefaultRate and DefaultBurst are the per-caller limit unless --rate and
// --burst say otherwise: far above what a person at the web page, the tour
// or a script of curl commands sends, low enough that one token cannot
// monopolise the server. Bulk loads go through the back-fill endpoints (one
// request) or ledgerctl against the store.
const (
	DefaultRate  = 50
	DefaultBurst = 100
)

func main() {
	// The services' collector settings (GOGC and GOMEMLIMIT override them);
	// bin/graphql's are the same (graphql/server.TuneGC).
	servicekit.TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "craftledger:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends; the banner goes to stdout, progress and logs
// to stderr. A clean stop is nil.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Flags first, then each one's environment variable (servicekit, as the
	// services do): --help never prints a connection string with
	// credentials from the environment, and a variable that does not parse
	// stops start-up instead of meaning the default.
	f := servicekit.NewFlags("craftledger")
	var addr, data, store, storeAddr, jwtKeyFile, nidKeyFile, level, approvers, credKeyFile, tlsCert, tlsKey, keysDir string
	var dev, demo bool
	var count, seed, concurrency, burst int
	var rate float64
	f.StringVar(&addr, "addr", "CRAFTLEDGER_ADDR", app.DefaultAddr, "HTTP listen address of every API, GraphQL and the web page")
	f.StringVar(&data, "data", "CRAFTLEDGER_DATA", servicekit.DefaultDataDir, "data directory: embedded store in <data>/store, read-model snapshots in <data>/graphql")
	f.StringVar(&store, "store", "CRAFTLEDGER_STORE", "", "external KurrentDB connection string (esdb://…) instead of the embedded store")
	f.StringVar(&storeAddr, "store-addr", "CRAFTLEDGER_STORE_ADDR", app.DefaultStoreAddr, "gRPC address of the embedded store, a loopback one: it takes no credentials")
	f.StringVar(&jwtKeyFile, "jwt-key-file", "CRAFTLEDGER_JWT_KEY_FILE", "", "file holding the token signing key, at least 32 bytes (else $"+auth.DevKeyEnv+", else --dev)")
	f.StringVar(&nidKeyFile, "national-id-key-file", "CRAFTLEDGER_NATIONAL_ID_KEY_FILE", "", "file holding the national-ID hashing key, at least 32 bytes (else --dev)")
	f.StringVar(&keysDir, "personal-keys-dir", keyring.EnvDir, "", "directory of the per-craftsman keys sealing personal data (names); forget destroys a key (default <data>/keys; keep it out of the store's backups)")
	f.BoolVar(&dev, "dev", "CRAFTLEDGER_DEV", false, "use the public development keys for whichever key is not given — never in production")
	f.BoolVar(&demo, "demo", "CRAFTLEDGER_DEMO", false, "load the demo population on first start; with the development token key, also print demo tokens and offer them on the web page")
	f.IntVar(&count, "demo-count", "CRAFTLEDGER_DEMO_COUNT", 3000, "craftsmen in the demo population")
	f.IntVar(&seed, "demo-seed", "CRAFTLEDGER_DEMO_SEED", 1, "seed of the demo population")
	f.IntVar(&concurrency, "demo-concurrency", "", 8, "craftsmen written at once while loading the demo")
	f.Float64Var(&rate, "rate", "CRAFTLEDGER_RATE", DefaultRate, "requests per second per caller (token subject, else IP) on /graphql and the services' APIs, 0 = unlimited")
	f.IntVar(&burst, "burst", "CRAFTLEDGER_BURST", DefaultBurst, "requests a caller may send at once above --rate")
	f.StringVar(&approvers, "approvers", "CRAFTLEDGER_APPROVERS", strings.Join(app.DefaultApprovers(), ","), "comma list of the human-resources authorities whose hr users may approve promotion entitlements; * = any hr user")
	f.StringVar(&credKeyFile, "credential-key-file", "CRAFTLEDGER_CREDENTIAL_KEY_FILE", "", "Ed25519 key (PKCS #8 PEM) signing workers' credentials (else with --dev a development key in <data>/"+DevCredentialKeyFile+", else no credentials)")
	f.StringVar(&tlsCert, "tls-cert", "CRAFTLEDGER_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS; with --tls-key")
	f.StringVar(&tlsKey, "tls-key", "CRAFTLEDGER_TLS_KEY_FILE", "", "PEM private key of --tls-cert")
	f.StringVar(&level, "log-level", "CRAFTLEDGER_LOG_LEVEL", "warn", "debug, info, warn or error")
	fs := f.FlagSet()
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "craftledger: the whole system in one process (store, services, GraphQL, web page)\n\nUsage: craftledger [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	// An empty variable counts as unset (CRAFTLEDGER_STORE= means the
	// embedded store, as in scripts/smoke.sh).
	lookup := func(k string) (string, bool) {
		v, ok := os.LookupEnv(k)
		return v, ok && v != ""
	}
	if err := f.Parse(args, lookup); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case rate < 0:
		return errs.E(errs.InvalidArgument, "--rate %v: must be 0 (unlimited) or more", rate)
	case rate > 0 && burst < 1:
		return errs.E(errs.InvalidArgument, "--burst %d: must be at least 1", burst)
	case count < 1:
		return errs.E(errs.InvalidArgument, "--demo-count %d: must be at least 1", count)
	case seed < 0:
		return errs.E(errs.InvalidArgument, "--demo-seed %d: must be 0 or more", seed)
	case concurrency < 1:
		return errs.E(errs.InvalidArgument, "--demo-concurrency %d: must be at least 1", concurrency)
	}
	if err := servicekit.CheckTLS(tlsCert, tlsKey); err != nil {
		return err
	}
	approverList, err := competition.ParseApprovers(approvers)
	if err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	key, nidKey, err := keys(dev, jwtKeyFile, nidKeyFile)
	if err != nil {
		return err
	}
	devKey := app.IsDevKey(key)
	credKey, credIssuer, err := credentialKey(dev, credKeyFile, data, stderr)
	if err != nil {
		return err
	}

	// Demo tokens are readable by anyone who loads the web page, so they
	// are only minted under the public development key, where anyone can
	// mint them anyway.
	var tokens []auth.DevToken
	if demo && devKey {
		if tokens, err = auth.DevTokens(key, app.TokenTTL, nil); err != nil {
			return err
		}
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	a, err := app.New(ctx, app.Config{DataDir: data, Addr: addr, StoreURL: store, StoreAddr: storeAddr,
		Key: key, NationalIDKey: nidKey, PersonalKeysDir: keysDir, Logger: logger, DemoTokens: tokens, RateLimit: rate, RateBurst: burst,
		Approvers: approverList, CredentialKey: credKey, CredentialIssuer: credIssuer,
		TLSCertFile: tlsCert, TLSKeyFile: tlsKey})
	if err != nil {
		return err
	}
	defer a.Close()

	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	fmt.Fprintf(stderr, "craftledger: serving on %s, store %s\n", a.BaseURL(), a.StoreURL())
	if demo {
		info, loaded, err := a.LoadDemo(ctx, generate.Config{Craftsmen: count, Seed: uint64(seed), Concurrency: concurrency}, stderr)
		switch {
		case err != nil && ctx.Err() != nil:
			fmt.Fprintln(stderr, "craftledger: demo load interrupted; the next start resumes it")
			return <-done
		case err != nil:
			stop()
			<-done
			return err
		case loaded:
			fmt.Fprintf(stderr, "craftledger: demo population loaded: %d craftsmen, %d academies, %d events in %.1fs (%.0f events/s)\n",
				info.Stats.Craftsmen, info.Stats.Academies, info.Stats.Events, info.Stats.Elapsed.Seconds(), float64(info.Stats.Events)/info.Stats.Elapsed.Seconds())
		default:
			fmt.Fprintf(stderr, "craftledger: reusing the demo population in %s (%d craftsmen, seed %d, loaded %s)\n",
				data, info.Craftsmen, info.Seed, info.CompletedAt.Format("2006-01-02 15:04 MST"))
			if info.Craftsmen != count || info.Seed != uint64(seed) {
				fmt.Fprintf(stderr, "craftledger: --demo-count %d / --demo-seed %d apply to a new data directory only (or add them with bin/ledgerctl generate)\n", count, uint64(seed))
			}
		}
		fmt.Fprintln(stderr, "craftledger: waiting for the projection to catch up …")
		if err := a.WaitCaughtUp(ctx); err != nil && ctx.Err() == nil {
			fmt.Fprintln(stderr, "craftledger: projection not caught up yet:", err)
		}
	}
	if ctx.Err() == nil {
		a.Banner(stdout, tokens, devKey)
	}
	return <-done
}

// DevCredentialKeyFile is the development credential key --dev generates
// in the data directory.
const DevCredentialKeyFile = "dev-credential.key"

// credentialKey loads the credential signing key from file; with --dev and
// no file it uses (generating it the first time) the data directory's
// development key, and names the issuer as development. Neither: no key.
func credentialKey(dev bool, file, data string, stderr io.Writer) (ed25519.PrivateKey, string, error) {
	switch {
	case file != "":
		k, err := credential.LoadPrivateKey(file)
		if err != nil {
			return nil, "", fmt.Errorf("credential key: %w", err)
		}
		return k, "", nil
	case dev:
		path := filepath.Join(data, DevCredentialKeyFile)
		k, err := credential.LoadPrivateKey(path)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(data, 0o755); err != nil {
				return nil, "", fmt.Errorf("credential key: %w", err)
			}
			k, err = credential.GenerateKeyFile(path)
		}
		if err != nil {
			return nil, "", fmt.Errorf("development credential key: %w", err)
		}
		fmt.Fprintf(stderr, "craftledger: DEVELOPMENT credential key %s (%s) — credentials it signs are for development only; give --credential-key-file in production\n",
			path, credential.DID(k.Public().(ed25519.PublicKey)))
		return k, "craftledger (development)", nil
	}
	return nil, "", nil
}

// keys loads the token key (--jwt-key-file, else $CRAFTLEDGER_AUTH_KEY) and
// the national-ID hashing key (--national-id-key-file), each at least 32
// bytes. A key that is not given falls back to the public development key
// only with --dev; otherwise start-up fails and says what to give.
func keys(dev bool, jwtFile, nidFile string) (auth.Key, []byte, error) {
	var key auth.Key
	var err error
	switch {
	case jwtFile != "" || os.Getenv(auth.DevKeyEnv) != "":
		if key, err = auth.LoadKey(jwtFile, auth.DevKeyEnv); err != nil {
			return nil, nil, fmt.Errorf("token key: %w", err)
		}
	case dev:
		key = auth.DevKey()
	default:
		return nil, nil, errs.E(errs.InvalidArgument,
			"no token key: give --jwt-key-file (CRAFTLEDGER_JWT_KEY_FILE) or $%s, or --dev (CRAFTLEDGER_DEV=1) for the public development keys", auth.DevKeyEnv)
	}
	var nid []byte
	switch {
	case nidFile != "":
		b, err := os.ReadFile(nidFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read national-ID key: %w", err)
		}
		nid = []byte(strings.TrimSpace(string(b)))
		if len(nid) < auth.MinKeyLen {
			return nil, nil, errs.E(errs.InvalidArgument, "national-ID key in %s must be at least %d bytes, got %d", nidFile, auth.MinKeyLen, len(nid))
		}
	case dev:
		nid = []byte(registry.DevNationalIDKey)
	default:
		return nil, nil, errs.E(errs.InvalidArgument,
			"no national-ID key: give --national-id-key-file (CRAFTLEDGER_NATIONAL_ID_KEY_FILE), or --dev (CRAFTLEDGER_DEV=1) for the public development keys")
	}
	return key, nid, nil
}
