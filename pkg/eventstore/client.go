package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/sony/gobreaker"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Config configures the adapter.
type Config struct {
	// URL is a KurrentDB connection string: "esdb://127.0.0.1:2113?tls=false"
	// for the embedded server, "esdb+discover://..." for a cluster.
	URL string
	// Timeout is the deadline of each call (appends, reads, opening a
	// subscription) unless the caller's context has an earlier one.
	// Default 10 s.
	Timeout time.Duration
	// Breaker tunes the circuit breaker.
	Breaker BreakerConfig
	// Logger receives breaker state changes (Warn) and the client's own
	// diagnostics (Debug). Nil discards.
	Logger *slog.Logger
}

// BreakerConfig tunes the circuit breaker guarding every call. Zero fields
// take the defaults.
type BreakerConfig struct {
	// Name of the breaker in logs and metrics. Default "eventstore".
	Name string
	// Failures is the number of consecutive infrastructure failures
	// (Unavailable, DeadlineExceeded, Internal) that opens the breaker.
	// Business outcomes never count. Default 5.
	Failures uint32
	// OpenFor is how long the breaker stays open before letting a probe
	// through (half-open). Default 2 s.
	OpenFor time.Duration
	// HalfOpenProbes is how many calls may probe a half-open breaker; that
	// many successes close it. Default 1.
	HalfOpenProbes uint32
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Breaker.Name == "" {
		c.Breaker.Name = "eventstore"
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = 5
	}
	if c.Breaker.OpenFor <= 0 {
		c.Breaker.OpenFor = 2 * time.Second
	}
	if c.Breaker.HalfOpenProbes == 0 {
		c.Breaker.HalfOpenProbes = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Client is the Store adapter over the official KurrentDB client. It is
// safe for concurrent use.
type Client struct {
	cfg  Config
	conf esdb.Configuration // template for (re)creating the client
	cb   *gobreaker.CircuitBreaker
	log  *slog.Logger

	run *workers // the goroutines calls run on

	mu     sync.Mutex
	cur    *conn
	closed bool
}

var _ Store = (*Client)(nil)

// Open parses cfg.URL and returns a client. It does not wait for the store:
// a store that is down yet makes calls fail with errs.Unavailable until it
// is up (use Ping for readiness). A malformed URL is errs.InvalidArgument.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	cfg.defaults()
	if cfg.URL == "" {
		return nil, errs.E(errs.InvalidArgument, "open event store: empty URL")
	}
	conf, err := esdb.ParseConnectionString(cfg.URL)
	if err != nil {
		return nil, errs.E(errs.InvalidArgument, "open event store: bad connection string: %v", err)
	}
	q := strings.ToLower(cfg.URL)
	// The client retries discovery 10 times by default while holding every
	// caller; fail sooner and let the breaker and the next call retry.
	if !strings.Contains(q, "maxdiscoverattempts=") {
		conf.MaxDiscoverAttempts = 3
	}
	if !strings.Contains(q, "gossiptimeout=") {
		conf.GossipTimeout = max(1, int(cfg.Timeout/time.Second))
	}
	if !conf.DnsDiscover && len(conf.GossipSeeds) == 0 && !strings.Contains(q, "nodepreference=") {
		// One node: the preference picks nothing (discovery reads no
		// gossip), and the v4 client's default, Leader, only costs every
		// call a metadata map on its context's incoming side, which is
		// never sent (esdb/options.go configureGrpcCall).
		conf.NodePreference = esdb.NodePreferenceRandom
	}
	log := cfg.Logger.With("component", "eventstore", "breaker", cfg.Breaker.Name)
	conf.Logger = func(level esdb.LogLevel, format string, args ...any) {
		log.Debug(fmt.Sprintf(format, args...), "client_level", level)
	}
	c := &Client{cfg: cfg, conf: *conf, log: log, run: newWorkers()}
	c.cb = gobreaker.NewCircuitBreaker(gobreaker.Settings{
		Name:        cfg.Breaker.Name,
		MaxRequests: cfg.Breaker.HalfOpenProbes,
		Timeout:     cfg.Breaker.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= cfg.Breaker.Failures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			lvl := slog.LevelWarn
			if to == gobreaker.StateClosed {
				lvl = slog.LevelInfo
			}
			log.Log(context.Background(), lvl, "circuit breaker state change", "from", from.String(), "to", to.String())
		},
		IsSuccessful: countsAsSuccess,
	})
	if err := ctx.Err(); err != nil {
		return nil, newErr(errs.Unavailable, err, "open event store: %v", err)
	}
	k, err := c.acquire()
	if err != nil {
		return nil, err
	}
	k.release()
	return c, nil
}

