package servicekit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/gctune"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Flags is a flag set whose flags may each also come from an environment
// variable. The variables are read after the command line is parsed, so
// --help shows the built-in defaults (never a connection string with
// credentials from the environment), a flag given on the command line wins,
// and a variable that does not parse stops start-up with an error instead
// of silently meaning the default.
type Flags struct {
	fs   *flag.FlagSet
	envs []binding
}

type binding struct{ flag, env string }

// NewFlags returns an empty flag set for the binary name; errors are
// returned by Parse, not printed and exited on.
func NewFlags(name string) *Flags {
	return &Flags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
}

// FlagSet is the underlying flag set (its output, for --help).
func (f *Flags) FlagSet() *flag.FlagSet { return f.fs }

func (f *Flags) bind(name, env, usage string) string {
	if env == "" {
		return usage
	}
	f.envs = append(f.envs, binding{flag: name, env: env})
	return usage + " ($" + env + ")"
}

// StringVar defines a string flag read from env when not given.
func (f *Flags) StringVar(p *string, name, env, def, usage string) {
	f.fs.StringVar(p, name, def, f.bind(name, env, usage))
}

// IntVar defines an integer flag read from env when not given.
func (f *Flags) IntVar(p *int, name, env string, def int, usage string) {
	f.fs.IntVar(p, name, def, f.bind(name, env, usage))
}

// Float64Var defines a number flag read from env when not given.
func (f *Flags) Float64Var(p *float64, name, env string, def float64, usage string) {
	f.fs.Float64Var(p, name, def, f.bind(name, env, usage))
}

// BoolVar defines a boolean flag read from env ("1", "true", "0",
// "false"…) when not given.
func (f *Flags) BoolVar(p *bool, name, env string, def bool, usage string) {
	f.fs.BoolVar(p, name, def, f.bind(name, env, usage))
}

// Parse parses args, then sets every flag not given on the command line
// from its environment variable when lookupEnv finds it (os.LookupEnv in a
// binary). A value that does not parse is an error naming the variable.
// --help answers flag.ErrHelp after printing the usage.
func (f *Flags) Parse(args []string, lookupEnv func(string) (string, bool)) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", f.fs.Arg(0))
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for _, b := range f.envs {
		if given[b.flag] {
			continue
		}
		v, ok := lookupEnv(b.env)
		if !ok {
			continue
		}
		if err := f.fs.Set(b.flag, v); err != nil {
			return fmt.Errorf("$%s (for --%s): %w", b.env, b.flag, err)
		}
	}
	return nil
}

// Service is the configuration every write-side service binary shares.
type Service struct {
	Name            string
	Store           string
	Addr            string
	JWTKeyFile      string
	BackfillWorkers int
	Dev             bool
	Rate            float64
	LogLevel        string
	// TLSCertFile and TLSKeyFile, both or neither, make the service serve
	// HTTPS (kit.UseTLS); neither serves plain HTTP.
	TLSCertFile, TLSKeyFile string
}

// DefaultStore is the store of a local `make run`.
const DefaultStore = "esdb://127.0.0.1:2113?tls=false"

// DefaultDataDir is the all-in-one's --data default (make run's, from the
// repo root); tools that find its files without being told use it too.
const DefaultDataDir = "./data"

// ServiceFlags defines the common flags on f for service name, listening on
// defaultAddr unless told otherwise.
func ServiceFlags(f *Flags, name, defaultAddr string) *Service {
	s := &Service{Name: name}
	f.StringVar(&s.Store, "store", "CRAFTLEDGER_STORE", DefaultStore, "KurrentDB connection string")
	f.StringVar(&s.Addr, "addr", "CRAFTLEDGER_ADDR", defaultAddr, "HTTP listen address")
	f.StringVar(&s.JWTKeyFile, "jwt-key-file", "CRAFTLEDGER_JWT_KEY_FILE", "", "file holding the JWT HMAC key (else $"+auth.DevKeyEnv+")")
	f.IntVar(&s.BackfillWorkers, "backfill-workers", "CRAFTLEDGER_BACKFILL_WORKERS", 16, "concurrent commands per back-fill request")
	f.BoolVar(&s.Dev, "dev", "CRAFTLEDGER_DEV", false, "use the public development key (never in production)")
	f.Float64Var(&s.Rate, "rate", "CRAFTLEDGER_RATE", 0, "requests per second per caller, 0 = unlimited")
	f.StringVar(&s.LogLevel, "log-level", "CRAFTLEDGER_LOG_LEVEL", "info", "debug, info, warn or error")
	f.StringVar(&s.TLSCertFile, "tls-cert", "CRAFTLEDGER_TLS_CERT_FILE", "", "PEM certificate (chain) to serve HTTPS with; needs --tls-key")
	f.StringVar(&s.TLSKeyFile, "tls-key", "CRAFTLEDGER_TLS_KEY_FILE", "", "PEM private key of --tls-cert")
	return s
}

