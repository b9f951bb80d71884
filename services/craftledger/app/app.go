// Package app assembles craftledger's all-in-one server: the embedded event
// store (or an external KurrentDB), every go-kit service's HTTP API, the
// GraphQL projector and server, on one HTTP listener.
//
// Routes on the one listener:
//
//	/api/registry/v1/...     registry service (craftsmen, academies, issuers)
//	/api/training/v1/...     training service (enrolments, completions, certificates)
//	/api/competition/v1/...  competition service (definitions, results, approvals)
//	/api/mentorship/v1/...   mentorship service (master–apprentice pairings)
//	/api/honour/v1/...       honour service (honours, withdrawals, innovations)
//	/api/<service>/metrics   each service's Prometheus metrics
//	/credentials/...         workers' signed credentials: issue, verify (with Config.CredentialKey)
//	/graphql, /explorer      GraphQL API and its explorer
//	/healthz, /readyz        liveness; readiness (store reachable, projection caught up, population indexes built)
//	/metrics                 the read side's Prometheus metrics
//	/                        the web page (graphql/web), reading through /graphql
//
// With Config.RateLimit set, /graphql and every /api/<service>/v1/ route are
// limited per caller (see Config.RateLimit); health, metrics and the web
// page's files are not.
//
// cmd/craftledger wires it from flags; the end-to-end test starts it
// in-process.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/server"
	"github.com/craftledger/craftledger/graphql/web"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// DefaultAddr and DefaultStoreAddr are where the all-in-one listens unless
// told otherwise.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultStoreAddr = "127.0.0.1:2113"
)

// Config configures an App.
type Config struct {
	// DataDir holds the embedded store (DataDir/store), the read
	// model's snapshots (DataDir/graphql) and, unless PersonalKeysDir
	// says otherwise, the personal-data keys (DataDir/keys). Required.
	DataDir string
	// Addr is the HTTP listen address ("127.0.0.1:0" picks a free port).
	Addr string
	// StoreURL, when set, is an external KurrentDB (esdb://…) used instead
	// of the embedded store.
	StoreURL string
	// StoreAddr is the embedded store's gRPC address; a loopback one only
	// (CheckStoreAddr): the embedded store takes no credentials.
	StoreAddr string
	// Key verifies (and the demo mints) bearer tokens. Required.
	Key auth.Key
	// NationalIDKey hashes national ID numbers (at least 32 bytes).
	// Required.
	NationalIDKey []byte
	// PersonalKeysDir is the keyring that seals craftsmen's personal data
	// (pkg/keyring: one key per craftsman, destroyed by forget), shared by
	// the registry and the read side in process; "" = DataDir/keys. Back
	// it up apart from the store: a key kept in a backup is not forgotten.
	PersonalKeysDir string
	// Logger receives every component's logs; nil discards.
	Logger *slog.Logger
	// Clock is the services' "now"; nil = time.Now.
	Clock func() time.Time
	// DemoTokens, when set, are offered on the web page's sign-in (demo
	// mode only: anyone who loads the page can use them). New refuses them
	// unless Key is the public development key (IsDevKey): tokens signed
	// with a real key must never be handed to whoever asks.
	DemoTokens []auth.DevToken
	// RateLimit, when positive, limits every caller of /graphql and of the
	// services' APIs to RateLimit requests per second on average, in
	// bursts of RateBurst (at least 1); beyond it the answer is 429
	// RESOURCE_EXHAUSTED with Retry-After. A caller is the subject of a
	// valid token, else the client's IP (so forged tokens share their
	// sender's bucket). 0 = no limit (tests, the load harness).
	RateLimit float64
	RateBurst int
	// Approvers lists the organisations whose hr users may approve (核准)
	// promotion entitlements: the human-resources authorities. Empty means
	// DefaultApprovers; AnyApprover ("*") lets every hr user approve any
	// worker's entitlement (only for a deployment where hr users are all
	// the authority's).
	Approvers []string
	// CredentialKey is the deployment's Ed25519 signing key for workers'
	// portable records (pkg/credential): with it, /credentials/… issues
	// (GET /credentials/{craftsmanId}, the worker themselves, an auditor or
	// an admin) and verifies (POST /credentials/verify, no token), and the
	// GraphQL field verifyCredential checks credentials offline. Nil: no
	// /credentials routes, and verifyCredential answers FAILED_PRECONDITION.
	CredentialKey ed25519.PrivateKey
	// CredentialIssuer names the deployment in the credentials it signs
	// ("" = "craftledger"); cmd/craftledger says "(development)" for the
	// generated development key.
	CredentialIssuer string
	// TLSCertFile and TLSKeyFile, both or neither, make the listener serve
	// HTTPS (TLS 1.2+, kit.UseTLS) with this PEM certificate (chain) and
	// key; BaseURL and the banner then say https. Neither: plain HTTP.
	TLSCertFile, TLSKeyFile string
}

