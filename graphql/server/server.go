// Package server serves craftledger's GraphQL API over HTTP and owns the
// read side's moving parts: the in-memory read model, the projector that
// feeds it and the schema over it.
//
// Routes (Handler):
//
//	POST /graphql   {"query", "variables", "operationName"}; JSON answer
//	GET  /graphql   ?query=&variables=&operationName= (queries only); a
//	                browser (Accept: text/html) without a query gets the explorer
//	GET  /explorer  a small self-contained query explorer (no external URLs)
//	GET  /healthz   liveness
//	GET  /readyz    200 once the projection has caught up with the log and its population indexes are built,
//	                while its subscription is live and the store answers (503 UNAVAILABLE otherwise)
//	GET  /metrics   Prometheus, including projection lag
//	/               Config.Web when set (the web page), else 404
//
// Every request may carry "Authorization: Bearer <token>" (pkg/auth);
// fields refuse anonymous or unauthorised callers with a coded error.
// "X-Min-Position: <commit>[/<prepare>]" (or extensions.minPosition in the
// body, or the minPosition argument of a top-level field) waits until the
// projection has applied that $all position — read-your-writes — or fails
// with DEADLINE_EXCEEDED.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/schema"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Limits are the guard rails. Zero values take the defaults in brackets.
type Limits struct {
	MaxDepth      int           // deepest selection [12]
	MaxComplexity int           // fields × page sizes [20000]
	MaxPageSize   int           // largest "first" [100]
	Timeout       time.Duration // per request, including waiting for a position [10 s]
	MinPosWait    time.Duration // longest read-your-writes wait [5 s]
	MaxBodyBytes  int64         // request body [1 MiB]
	CacheSize     int           // parsed and validated documents kept [1024]
	MaxQueryBytes int           // query text [64 KiB]
	MaxNesting    int           // brackets open at once in the query text [64]
	MaxFragments  int           // fragment definitions, and fragment spreads, in a document [256]
	MaxFields     int           // fields in one selection set, its inline fragments' included [512]
	// MaxTotalFields bounds the fields of each of a document's operations
	// (with the fragments it reaches, expanded where spread) [1024]. The
	// web page's largest query (the audit view's hash-chain check of up to
	// 50 streams) has 351.
	MaxTotalFields int
	// MaxSamePairs bounds the pairs of fields answered under one response
	// name at one place, fragments merged, that validation compares [4096].
	MaxSamePairs int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, 12)
	def(&l.MaxComplexity, 20000)
	def(&l.MaxPageSize, 100)
	def(&l.CacheSize, 1024)
	def(&l.MaxQueryBytes, 64<<10)
	def(&l.MaxNesting, 64)
	def(&l.MaxFragments, 256)
	def(&l.MaxFields, 512)
	def(&l.MaxTotalFields, 1024)
	def(&l.MaxSamePairs, 4096)
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.MinPosWait <= 0 {
		l.MinPosWait = 5 * time.Second
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	return l
}

// Config wires a Server.
type Config struct {
	Store eventstore.Store // required: the log the projector follows
	Key   auth.Key         // required: verifies bearer tokens
	// DataDir keeps the read model's snapshot (DataDir/readmodel.snap);
	// "" disables snapshots.
	DataDir       string
	SnapshotEvery int // events between snapshots (0 = projector default)
	Limits        Limits
	Web           http.Handler // optional, served at "/"
	Logger        *slog.Logger
	Now           func() time.Time // clock (nil = time.Now)
	// CredentialKey is the deployment's Ed25519 public key: the
	// verifyCredential field checks credentials against it (nil: that
	// field answers FAILED_PRECONDITION).
	CredentialKey ed25519.PublicKey
	// Personal opens names the registry sealed (its keyring, e.g.
	// pkg/keyring.Dir over the registry's --personal-keys-dir): a sealed
	// name is shown while its key exists and as erased once it is
	// destroyed. Nil: sealed names are not shown (null, "sealed").
	Personal keyring.Opener
}