// countsAsSuccess: business outcomes and the caller's own cancellation do
// not count against the breaker.
func countsAsSuccess(err error) bool {
	if _, ended := errors.AsType[callerEnded](err); ended || err == nil || errors.Is(err, context.Canceled) {
		return true
	}
	return errs.IsBusiness(err)
}

// callerEnded marks an error that ended the call because the caller's own
// context ended first; it keeps the classified error's kind and message.
type callerEnded struct{ error }

func (e callerEnded) Unwrap() error { return e.error }

// conn is one official client and the calls using it. The official client
// panics when it is closed while a call waits for its connection, so a
// retired conn is closed only once its last call has returned.
type conn struct {
	db       *esdb.Client
	mu       sync.Mutex
	inflight int
	retired  bool
}

func (k *conn) release() {
	k.mu.Lock()
	k.inflight--
	closeNow := k.retired && k.inflight == 0
	k.mu.Unlock()
	if closeNow {
		_ = k.db.Close()
	}
}

func (k *conn) retire() {
	k.mu.Lock()
	k.retired = true
	closeNow := k.inflight == 0
	k.mu.Unlock()
	if closeNow {
		_ = k.db.Close()
	}
}

// acquire returns the current connection with one more call counted on
// it; the caller must release it.
func (c *Client) acquire() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, newErr(errs.Unavailable, nil, "event store client is closed")
	}
	if c.cur == nil {
		conf := c.conf
		db, err := esdb.NewClient(&conf)
		if err != nil {
			return nil, errs.E(errs.InvalidArgument, "open event store: %v", err)
		}
		c.cur = &conn{db: db}
	}
	c.cur.mu.Lock()
	c.cur.inflight++
	c.cur.mu.Unlock()
	return c.cur, nil
}

// reset retires k when it is still the current connection. The official
// client closes itself for good after a failed discovery (the store was
// down); the next call then builds a fresh one, so the adapter recovers by
// itself.
func (c *Client) reset(k *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == k && !c.closed {
		c.cur = nil
		k.retire()
		c.log.Debug("event store connection reset")
	}
}

// Close releases the connection (once calls in flight have returned).
// Later calls fail with errs.Unavailable.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.run.stop()
	if c.cur != nil {
		c.cur.retire()
		c.cur = nil
	}
	return nil
}

// BreakerState is the breaker's state: "closed", "half-open" or "open".
func (c *Client) BreakerState() string { return c.cb.State().String() }

// call runs fn through the breaker with the call deadline and classifies
// its error. It returns when ctx ends even if the official client is still
// busy discovering the store (discovery ignores contexts); fn's late result
// is then dropped.
func call[T any](c *Client, ctx context.Context, op opName, fn func(ctx context.Context, db *esdb.Client) (T, error)) (T, error) {
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	var out T // set by the breaker's function: nothing boxed into an interface
	_, err := c.cb.Execute(func() (any, error) {
		k, err := c.acquire()
		if err != nil {
			return nil, err
		}
		done := make(chan result, 1)
		c.run.run(func() {
			defer k.release()
			defer func() {
				// The official client panics ("send on closed channel") when
				// it is closed while a call waits for its connection, which
				// happens to calls outliving their deadline across Close or
				// a reset. Such a call has failed; say so instead of crashing.
				if p := recover(); p != nil {
					done <- result{err: newErr(errs.Unavailable, nil, "%s: connection closed during the call (%v)", op, p)}
				}
			}()
			v, err := fn(ctx, k.db)
			done <- result{v, err}
		})
		var r result
		select {
		case r = <-done:
		case <-ctx.Done():
			r.err = ctx.Err()
		}
		if r.err == nil {
			out = r.v
			return nil, nil
		}
		if ee, ok := errors.AsType[*esdb.Error](r.err); ok && ee.Code() == esdb.ErrorCodeConnectionClosed {
			c.reset(k)
		}
		err = classify(ctx, op, r.err)
		if caller.Err() != nil {
			// The caller's own deadline or cancellation ended the call
			// before the adapter's timeout: the caller gave up, the store
			// did not fail (a read-your-writes wait that timed out must
			// not open the breaker that guards every write).
			err = callerEnded{err}
		}
		return nil, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = storeErr(errs.Unavailable, ErrBreakerOpen,
			fmt.Sprintf("%s: event store unavailable (circuit breaker %s open); retry later", op, c.cfg.Breaker.Name), c.cfg.Breaker.OpenFor)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// opName names a store call in its errors ("append craftsman-7 at revision
// 3", "read craftsman-7", "read $all"): verb then stream, then "at" and the
// expectation when hasExp. It is formatted only when a call fails, not on
// every call.
type opName struct {
	verb, stream string // "append ", "craftsman-7"
	exp          Expected
	hasExp       bool
}

func (o opName) String() string {
	if o.hasExp {
		return o.verb + o.stream + " at " + o.exp.String()
	}
	return o.verb + o.stream
}

// Append writes events atomically to stream under exp. Re-appending the same
// event IDs at the same expectation is idempotent. A failed expectation is
// errs.Conflict with a *WrongRevisionError.
func (c *Client) Append(ctx context.Context, stream string, exp Expected, events ...EventData) (AppendResult, error) {
	op := opName{verb: "append ", stream: stream, exp: exp, hasExp: true}
	if stream == "" {
		return AppendResult{}, errs.E(errs.InvalidArgument, "%s: empty stream name", op)
	}
	if len(events) == 0 {
		return AppendResult{}, errs.E(errs.InvalidArgument, "%s: no events", op)
	}
	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		d, err := toEventData(e)
		if err != nil {
			return AppendResult{}, fmt.Errorf("%s: event %d: %w", op, i, err)
		}
		data[i] = d
	}
	return call(c, ctx, op, func(ctx context.Context, db *esdb.Client) (AppendResult, error) {
		wr, err := db.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: toExpected(exp)}, data...)
		if err != nil {
			if ee, ok := errors.AsType[*esdb.Error](err); ok && ee.Code() == esdb.ErrorCodeWrongExpectedVersion {
				return AppendResult{}, wrongRevision(stream, exp, err)
			}
			return AppendResult{}, err
		}
		return AppendResult{NextRevision: wr.NextExpectedVersion, Position: Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition}}, nil
	})
}

