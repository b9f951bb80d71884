// Command graphql serves craftledger's read side on its own: it follows the
// event store's $all, keeps the read models in memory (snapshotted to
// --data) and serves the GraphQL API, the explorer, /healthz, /readyz,
// /metrics and the web page at /.
//
//	graphql --store 'esdb://127.0.0.1:2113?tls=false' --addr :8080 \
//	        --jwt-key-file key.txt --data ./data/graphql
//
// Every flag can also come from the environment (CRAFTLEDGER_STORE,
// CRAFTLEDGER_GRAPHQL_ADDR or CRAFTLEDGER_ADDR, CRAFTLEDGER_JWT_KEY_FILE,
// CRAFTLEDGER_GRAPHQL_DATA, CRAFTLEDGER_RATE, CRAFTLEDGER_BURST,
// CRAFTLEDGER_CREDENTIAL_KEY_FILE, CRAFTLEDGER_PERSONAL_KEYS_DIR);
// without a key file the key is read from CRAFTLEDGER_AUTH_KEY.
//
// Every caller of /graphql is limited to --rate requests per second
// (default 50) in bursts of --burst (default 100), as in the all-in-one: a
// caller is the subject of a valid token, else the client's IP; beyond the
// limit the answer is 429 RESOURCE_EXHAUSTED with Retry-After. --rate 0
// turns it off. Health, metrics, the explorer and the web page's files are
// not limited.
//
// --credential-key-file names the deployment's credential key — its public
// half suffices (a PKIX PEM, the .pub beside a key, a did:key, or the
// private key file) — against which the verifyCredential field checks
// workers' credentials offline; without it that field answers
// FAILED_PRECONDITION.
//
// /readyz answers 200 once the projection has caught up and its indexes
// are built, and 503 UNAVAILABLE while the store does not answer or the
// subscription has dropped. A snapshot in --data built from a log the
// store does not hold (the store was replaced, reset or restored from an
// older backup) is discarded at start-up and the read model rebuilt from
// the start of the log; a WARN line "snapshot does not match the store"
// says why. If the store is replaced while it runs, the projection stops
// (FAILED_PRECONDITION, /readyz 503, the process exits) and the next
// start rebuilds.
//
// --personal-keys-dir names the registry's personal-data key directory
// (the same directory as the registry's --personal-keys-dir, on a volume
// both see): names sealed under a craftsman's key are shown while the key
// exists and as erased once `forget` destroyed it. Without it sealed names
// are answered as null, personalData "sealed".
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/graphql/web"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// DefaultRate and DefaultBurst are the per-caller limit unless --rate and
// --burst say otherwise (the all-in-one's defaults).
const (
	DefaultRate  = 50
	DefaultBurst = 100
)