// Check validates the values after parsing.
func (s *Service) Check() error {
	var bad []error
	if s.Store == "" {
		bad = append(bad, errors.New("--store: is required"))
	} else if _, err := url.Parse(s.Store); err != nil {
		bad = append(bad, fmt.Errorf("--store: not a connection string %s", RedactURL(s.Store)))
	}
	if s.Addr == "" {
		bad = append(bad, errors.New("--addr: is required"))
	}
	if s.BackfillWorkers < 1 {
		bad = append(bad, fmt.Errorf("--backfill-workers: must be at least 1, not %d", s.BackfillWorkers))
	}
	if s.Rate < 0 || s.Rate != s.Rate {
		bad = append(bad, fmt.Errorf("--rate: must be 0 (unlimited) or positive, not %v", s.Rate))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s.LogLevel)); err != nil {
		bad = append(bad, fmt.Errorf("--log-level: %w", err))
	}
	if err := CheckTLS(s.TLSCertFile, s.TLSKeyFile); err != nil {
		bad = append(bad, err)
	}
	return errors.Join(bad...)
}

// Logger is the JSON logger of the service on w at the configured level.
func (s *Service) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})).With("service", s.Name), nil
}

// Key loads the JWT key: from --jwt-key-file, else $CRAFTLEDGER_AUTH_KEY,
// else the public development key with --dev; auth.LoadKey refuses a key
// shorter than auth.MinKeyLen.
func (s *Service) Key() (auth.Key, error) {
	_, inEnv := os.LookupEnv(auth.DevKeyEnv)
	switch {
	case s.JWTKeyFile != "" || inEnv:
		k, err := auth.LoadKey(s.JWTKeyFile, auth.DevKeyEnv)
		if err != nil {
			return nil, fmt.Errorf("jwt key: %w", err)
		}
		return k, nil
	case s.Dev:
		return auth.DevKey(), nil
	}
	return nil, fmt.Errorf("no JWT key: give --jwt-key-file, $%s or --dev", auth.DevKeyEnv)
}

// LoggerKey is Logger then Key: what every service's start-up needs
// before it opens the store.
func (s *Service) LoggerKey(w io.Writer) (*slog.Logger, auth.Key, error) {
	logger, err := s.Logger(w)
	if err != nil {
		return nil, nil, err
	}
	key, err := s.Key()
	if err != nil {
		return nil, nil, err
	}
	return logger, key, nil
}

// Limiter is the per-caller rate limiter, nil when unlimited.
func (s *Service) Limiter() *kit.RateLimiter {
	if s.Rate <= 0 {
		return nil
	}
	return kit.NewRateLimiter(s.Rate, int(s.Rate)+1)
}

// Backfill configures the bulk endpoints (BackfillRunner) with the
// service's --backfill-workers.
func (s *Service) Backfill(logger *slog.Logger, metrics *kit.Metrics) command.Backfill {
	return BackfillRunner(s.BackfillWorkers, logger, metrics)
}