func toExpected(e Expected) esdb.ExpectedRevision {
	switch e.Kind {
	case ExpectNoStream:
		return esdb.NoStream{}
	case ExpectStreamExists:
		return esdb.StreamExists{}
	case ExpectRevision:
		return esdb.Revision(e.Revision)
	}
	return esdb.Any{}
}

func toEventData(e EventData) (esdb.EventData, error) {
	if e.Type == "" {
		return esdb.EventData{}, errs.E(errs.InvalidArgument, "empty event type")
	}
	id := uuid.New()
	if e.ID != "" {
		var err error
		if id, err = uuid.Parse(e.ID); err != nil {
			return esdb.EventData{}, errs.E(errs.InvalidArgument, "event id %q is not a UUID", e.ID)
		}
	}
	ct := esdb.ContentTypeJson
	switch e.ContentType {
	case "", "application/json":
	case "application/octet-stream":
		ct = esdb.ContentTypeBinary
	default:
		return esdb.EventData{}, errs.E(errs.InvalidArgument, "content type %q (want application/json or application/octet-stream)", e.ContentType)
	}
	return esdb.EventData{EventID: id, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: e.Metadata}, nil
}

func fromRecorded(r *esdb.RecordedEvent, ids *idArena) RecordedEvent {
	return RecordedEvent{
		Stream:      r.StreamID,
		ID:          ids.format(r.EventID),
		Type:        r.EventType,
		Revision:    r.EventNumber,
		Position:    Position{Commit: r.Position.Commit, Prepare: r.Position.Prepare},
		Data:        r.Data,
		Metadata:    r.UserMetadata,
		Created:     r.CreatedDate,
		ContentType: recordedContentType(r.ContentType),
	}
}

// recordedContentType is RecordedEvent.ContentType for the client's name of
// it: application/json for a JSON event (empty here, as in EventData),
// application/octet-stream for any other.
func recordedContentType(ct string) string {
	if ct == "application/json" {
		return ""
	}
	return ct
}

func count(max int) uint64 {
	if max <= 0 {
		return math.MaxUint64
	}
	return uint64(max)
}

func direction(d Direction) esdb.Direction {
	if d == Backwards {
		return esdb.Backwards
	}
	return esdb.Forwards
}

// ReadStream reads stream from opts.From (or its end) in opts.Direction, at
// most opts.Max events. A stream that does not exist or was deleted is
// errs.NotFound (deleted also matches ErrStreamDeleted).
func (c *Client) ReadStream(ctx context.Context, stream string, opts ReadOptions) ([]RecordedEvent, error) {
	if opts.FromEnd && opts.Direction == Forwards {
		// Nothing lies after a stream's end, and KurrentDB refuses a forward
		// read from it (its index reader takes the end as revision -1:
		// docs/store.md). The stream's last event, read backwards, answers
		// whether it exists, as any other read of it would.
		if _, err := c.ReadStream(ctx, stream, ReadOptions{Direction: Backwards, FromEnd: true, Max: 1}); err != nil {
			return nil, err
		}
		return nil, nil
	}
	op := opName{verb: "read ", stream: stream}
	var from esdb.StreamPosition = esdb.Revision(opts.From)
	if opts.FromEnd {
		from = esdb.End{}
	} else if opts.From == 0 && opts.Direction == Forwards {
		from = esdb.Start{}
	}
	return call(c, ctx, op, func(ctx context.Context, db *esdb.Client) ([]RecordedEvent, error) {
		rs, err := db.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: direction(opts.Direction), From: from}, count(opts.Max))
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		var out []RecordedEvent
		var ids idArena
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			out = append(out, fromRecorded(ev.Event, &ids))
		}
	})
}