// AnyApprover, as Config.Approvers, lets every hr user approve
// (competition.AnyApprover).
const AnyApprover = competition.AnyApprover

// DefaultApprovers are the human-resources authorities that approve the
// demo population's entitlements: the ministry (全国 competitions and
// WorldSkills) and the provincial/city departments organising the demo's
// regional competitions — generate.Approvers, the approving authorities of
// the generator's competitions, so the two cannot drift apart;
// TestDefaultApproversApproveTheDemo loads the demo under them.
func DefaultApprovers() []string {
	return generate.Approvers()
}

// Services are the in-process write-side services, undecorated: the demo
// generator writes through them so every invariant they check holds.
type Services struct {
	Registry    registry.Service
	Training    training.Service
	Competition competition.Service
	Mentorship  mentorship.Service
	Honour      honour.Service
}

// CheckStoreAddr refuses an embedded store address that is not on the
// loopback interface (127.0.0.0/8, ::1 or localhost): the embedded store
// runs without TLS or credentials, so whoever reaches its port reads and
// appends to the ledger past every service's checks (authorization,
// validation, the hash chain's sealing).
func CheckStoreAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return errs.E(errs.InvalidArgument, "app: --store-addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return errs.E(errs.InvalidArgument, "app: --store-addr %q is not a loopback address: the embedded store answers on it without TLS or credentials, "+
		"so anyone reaching the port could write to the ledger past every service check; give 127.0.0.1:<port> (or [::1]:<port>), "+
		"or an external, secured KurrentDB with --store", addr)
}

// App is a started all-in-one: the store is up, the listener is bound;
// Run serves.
type App struct {
	cfg      Config
	logger   *slog.Logger
	embedded *esdbserver.Server
	store    *eventstore.Client
	storeURL string
	services Services
	graph    *server.Server
	ln       net.Listener
	handler  http.Handler
	apis     []string
	keysDir  string
}