// Server is the read side: model, projector, schema and HTTP handler.
type Server struct {
	cfg      Config
	lim      Limits
	log      *slog.Logger
	model    *readmodel.Memory
	snaps    *readmodel.Sidecars // the model as the projector snapshots it: with its side files
	elig     *schema.EligEntries // eligibility entries built ahead (Run builds them once caught up)
	asOf     *schema.AsOfIndex   // the model's as-of timelines (built by Run once caught up)
	eligRan  chan struct{}       // closed when Run's eligibility build (or its check of loaded entries) has ended
	eligOnce sync.Once
	eligErr  error // why the eligibility entries were not built (set before eligRan closes)
	proj     *projector.Projector
	schema   graphql.Schema
	metrics  *kit.Metrics
	cache    *boundedMap[string, cachedDoc]        // validated documents by their text
	docHits  atomicCounter                         // requests answered from cache
	rejected *boundedMap[[sha256.Size]byte, error] // why documents were refused, by their text's hash
	// refusedHits counts requests refused from rejected without parsing;
	// validated counts documents handed to graphql-go's validation.
	refusedHits atomicCounter
	validated   atomicCounter
	handler     http.Handler
	// planned counts requests answered by a compiled plan (plan.go);
	// planCheck, set by tests only, is handed each such answer and
	// graphql-go's answer to the same request.
	planned   atomicCounter
	planCheck func(query string, planned, reference []byte)
	noPlans   bool // tests and benchmarks: graphql-go's executor only
	// runCtx is Run's context: metric reads of the store derive from it,
	// so they end with the server rather than outliving it.
	runCtx atomic.Pointer[context.Context]
}