// ReadAll reads the global log from opts.From (inclusive) or its end, in
// opts.Direction, skipping system events ($-prefixed types) unless
// opts.WithSystem, at most
// opts.Max events. opts.Filter is applied by the adapter while reading (the
// v4 client offers server-side filters on subscriptions only, not on
// reads). With a Max the server is asked for pages of a bounded size —
// Max events when there is no filter — and the read goes on from the last
// position only while system or filtered events left the page short, so a
// small read does not make the server stream the log.
func (c *Client) ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error) {
	match, err := compileFilter(opts.Filter)
	if err != nil {
		return nil, err
	}
	var from esdb.AllPosition = esdb.Position{Commit: opts.From.Commit, Prepare: opts.From.Prepare}
	switch {
	case opts.FromEnd:
		from = esdb.End{}
	case opts.From.IsStart() && opts.Direction == Forwards:
		from = esdb.Start{}
	}
	return call(c, ctx, opName{verb: "read $all"}, func(ctx context.Context, db *esdb.Client) ([]RecordedEvent, error) {
		var out []RecordedEvent
		if opts.Max > 0 {
			// A page of events is ~100 bytes a slot: size it once rather
			// than growing it a dozen times (bounded for huge Max).
			out = make([]RecordedEvent, 0, min(opts.Max, readAllPrealloc))
		}
		var last *esdb.Position // position of the last event received, once a page ended
		var ids idArena
		pageFrom := from
		for {
			n := readAllPage(opts.Max-len(out), opts.Filter != nil)
			if last != nil {
				n++ // the page starts at last again (From is inclusive)
			}
			rs, err := db.ReadAll(ctx, esdb.ReadAllOptions{Direction: direction(opts.Direction), From: pageFrom}, n)
			if err != nil {
				return nil, err
			}
			var got uint64
			var end *esdb.Position
			for opts.Max <= 0 || len(out) < opts.Max {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					rs.Close()
					return nil, err
				}
				got++
				if ev.Event == nil {
					continue
				}
				p := ev.Event.Position
				if last != nil && p == *last {
					continue
				}
				end = &p
				if !opts.WithSystem && isSystem(ev.Event.EventType) || !match(ev.Event.StreamID, ev.Event.EventType) {
					continue
				}
				out = append(out, fromRecorded(ev.Event, &ids))
			}
			rs.Close()
			if opts.Max <= 0 || len(out) >= opts.Max || got < n || end == nil {
				return out, nil // done, or the log ended before the page was full
			}
			last, pageFrom = end, *end
		}
	})
}

// readAllPrealloc bounds the slots ReadAll reserves up front for a Max.
const readAllPrealloc = 8192

// readAllPageFiltered bounds one page of a filtered ReadAll with a Max:
// the filter may drop most events, so pages are larger than the events
// still wanted, but a few thousand at most.
const readAllPageFiltered = 4096

// readAllPage is how many events to ask the server for when want more are
// needed (want <= 0: no Max, everything).
func readAllPage(want int, filtered bool) uint64 {
	switch {
	case want <= 0:
		return math.MaxUint64
	case filtered:
		return uint64(max(want, readAllPageFiltered))
	}
	return uint64(want)
}

func isSystem(eventType string) bool { return strings.HasPrefix(eventType, "$") }

// compileFilter returns a client-side matcher equivalent to f.
func compileFilter(f *Filter) (func(stream, typ string) bool, error) {
	if f == nil {
		return func(string, string) bool { return true }, nil
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	pick := func(stream, typ string) string {
		if f.OnEventType {
			return typ
		}
		return stream
	}
	if f.Regex != "" {
		re, err := regexp.Compile(f.Regex)
		if err != nil {
			return nil, errs.E(errs.InvalidArgument, "filter regex %q: %v", f.Regex, err)
		}
		return func(s, t string) bool { return re.MatchString(pick(s, t)) }, nil
	}
	return func(s, t string) bool {
		v := pick(s, t)
		for _, p := range f.Prefixes {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
		return false
	}, nil
}

func (f *Filter) validate() error {
	if (f.Regex == "") == (len(f.Prefixes) == 0) {
		return errs.E(errs.InvalidArgument, "filter needs either prefixes or a regex, not both or neither")
	}
	return nil
}

// Ping checks that the store answers (a read of a stream that need not
// exist), through the breaker: use it as a readiness check.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.ReadStream(ctx, "craftledger-ping", ReadOptions{Max: 1})
	if errors.Is(err, errs.NotFound) {
		return nil
	}
	return err
}