// BackfillRunner is the bulk endpoints' runner of a service: workers
// concurrent lines (0 = 16), a progress line every 10 000 lines, an error
// line for each line that failed for want of the store or of the service
// itself while bypassing its logging middleware (batched lines do; a
// refused line is answered to the caller only), and, with metrics, every
// finished line counted by outcome (craftledger_backfill_lines_total).
func BackfillRunner(workers int, logger *slog.Logger, metrics *kit.Metrics) command.Backfill {
	b := command.Backfill{Workers: workers, ProgressEvery: 10000,
		Progress: func(sum command.Summary) {
			logger.Info("back-fill progress", "lines", sum.Lines, "ok", sum.OK, "failed", sum.Failed, "replayed", sum.Replayed, "millis", sum.Millis)
		},
		Failed: func(line int, err error) {
			if !errs.IsBusiness(err) {
				logger.Error("back-fill line failed", "line", line, "code", errs.Code(err), "err", err)
			}
		}}
	if metrics != nil {
		b.Finished = func(lr command.LineResult) {
			code := lr.Code
			if lr.OK {
				code = "OK"
			}
			metrics.BackfillLine(code)
		}
	}
	return b
}

// OpenStore connects to the store behind a breaker named "<name>-store";
// an error names the store without its credentials.
func (s *Service) OpenStore(ctx context.Context, logger *slog.Logger) (*eventstore.Client, error) {
	st, err := eventstore.Open(ctx, eventstore.Config{URL: s.Store, Logger: logger, Breaker: eventstore.BreakerConfig{Name: s.Name + "-store"}})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", RedactURL(s.Store), err)
	}
	return st, nil
}

// GCPercent is the go-kit services' collector target unless GOGC is set.
// A command allocates much and keeps little (a mentorship start ~110 KB,
// of which a bounded stream cache keeps part), so at Go's default of 100
// a service spent ~7 % of its CPU collecting and marked its live heap
// every ~0.15 s; spaced four times further apart, a mentorship start cost
// ~8 % less CPU and the 64-client rate rose by as much (docs/services.md,
// "Collector and block cache").
const GCPercent = gctune.ServerPercent

// TuneGC applies the services' collector settings (GCPercent, and a soft
// memory limit of 3/4 of the memory the process may use; each unless GOGC
// or GOMEMLIMIT is set) and returns the percent and limit in force. Serve
// calls it; so does servicetest's benchmark harness, so that the services'
// benchmarks run as the binaries do.
func TuneGC() (percent int, limit int64) { return gctune.Apply(os.LookupEnv, GCPercent, 0) }

// Serve applies the collector settings (TuneGC) and serves api beside
// /healthz, /readyz (ready when the store pings) and /metrics on the
// configured address until SIGINT/SIGTERM.
func (s *Service) Serve(ctx context.Context, logger *slog.Logger, metrics *kit.Metrics, ping func(context.Context) error, api http.Handler) error {
	percent, limit := TuneGC()
	logger.Info("gc", "percent", percent, "memoryLimit", limit)
	mux := http.NewServeMux()
	kit.Operational(mux, metrics, ping)
	mux.Handle("/", kit.AccessLog(logger, api))
	srv := kit.NewServer(s.Addr, mux)
	if err := kit.UseTLS(srv, s.TLSCertFile, s.TLSKeyFile); err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return kit.Run(ctx, logger, kit.HTTPActor(s.Name, srv, nil, logger))
}

// CheckTLS says whether a --tls-cert/--tls-key pair can serve HTTPS: both
// empty (plain HTTP), or both given and loadable as a certificate and its
// key. One without the other, an unreadable file or a key that does not
// match stops start-up — before the store is contacted — rather than
// quietly serving plain HTTP. The key's bytes are never in the error.
func CheckTLS(certFile, keyFile string) error {
	switch {
	case certFile == "" && keyFile == "":
		return nil
	case certFile == "":
		return errors.New("--tls-key: given without --tls-cert; HTTPS needs both")
	case keyFile == "":
		return errors.New("--tls-cert: given without --tls-key; HTTPS needs both")
	}
	if _, err := kit.TLSConfig(certFile, keyFile); err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return nil
}

// RedactURL hides the user information (credentials) of a connection
// string: "esdb://admin:changeit@host:2113" becomes "esdb://…@host:2113".
func RedactURL(u string) string {
	if i := strings.LastIndex(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