// New builds the read side. It does not contact the store: call Run.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errs.E(errs.InvalidArgument, "graphql server: a store is required")
	}
	if len(cfg.Key) == 0 {
		return nil, errs.E(errs.InvalidArgument, "graphql server: a token key is required")
	}
	s := &Server{cfg: cfg, lim: cfg.Limits.withDefaults(), log: cfg.Logger, model: readmodel.NewMemory()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	snap := ""
	if cfg.DataDir != "" {
		snap = filepath.Join(cfg.DataDir, "readmodel.snap")
	}
	var err error
	s.snaps = readmodel.WithSidecars(s.model)
	s.elig, err = schema.NewEligEntries(s.snaps, s.cfg.Now)
	if err != nil {
		return nil, err
	}
	s.snaps.Add(s.elig)
	s.eligRan = make(chan struct{})
	s.proj, err = projector.New(projector.Config{
		Store: cfg.Store, Model: s.snaps, SnapshotPath: snap, SnapshotEvery: cfg.SnapshotEvery,
		Logger: s.log.With("actor", "projector"), Now: s.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	s.asOf = schema.NewAsOfIndex(s.model)
	s.snaps.Add(s.asOf) // kept beside the snapshot: a restart loads it
	s.schema, err = schema.New(schema.Deps{
		Model: s.model, Elig: s.elig, AsOf: s.asOf, Waiter: s.proj, Status: s.proj.Status,
		MaxPageSize: s.lim.MaxPageSize, MaxWait: s.lim.MinPosWait, Now: s.cfg.Now,
		CredentialKey: cfg.CredentialKey, Personal: cfg.Personal,
	})
	if err != nil {
		return nil, fmt.Errorf("graphql schema: %w", err)
	}
	s.cache = newBoundedMap[string, cachedDoc](s.lim.CacheSize)
	s.rejected = newBoundedMap[[sha256.Size]byte, error](s.lim.CacheSize)
	s.metrics = kit.NewMetrics("graphql")
	s.registerMetrics()
	s.handler = s.routes()
	return s, nil
}

// Run follows the log until ctx ends (see projector.Run).
func (s *Server) Run(ctx context.Context) error {
	s.runCtx.Store(&ctx)
	defer s.followAsOf(ctx)()
	defer s.keepElig(ctx)()
	return s.proj.Run(ctx)
}

// AsOfIndex is the as-of index of the model (Run builds it once the
// projection has caught up).
func (s *Server) AsOfIndex() *schema.AsOfIndex { return s.asOf }

// EligEntries is the model's eligibility entries built ahead (Run builds
// them once the projection has caught up).
func (s *Server) EligEntries() *schema.EligEntries { return s.elig }

// LoadSnapshot loads the read model from the snapshot at path together
// with the side files beside it that belong to it (the eligibility
// entries and the as-of index), as Run does from the data directory. A
// server without a data directory writes nothing beside that snapshot.
func (s *Server) LoadSnapshot(path string) error { return s.snaps.LoadSnapshot(path, projector.Name) }

// indexesReady reports whether Run's eligibility build has ended and the
// as-of index is built (or both came with the snapshot): what /readyz
// waits for after the catch-up, so that a ready server answers every
// population query from them.
func (s *Server) indexesReady() bool {
	select {
	case <-s.eligRan:
		return s.asOf.Built()
	default:
		return false
	}
}

// WaitIndexes waits until the indexes Run builds once the projection has
// caught up — the eligibility entries and the as-of index — are built or
// were loaded with the snapshot (queries answer without them meanwhile,
// only slower: the first eligibleFor over a trade folds its candidates,
// an asOf population query waits for the as-of build). It polls; ctx ends
// the wait; it fails when the eligibility build failed or Run stopped
// before it.
func (s *Server) WaitIndexes(ctx context.Context) error {
	select {
	case <-s.eligRan:
		if s.eligErr != nil {
			return s.eligErr
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.asOf.Built() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Handler is the HTTP handler with every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Projector is the projector feeding the model (status, WaitFor).
func (s *Server) Projector() *projector.Projector { return s.proj }

// Model is the in-memory read model.
func (s *Server) Model() *readmodel.Memory { return s.model }

// Schema is the executable schema.
func (s *Server) Schema() graphql.Schema { return s.schema }

// pinger is a store that can say whether it answers (eventstore.Client's
// Ping, the services' readiness check).
type pinger interface {
	Ping(ctx context.Context) error
}

// ready is /readyz: the projection has caught up with the log at least
// once, has not stopped and follows the log now (its subscription is not
// dropped), the population indexes are built, and the store answers.
func (s *Server) ready(ctx context.Context) error {
	st := s.proj.Status()
	switch {
	case st.Err != nil:
		return errs.E(errs.Unavailable, "projection stopped: %v", st.Err)
	case !st.EverCaughtUp:
		return errs.E(errs.Unavailable, "projection catching up (%d events applied)", st.Applied)
	case !st.CaughtUp:
		return errs.E(errs.Unavailable, "projection resubscribing to the store (%d drops)", st.Drops)
	case !s.indexesReady():
		return errs.E(errs.Unavailable, "building the population indexes (eligibility entries, as-of index) after catching up")
	}
	if pg, ok := s.cfg.Store.(pinger); ok {
		if err := pg.Ping(ctx); err != nil {
			return errs.E(errs.Unavailable, "store unreachable: %v", err)
		}
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	kit.Operational(mux, s.metrics, s.ready)
	mux.HandleFunc("POST /graphql", s.serveGraphQL)
	mux.HandleFunc("GET /graphql", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("query") == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			serveExplorer(w, r)
			return
		}
		s.serveGraphQL(w, r)
	})
	mux.HandleFunc("GET /explorer", serveExplorer)
	if s.cfg.Web != nil {
		mux.Handle("/", s.cfg.Web)
	}
	return mux
}

func (s *Server) registerMetrics() {
	reg := s.metrics.Registry()
	status := s.proj.Status
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "position",
			Help: "Commit position of the last $all event or checkpoint applied.",
		}, func() float64 { return float64(status().Position.Commit) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "events_applied_total",
			Help: "Events applied since start.",
		}, func() float64 { return float64(status().Applied) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "caught_up",
			Help: "1 when the projection is live (caught up with the log), else 0.",
		}, func() float64 {
			if st := status(); st.CaughtUp && st.Err == nil {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "lag_seconds",
			Help: "0 when caught up; otherwise the age of the last applied event's record time (how far behind the projection is).",
		}, func() float64 {
			st := status()
			if st.CaughtUp || st.LastEventTime.IsZero() {
				return 0
			}
			return s.cfg.Now().Sub(st.LastEventTime).Seconds()
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "lag_positions",
			Help: "Commit position of the last ledger event in the store minus the position applied (asked of the store at scrape time; -1 when it cannot answer).",
		}, func() float64 {
			head, ok := s.head()
			if !ok {
				return -1
			}
			st := status()
			if !head.Less(st.Position) && head != st.Position {
				return float64(head.Commit - min(head.Commit, st.Position.Commit))
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "drops_total",
			Help: "Subscriptions dropped and resumed from the checkpoint.",
		}, func() float64 { return float64(status().Drops) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "events",
			Help: "Events held by the read model.",
		}, func() float64 { return float64(s.model.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "craftledger", Subsystem: "projection", Name: "undecodable_events",
			Help: "Ledger events the catalogue could not decode: kept raw for audit, left out of the views.",
		}, func() float64 { return float64(s.model.Undecodable()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "craftledger", Subsystem: "graphql", Name: "document_cache_hits_total",
			Help: "Requests answered with an already parsed and validated document.",
		}, func() float64 { return float64(s.docHits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "craftledger", Subsystem: "graphql", Name: "refusal_cache_hits_total",
			Help: "Requests refused with the reason a document of the same text was refused for, without parsing it again.",
		}, func() float64 { return float64(s.refusedHits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "craftledger", Subsystem: "graphql", Name: "planned_total",
			Help: "Requests answered by a compiled plan of their cached document instead of graphql-go's executor.",
		}, func() float64 { return float64(s.planned.Load()) }),
	)
}

// head is the position of the last ledger event in the store; false
// when the store cannot answer or the server is not running.
func (s *Server) head() (eventstore.Position, bool) {
	run := s.runCtx.Load()
	if run == nil || (*run).Err() != nil {
		return eventstore.Position{}, false
	}
	ctx, cancel := context.WithTimeout(*run, time.Second)
	defer cancel()
	evs, err := s.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{
		Direction: eventstore.Backwards, FromEnd: true, Max: 1,
		Filter: &eventstore.Filter{Prefixes: readmodel.Prefixes()},
	})
	if err != nil || len(evs) == 0 {
		return eventstore.Position{}, err == nil
	}
	return evs[0].Position, true
}

// request is a GraphQL-over-HTTP request.
type request struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
	// Extensions may carry minPosition (read-your-writes), as a string or
	// as the position object of a command's answer.
	Extensions map[string]json.RawMessage `json:"extensions"`
}

// minPosition is the read-your-writes position of a request: the
// X-Min-Position header, else extensions.minPosition; "" when none.
func minPosition(r *http.Request, req request) string {
	if h := r.Header.Get("X-Min-Position"); h != "" {
		return h
	}
	raw, ok := req.Extensions["minPosition"]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// response is the answer; Errors are in GraphQL's shape with extensions.code.
type response struct {
	Data   any                        `json:"data,omitempty"`
	Errors []gqlerrors.FormattedError `json:"errors,omitempty"`
	// raw is the whole answer, {"data":…}, written by a plan (no errors then).
	raw []byte
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.lim.Timeout)
	defer cancel()
	status, res, err := s.execute(ctx, r)
	if err != nil {
		status = errs.HTTPStatus(err)
		res = &response{Errors: []gqlerrors.FormattedError{formatError(err)}}
	}
	s.metrics.Observe("graphql", s.cfg.Now().Sub(start), err)
	body, err := res.encode()
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	if res.raw != nil && err == nil {
		releaseAnswer(res.raw) // written: the plan's buffer is free again
	}
}

// encode writes the answer; data goes through the reflection-free encoder.
func (r *response) encode() ([]byte, error) {
	if r.raw != nil {
		return r.raw, nil
	}
	b := make([]byte, 0, 1024)
	b = append(b, '{')
	if r.Data != nil {
		b = append(b, `"data":`...)
		var err error
		if b, err = appendJSON(b, r.Data); err != nil {
			return nil, err
		}
	}
	if len(r.Errors) > 0 {
		if r.Data != nil {
			b = append(b, ',')
		}
		eb, err := json.Marshal(r.Errors)
		if err != nil {
			return nil, err
		}
		b = append(b, `"errors":`...)
		b = append(b, eb...)
	}
	return append(b, '}'), nil
}

func formatError(err error) gqlerrors.FormattedError {
	e := schema.Wrap(err).(*schema.Error)
	return gqlerrors.FormattedError{Message: e.Error(), Extensions: e.Extensions(), Locations: []location.SourceLocation{}}
}

// execute runs one request; a non-nil error is a request-level failure.
func (s *Server) execute(ctx context.Context, r *http.Request) (int, *response, error) {
	req, err := s.decode(r)
	if err != nil {
		return 0, nil, err
	}
	if tok, ok := auth.BearerToken(r); ok {
		c, err := auth.Verify(s.cfg.Key, tok)
		if err != nil {
			return 0, nil, err
		}
		ctx = auth.WithClaims(ctx, c)
	} else if r.Header.Get("Authorization") != "" {
		return 0, nil, errs.E(errs.Unauthenticated, "authorization header is not a bearer token")
	}
	cd, err := s.document(req.Query)
	if err != nil {
		return 0, nil, err
	}
	doc, depth := cd.doc, cd.depth
	if op := operationOf(doc, req.OperationName); op == nil {
		return 0, nil, errs.E(errs.InvalidArgument, "no operation %q in the document", req.OperationName)
	} else if r.Method == http.MethodGet && op.Operation != ast.OperationTypeQuery {
		return 0, nil, errs.E(errs.InvalidArgument, "only queries may be sent with GET")
	}
	if depth > s.lim.MaxDepth {
		return 0, nil, errs.E(errs.ResourceExhausted, "query depth %d exceeds the limit of %d", depth, s.lim.MaxDepth)
	}
	if sh := measure(&s.schema, doc, req.OperationName, req.Variables, min(20, s.lim.MaxPageSize), s.lim.MaxComplexity); sh.over {
		// Counting stopped once past the limit: the figure is a lower bound.
		return 0, nil, errs.E(errs.ResourceExhausted, "query complexity is at least %d, over the limit of %d", sh.complexity, s.lim.MaxComplexity)
	}
	if h := minPosition(r, req); h != "" {
		pos, err := schema.ParsePosition(h)
		if err != nil {
			return 0, nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, s.lim.MinPosWait)
		err = s.proj.WaitFor(wctx, pos)
		cancel()
		if err != nil {
			return 0, nil, err
		}
	}
	var p *plan
	if !s.noPlans { // compiled (once per document) only when plans are on
		p = cd.plans.get(&s.schema, doc, req.OperationName)
	}
	if p != nil {
		body, err := p.run(ctx, &s.schema, req.Variables)
		if err == nil {
			s.planned.Add(1)
			out := &response{raw: body}
			if s.planCheck != nil {
				s.checkPlan(ctx, req, doc, out)
			}
			return http.StatusOK, out, nil
		}
		if ctx.Err() != nil {
			// What graphql-go answers then (below), without running the
			// query a second time.
			return 0, nil, errs.E(errs.DeadlineExceeded, "query took longer than %s", s.lim.Timeout)
		}
	}
	return s.executeGraphQL(ctx, req, doc)
}

// executeGraphQL runs the request through graphql-go's executor.
func (s *Server) executeGraphQL(ctx context.Context, req request, doc *ast.Document) (int, *response, error) {
	res := graphql.Execute(graphql.ExecuteParams{
		Schema: s.schema, AST: doc, OperationName: req.OperationName, Args: req.Variables, Context: ctx,
	})
	if ctx.Err() != nil && res.Data == nil {
		return 0, nil, errs.E(errs.DeadlineExceeded, "query took longer than %s", s.lim.Timeout)
	}
	out := &response{Data: res.Data, Errors: res.Errors}
	for i, e := range out.Errors {
		if e.Extensions == nil {
			// Errors raised by graphql-go itself (coercion of variables,
			// non-null violations) carry no code: they are the caller's.
			code := errs.Code(errs.InvalidArgument)
			if errors.Is(e.OriginalError(), context.DeadlineExceeded) {
				code = errs.Code(errs.DeadlineExceeded)
			}
			out.Errors[i].Extensions = map[string]any{"code": code}
		}
	}
	if len(out.Errors) > 0 {
		out.Errors = tidyErrors(req.Query, out.Errors)
	}
	return http.StatusOK, out, nil
}

func operationOf(doc *ast.Document, name string) *ast.OperationDefinition {
	var found *ast.OperationDefinition
	n := 0
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok {
			n++
			if name == "" || (op.Name != nil && op.Name.Value == name) {
				found = op
			}
		}
	}
	if name == "" && n > 1 {
		return nil
	}
	return found
}

func (s *Server) decode(r *http.Request) (request, error) {
	var req request
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				return req, errs.E(errs.InvalidArgument, "variables: not a JSON object: %v", err)
			}
		}
	} else {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
			return req, errs.E(errs.InvalidArgument, "content type %q: send application/json", ct)
		}
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, s.lim.MaxBodyBytes))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return req, errs.E(errs.ResourceExhausted, "request body exceeds %d bytes", s.lim.MaxBodyBytes)
			}
			return req, errs.E(errs.InvalidArgument, "request body: %v", err)
		}
		req.Variables = numbersToGo(req.Variables)
	}
	if strings.TrimSpace(req.Query) == "" {
		return req, errs.E(errs.InvalidArgument, "query is required")
	}
	return req, nil
}