// lookupEnv is os.LookupEnv, with CRAFTLEDGER_ADDR standing in for an
// unset CRAFTLEDGER_GRAPHQL_ADDR.
func lookupEnv(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if !ok && name == "CRAFTLEDGER_GRAPHQL_ADDR" {
		return os.LookupEnv("CRAFTLEDGER_ADDR")
	}
	return v, ok
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// The collector setting the Scale benchmark measures (GOGC overrides it).
	percent, limit := server.TuneGC(os.LookupEnv)
	logger.Info("gc", "percent", percent, "memoryLimit", limit)
	if err := run(context.Background(), logger, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // --help printed the flags
		}
		logger.Error("graphql stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, args []string) error {
	fs := servicekit.NewFlags("graphql")
	var (
		store, addr, keyFile, data, credKeyFile, tlsCert, tlsKey string
		keysDir                                                  string
		maxPage, maxDepth, maxComplexity, burst                  int
		timeout                                                  time.Duration
		rateLimit                                                float64
	)
	fs.StringVar(&store, "store", "CRAFTLEDGER_STORE", servicekit.DefaultStore, "event store connection string (esdb://…)")
	fs.StringVar(&addr, "addr", "CRAFTLEDGER_GRAPHQL_ADDR", ":8080", "HTTP listen address; $CRAFTLEDGER_ADDR when the next variable is unset")
	fs.StringVar(&keyFile, "jwt-key-file", "CRAFTLEDGER_JWT_KEY_FILE", "", "file holding the token signing key (else $"+auth.DevKeyEnv+")")
	fs.StringVar(&data, "data", "CRAFTLEDGER_GRAPHQL_DATA", "", "directory for read-model snapshots (empty: no snapshots, replay on start)")
	fs.IntVar(&maxPage, "max-page-size", "", 100, "largest page a connection may ask for")
	fs.IntVar(&maxDepth, "max-depth", "", 12, "deepest query accepted")
	fs.IntVar(&maxComplexity, "max-complexity", "", 20000, "most expensive query accepted (fields × page sizes)")
	fs.StringVar(&credKeyFile, "credential-key-file", "CRAFTLEDGER_CREDENTIAL_KEY_FILE", "", "the deployment's credential public key (PEM or did:key; a private key file works too) for verifyCredential")
	fs.StringVar(&keysDir, "personal-keys-dir", keyring.EnvDir, "", "the registry's personal-data key directory (its --personal-keys-dir, shared): sealed names are shown while their key exists, erased once destroyed; empty: sealed names stay hidden")
	fs.FlagSet().DurationVar(&timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&tlsCert, "tls-cert", "CRAFTLEDGER_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS; with --tls-key")
	fs.StringVar(&tlsKey, "tls-key", "CRAFTLEDGER_TLS_KEY_FILE", "", "PEM private key of --tls-cert")
	fs.Float64Var(&rateLimit, "rate", "CRAFTLEDGER_RATE", DefaultRate, "requests per second per caller (token subject, else IP) on /graphql, 0 = unlimited")
	fs.IntVar(&burst, "burst", "CRAFTLEDGER_BURST", DefaultBurst, "requests a caller may send at once above --rate")
	fs.FlagSet().Usage = func() {
		fmt.Fprintln(fs.FlagSet().Output(), "graphql: craftledger's read side (projections + GraphQL API)")
		fs.FlagSet().PrintDefaults()
	}
	if err := fs.Parse(args, lookupEnv); err != nil {
		return err
	}
	switch {
	case rateLimit < 0:
		return errs.E(errs.InvalidArgument, "--rate %v: must be 0 (unlimited) or more", rateLimit)
	case rateLimit > 0 && burst < 1:
		return errs.E(errs.InvalidArgument, "--burst %d: must be at least 1", burst)
	}
	if err := servicekit.CheckTLS(tlsCert, tlsKey); err != nil {
		return err
	}
	key, err := auth.LoadKey(keyFile, auth.DevKeyEnv)
	if err != nil {
		return err
	}
	var credPub ed25519.PublicKey
	if credKeyFile != "" {
		if credPub, err = credential.LoadPublicKey(credKeyFile); err != nil {
			return fmt.Errorf("credential key: %w", err)
		}
	}
	var personal keyring.Opener
	if keysDir != "" {
		if personal, err = keyring.OpenDir(keysDir); err != nil {
			return fmt.Errorf("--personal-keys-dir: %w", err)
		}
	}
	st, err := eventstore.Open(ctx, eventstore.Config{URL: store, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Config{
		Store: st, Key: key, DataDir: data, Logger: logger, Web: web.Handler(), CredentialKey: credPub,
		Personal: personal,
		Limits:   server.Limits{MaxPageSize: maxPage, MaxDepth: maxDepth, MaxComplexity: maxComplexity, Timeout: timeout},
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
	h := srv.Handler()
	if rateLimit > 0 {
		h = rateLimited(key, kit.NewRateLimiter(rateLimit, burst), h)
	}
	httpSrv := kit.NewServer(addr, kit.AccessLog(logger, h))
	if err := kit.UseTLS(httpSrv, tlsCert, tlsKey); err != nil {
		return err
	}
	return kit.Run(ctx, logger, projector, kit.HTTPActor("graphql", httpSrv, nil, logger))
}

// rateLimited answers 429 with Retry-After to a caller of /graphql over its
// limit. The caller is the verified token's subject (one person's tokens
// share a bucket), else the client's IP, so forged or expired tokens share
// their sender's bucket.
func rateLimited(key auth.Key, l *kit.RateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" && !strings.HasPrefix(r.URL.Path, "/graphql/") {
			next.ServeHTTP(w, r)
			return
		}
		caller := "ip:" + clientIP(r)
		if c, err := auth.FromRequest(key, r); err == nil {
			caller = "sub:" + c.Subject
		}
		if ok, after := l.Allow(caller); !ok {
			kit.EncodeError(r.Context(), kit.WithRetryAfter(
				errs.E(errs.ResourceExhausted, "rate limit exceeded; retry in %s", after.Round(time.Millisecond)), after), w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