// New starts the embedded store (unless cfg.StoreURL names another),
// connects to it, builds every service and the read side, and binds the
// HTTP listener. Nothing is served until Run.
func New(ctx context.Context, cfg Config) (a *App, err error) {
	if cfg.DataDir == "" {
		return nil, errs.E(errs.InvalidArgument, "app: a data directory is required")
	}
	if len(cfg.Key) == 0 {
		return nil, errs.E(errs.InvalidArgument, "app: a token key is required")
	}
	if len(cfg.DemoTokens) > 0 && !IsDevKey(cfg.Key) {
		return nil, errs.E(errs.InvalidArgument, "app: demo tokens are only served under the public development key, and this key is not it")
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errs.E(errs.InvalidArgument, "app: HTTPS needs both a TLS certificate and its key")
	}
	if cfg.TLSCertFile != "" {
		// Checked before the store starts: a broken pair stops start-up
		// here, not after the data directory has been opened.
		if _, err := kit.TLSConfig(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.StoreAddr == "" {
		cfg.StoreAddr = DefaultStoreAddr
	}
	if cfg.StoreURL == "" {
		if err := CheckStoreAddr(cfg.StoreAddr); err != nil {
			return nil, err
		}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a = &App{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	a.storeURL = cfg.StoreURL
	if a.storeURL == "" {
		// Insecure (no TLS, no credentials): CheckStoreAddr kept it on
		// the loopback interface.
		a.embedded, err = esdbserver.Start(esdbserver.Config{
			DataDir: filepath.Join(cfg.DataDir, "store"), Addr: cfg.StoreAddr, Insecure: true,
			Logger: logger.With("component", "store"),
		})
		if err != nil {
			return a, fmt.Errorf("start embedded store: %w", err)
		}
		a.storeURL = a.embedded.URL()
	}
	a.store, err = eventstore.Open(ctx, eventstore.Config{URL: a.storeURL, Logger: logger.With("component", "eventstore")})
	if err != nil {
		return a, fmt.Errorf("open store %s: %w", redactURL(a.storeURL), err)
	}

	keysDir := cfg.PersonalKeysDir
	if keysDir == "" {
		keysDir = keyring.DirIn(cfg.DataDir)
	}
	keys, err := keyring.NewDir(keysDir)
	if err != nil {
		return a, fmt.Errorf("personal data keys: %w", err)
	}
	a.keysDir = keysDir
	if a.services.Registry, err = registry.New(a.store, cfg.Clock, registry.Options{NationalIDKey: cfg.NationalIDKey, Keyring: keys}); err != nil {
		return a, err
	}
	if a.services.Training, err = training.New(a.store, cfg.Clock, training.Options{}); err != nil {
		return a, err
	}
	approvers := cfg.Approvers
	if len(approvers) == 0 {
		approvers = DefaultApprovers()
	}
	if a.services.Competition, err = competition.New(a.store, cfg.Clock, competition.Options{Seal: servicekit.Seal, Approvers: approvers}); err != nil {
		return a, err
	}

	if a.services.Mentorship, err = mentorship.New(a.store, cfg.Clock, mentorship.Options{Seal: servicekit.Seal}); err != nil {
		return a, err
	}
	if a.services.Honour, err = honour.New(a.store, cfg.Clock, honour.Options{Seal: servicekit.Seal,
		// every writer checked, as bin/honour does: the demo population
		// records each honour as its conferring body and each innovation
		// as an organisation linked to the worker
		CheckWriters: true, ConferringBodies: generate.ConferringBodies()}); err != nil {
		return a, err
	}

	var credPub ed25519.PublicKey
	if len(cfg.CredentialKey) > 0 {
		credPub, _ = cfg.CredentialKey.Public().(ed25519.PublicKey)
	}
	a.graph, err = server.New(server.Config{
		Store: a.store, Key: cfg.Key, DataDir: filepath.Join(cfg.DataDir, "graphql"),
		Logger: logger.With("component", "graphql"), Now: cfg.Clock,
		Web:           web.New(web.Options{DemoTokens: cfg.DemoTokens}),
		CredentialKey: credPub, Personal: keys,
	})
	if err != nil {
		return a, fmt.Errorf("graphql: %w", err)
	}

	mux := http.NewServeMux()
	a.mount(mux, "registry", func(m *kit.Metrics) http.Handler {
		svc := registry.LoggingMiddleware(logger)(registry.InstrumentingMiddleware(m)(a.services.Registry))
		return registry.NewHTTPHandler(svc, logger, cfg.Key, registry.HTTPOptions{Backfill: servicekit.BackfillRunner(0, logger, m)})
	})
	a.mount(mux, "training", func(m *kit.Metrics) http.Handler {
		svc := training.LoggingMiddleware(logger)(training.InstrumentingMiddleware(m)(a.services.Training))
		return training.NewHTTPHandler(svc, logger, cfg.Key, training.HTTPOptions{Backfill: servicekit.BackfillRunner(0, logger, m)})
	})
	a.mount(mux, "competition", func(m *kit.Metrics) http.Handler {
		svc := competition.LoggingMiddleware(logger)(competition.InstrumentingMiddleware(m)(a.services.Competition))
		return competition.NewHTTPHandler(svc, logger, cfg.Key, competition.HTTPOptions{Backfill: servicekit.BackfillRunner(0, logger, m)})
	})
	a.mount(mux, "mentorship", func(m *kit.Metrics) http.Handler {
		svc := mentorship.LoggingMiddleware(logger)(mentorship.InstrumentingMiddleware(m)(a.services.Mentorship))
		return mentorship.NewHTTPHandler(svc, logger, cfg.Key, mentorship.HTTPOptions{Backfill: servicekit.BackfillRunner(0, logger, m)})
	})
	a.mount(mux, "honour", func(m *kit.Metrics) http.Handler {
		svc := honour.LoggingMiddleware(logger)(honour.InstrumentingMiddleware(m)(a.services.Honour))
		return honour.NewHTTPHandler(svc, logger, cfg.Key, honour.HTTPOptions{Backfill: servicekit.BackfillRunner(0, logger, m)})
	})
	if len(cfg.CredentialKey) > 0 {
		ch, err := credential.NewHandler(credential.HandlerConfig{Key: cfg.CredentialKey, Store: a.store, Auth: cfg.Key,
			IssuerName: cfg.CredentialIssuer, Now: cfg.Clock, Personal: keys})
		if err != nil {
			return a, err
		}
		mux.Handle("/credentials/", ch)
	}
	// Everything else is the read side: /graphql, /explorer, /healthz,
	// /readyz, /metrics and the web page at /.
	mux.Handle("/", a.graph.Handler())
	var h http.Handler = mux
	if cfg.RateLimit > 0 {
		h = a.rateLimit(kit.NewRateLimiter(cfg.RateLimit, cfg.RateBurst), mux)
	}
	a.handler = kit.AccessLog(logger, h)

	a.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return a, fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	return a, nil
}

// rateLimit answers 429 with Retry-After to a caller over its limit on the
// limited routes (limited). The caller is the verified token's subject, so
// one person's tokens share a bucket and another person is unaffected; a
// request without a valid token is keyed by its IP address (the services
// then refuse it as unauthenticated anyway).
func (a *App) rateLimit(l *kit.RateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !limited(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		key := "ip:" + clientIP(r)
		if c, err := auth.FromRequest(a.cfg.Key, r); err == nil {
			key = "sub:" + c.Subject
		}
		if ok, after := l.Allow(key); !ok {
			kit.EncodeError(r.Context(), kit.WithRetryAfter(
				errs.E(errs.ResourceExhausted, "rate limit exceeded; retry in %s", after.Round(time.Millisecond)), after), w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limited reports whether path is rate limited: GraphQL, the credential
// routes and the services' APIs, not health, metrics, the explorer or the
// web page's files.
func limited(path string) bool {
	if path == "/graphql" || strings.HasPrefix(path, "/graphql/") || strings.HasPrefix(path, "/credentials/") {
		return true
	}
	return strings.HasPrefix(path, "/api/") && !strings.HasSuffix(path, "/metrics")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IsDevKey reports whether key is the public development key
// (auth.DevKey): anyone can mint tokens under it, so tokens signed with it
// may be shown to anyone.
func IsDevKey(key auth.Key) bool {
	return subtle.ConstantTimeCompare(key, auth.DevKey()) == 1
}

// mount serves one service's API under /api/<name>/ and its metrics at
// /api/<name>/metrics.
func (a *App) mount(mux *http.ServeMux, name string, build func(*kit.Metrics) http.Handler) {
	m := kit.NewMetrics(name)
	prefix := "/api/" + name
	mux.Handle(prefix+"/", http.StripPrefix(prefix, build(m)))
	mux.Handle("GET "+prefix+"/metrics", m.Handler())
	a.apis = append(a.apis, name)
}

// Run serves HTTP and runs the projector until ctx ends or the process
// gets SIGINT/SIGTERM; a clean stop returns nil. Call Close afterwards.
func (a *App) Run(ctx context.Context) error {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	projector := kit.Actor{
		Name:      "projector",
		Execute:   func() error { return a.graph.Run(pctx) },
		Interrupt: func(error) { stop() },
	}
	srv := kit.NewServer(a.ln.Addr().String(), a.handler)
	if err := kit.UseTLS(srv, a.cfg.TLSCertFile, a.cfg.TLSKeyFile); err != nil {
		return err
	}
	return kit.Run(ctx, a.logger, projector, kit.HTTPActor("craftledger", srv, a.ln, a.logger))
}

// Close releases the store client and stops the embedded store. It is safe
// to call more than once and after a failed New.
func (a *App) Close() error {
	var errList []error
	if a.ln != nil {
		a.ln.Close() // already closed when Run has served; harmless
	}
	if a.store != nil {
		errList = append(errList, a.store.Close())
		a.store = nil
	}
	if a.embedded != nil {
		errList = append(errList, a.embedded.Close())
		a.embedded = nil
	}
	return errors.Join(errList...)
}

// Services are the undecorated in-process services.
func (a *App) Services() Services { return a.services }

// Store is the store client every component shares.
func (a *App) Store() eventstore.Store { return a.store }

// StoreURL is the connection string of the store in use (the embedded
// one's esdb:// URL unless an external store was configured).
func (a *App) StoreURL() string { return a.storeURL }

// PersonalKeysDir is the directory of the keys sealing personal data.
func (a *App) PersonalKeysDir() string { return a.keysDir }

// Embedded reports whether the store is the embedded one.
func (a *App) Embedded() bool { return a.embedded != nil }

// BaseURL is the base URL ("http://127.0.0.1:8080", or https:// when the
// listener serves TLS).
func (a *App) BaseURL() string {
	addr := a.ln.Addr().String()
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "::" || host == "0.0.0.0") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	if a.TLS() {
		return "https://" + addr
	}
	return "http://" + addr
}

// TLS reports whether the listener serves HTTPS.
func (a *App) TLS() bool { return a.cfg.TLSCertFile != "" }

// APIs lists the mounted service names; each serves under BaseURL()/api/<name>/.
func (a *App) APIs() []string { return append([]string(nil), a.apis...) }

// GraphQL is the read side (model, projector, schema).
func (a *App) GraphQL() *server.Server { return a.graph }

// WaitCaughtUp blocks until the projection has applied everything written
// so far (the log's last position), has caught up with the log at least
// once and has its population indexes (what /readyz waits for), or ctx
// ends.
func (a *App) WaitCaughtUp(ctx context.Context) error {
	last, err := a.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1,
		Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()}})
	if err != nil {
		return err
	}
	if len(last) > 0 {
		if err := a.graph.Projector().WaitFor(ctx, last[0].Position); err != nil {
			return err
		}
	}
	if err := a.graph.Projector().WaitReady(ctx); err != nil {
		return err
	}
	if err := a.graph.WaitIndexes(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	return nil // a failed eligibility build is logged by the server; queries answer without it
}

// redactURL drops credentials from a connection string for messages.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