// numbersToGo turns json.Number into int or float64 (graphql-go coerces
// variables from Go values).
func numbersToGo(m map[string]any) map[string]any {
	var conv func(v any) any
	conv = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				return int(i)
			}
			f, _ := x.Float64()
			return f
		case map[string]any:
			for k, e := range x {
				x[k] = conv(e)
			}
			return x
		case []any:
			for i, e := range x {
				x[i] = conv(e)
			}
			return x
		}
		return v
	}
	if m == nil {
		return nil
	}
	return conv(m).(map[string]any)
}

// checkPlan hands a planned answer and graphql-go's answer to the same
// request to planCheck (tests).
func (s *Server) checkPlan(ctx context.Context, req request, doc *ast.Document, planned *response) {
	pb, err1 := planned.encode()
	_, ref, err := s.executeGraphQL(ctx, req, doc)
	var rb []byte
	if err == nil {
		rb, err = ref.encode()
	}
	if err1 != nil || err != nil {
		pb = append(pb, fmt.Sprintf(" (plan encode: %v, graphql-go: %v)", err1, err)...)
	}
	s.planCheck(req.Query, pb, rb)
}

// document parses and validates query once and caches the result.
func (s *Server) document(query string) (cachedDoc, error) {
	if d, ok := s.cache.get(query); ok {
		s.docHits.Add(1)
		return d, nil
	}
	if err := checkShape(query, s.lim.MaxQueryBytes, s.lim.MaxNesting); err != nil {
		return cachedDoc{}, err
	}
	// A document refused once is refused again for a lookup: validating
	// it anew would cost what the refusal is meant to save.
	key := sha256.Sum256([]byte(query))
	if err, refused := s.rejected.get(key); refused {
		s.refusedHits.Add(1)
		return cachedDoc{}, err
	}
	doc, err := s.parseAndValidate(query)
	if err != nil {
		s.rejected.put(key, err)
		return cachedDoc{}, err
	}
	cd := cachedDoc{doc: doc, depth: docDepth(&s.schema, doc), plans: &planCache{}}
	s.cache.put(query, cd)
	return cd, nil
}

// parseAndValidate parses query and runs the guards and graphql-go's
// validation. The nodes are parsed without the source (NoSource): graphql-go
// v0.8.1 compiles a regexp and scans the whole source to locate every error
// it makes (language/location.GetLocation), so a document with many
// failing fields cost seconds; without the source an error's location is
// its offset, and tidyErrors turns offsets into lines and columns once per
// answer.
func (s *Server) parseAndValidate(query string) (*ast.Document, error) {
	doc, err := parser.Parse(parser.ParseParams{
		Source:  source.NewSource(&source.Source{Body: []byte(query), Name: "GraphQL request"}),
		Options: parser.ParseOptions{NoSource: true},
	})
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "syntax: %s", gqlerrors.FormatError(err).Message)
	}
	if err := checkFragments(doc, s.lim.MaxFragments); err != nil {
		return nil, err
	}
	if err := checkTotalFields(doc, s.lim.MaxTotalFields); err != nil {
		return nil, err
	}
	if err := checkSamePairs(doc, s.lim.MaxSamePairs); err != nil {
		return nil, err
	}
	if err := checkFields(doc, s.lim.MaxFields); err != nil {
		return nil, err
	}
	if err := checkFragmentCycles(&s.schema, doc); err != nil {
		return nil, err
	}
	s.validated.Add(1)
	if v := graphql.ValidateDocument(&s.schema, doc, cappedRules); !v.IsValid {
		return nil, errs.E(errs.InvalidArgument, "%s", joinValidation(v.Errors))
	}
	return doc, nil
}

// boundedMap is a map of at most max entries; when full, put forgets an
// arbitrary entry (Go's map order): cheap, and a hot entry is back on its
// next request. It keeps the server's validated documents by their text
// and why documents were refused by their text's SHA-256 (a refused text
// is not kept: up to 64 KiB each).
type boundedMap[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]V
}

func newBoundedMap[K comparable, V any](n int) *boundedMap[K, V] {
	return &boundedMap[K, V]{max: n, m: make(map[K]V, n)}
}

func (c *boundedMap[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *boundedMap[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

type cachedDoc struct {
	doc   *ast.Document
	depth int
	plans *planCache // compiled per operation name on first use
}
