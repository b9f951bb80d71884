package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Meta is who asked for a command and why: it becomes the metadata of every
// event the command appends.
type Meta struct {
	// IdempotencyKey, when set, makes the command's event ids deterministic
	// (EventID) so a repeated command is a no-op returning the first result.
	IdempotencyKey string
	// Issuer is the organisation (academy, enterprise, union) on whose
	// authority the fact is recorded; Actor is the acting user.
	Issuer string
	Actor  string
	// CorrelationID and CausationID follow KurrentDB's $correlationId /
	// $causationId convention. When empty, CorrelationID defaults to
	// CausationID, and CausationID to the idempotency key (when it is a
	// ValidRequestID) or the first event id.
	CorrelationID string
	CausationID   string
	// Source says how the events enter the ledger: "api" (default),
	// "import" (a back-filled record) or "system".
	Source string
}

// Event is a new event decided by a command.
type Event struct {
	Type string
	// Data is marshalled to JSON; []byte and json.RawMessage are used as is.
	Data any
	// OccurredAt is when it happened in the world; zero means the handler's
	// clock (now). Back-filled records carry their historical date.
	OccurredAt time.Time
	// ID overrides the event id; normally left empty (derived from the key).
	ID string
	// SchemaVersion overrides the version read from the type's ".vN" suffix.
	SchemaVersion int
}

// History is a stream as loaded before deciding.
type History struct {
	Stream string
	// Exists is false when the stream has no events yet (Events is empty).
	Exists bool
	Events []eventstore.RecordedEvent
	// lastHash caches the chain hash of the last event when this handler
	// sealed it (saves decoding its metadata); "" = read it from metadata.
	lastHash string
}

// Revision is the revision of the last event; meaningful only when Exists.
func (h History) Revision() uint64 {
	if len(h.Events) == 0 {
		return 0
	}
	return h.Events[len(h.Events)-1].Revision
}

// DecideFunc turns a stream's history into the command's new events, or a
// business error (errs.InvalidArgument, errs.NotFound, errs.FailedPrecondition,
// errs.PermissionDenied...). It must not write anything: it may run several
// times when the command is retried after a conflict. Returning no events
// means there is nothing to do; the current revision is returned.
type DecideFunc func(ctx context.Context, h History) ([]Event, error)

// Recorded is a decision's answer when the command's fact is already on
// the stream: a command whose event carries an explicit id (Event.ID, e.g.
// derived from the fact's own id) finds that event, with the same data,
// already recorded. Returned as the DecideFunc's error (Already), it makes
// the command write nothing and answer with a replay of that event
// (Result.Replayed, its revision and position) — in Execute as in
// ExecuteBatch, where the event may be one an earlier command of the batch
// decided.
type Recorded struct {
	Event eventstore.RecordedEvent
}

func (r *Recorded) Error() string {
	return fmt.Sprintf("event %s already recorded on %s at revision %d", r.Event.ID, r.Event.Stream, r.Event.Revision)
}

// Already is the decision that the command's fact is e, already on the
// stream (Recorded).
func Already(e eventstore.RecordedEvent) error { return &Recorded{Event: e} }

// recorded reports the event a decision found already recorded, if err is
// that answer.
func recorded(err error) (eventstore.RecordedEvent, bool) {
	var r *Recorded
	if err != nil && errors.As(err, &r) {
		return r.Event, true
	}
	return eventstore.RecordedEvent{}, false
}

// replayOf is a command's result when its fact was already recorded as e.
func replayOf(stream string, e eventstore.RecordedEvent) Result {
	return Result{Stream: stream, Revision: e.Revision, Position: e.Position, EventIDs: []string{e.ID}, Replayed: true}
}

// Command is one write to one stream.
type Command struct {
	// Name labels the command in errors ("register craftsman").
	Name   string
	Stream string
	Meta   Meta
	Decide DecideFunc
	// RetryOnConflict re-reads and re-decides when a concurrent append won
	// the race (up to the handler's MaxRetries). Commands whose decision
	// may not be silently re-evaluated (a create that must be first) leave
	// it false; a keyed duplicate is still recognised either way.
	RetryOnConflict bool
	// ExpectNew says the command normally creates its stream (a
	// registration): with no cached copy and no idempotency key, the
	// handler decides on an empty history without reading first and
	// appends expecting no stream; if the stream exists after all, that
	// append fails (or, with fixed ids, its read-back finds another
	// writer's events) and the command is decided again on the stream as
	// read.
	// Keyed commands always read (a retry must find its first result).
	ExpectNew bool
}

// Result says where a command's events landed: enough for read-your-writes.
type Result struct {
	Stream string `json:"stream"`
	// Revision is the stream revision of the last event the command wrote
	// (or of the stream's last event when it had nothing to write).
	Revision uint64 `json:"revision"`
	// Position is the $all position (commit/prepare) of that event.
	Position eventstore.Position `json:"position"`
	EventIDs []string            `json:"eventIds"`
	// Replayed is true when the idempotency key had already been used and
	// nothing was written this time.
	Replayed bool `json:"replayed,omitempty"`
}

// Seal encodes an event's metadata for appending when the ledger keeps a
// tamper-evidence hash chain: given the hash of the stream's previous event
// ("" for the first), the event's type, data and metadata (PrevHash and Hash
// empty), it returns the metadata bytes to store and the event's hash, which
// chains the next event. Services adapt events/chain.Seal to it.
type Seal func(prevHash, eventType string, data []byte, m Metadata) (meta []byte, hash string, err error)

// Options configure a Handler.
type Options struct {
	// Clock is the time source for occurredAt defaults; nil = time.Now.
	Clock func() time.Time
	// MaxRetries bounds the re-decide loop after a conflict (with jittered
	// exponential backoff from 1 ms, capped at 64 ms); 0 = 10.
	MaxRetries int
	// Seal, when set, chains every event's metadata (prevHash/hash);
	// otherwise metadata is plain JSON without hashes.
	Seal Seal
	// CacheStreams is how many streams' histories the handler keeps in
	// memory to decide without a read (optimistically: a stale history
	// fails the append on its expected revision, or the read-back of a
	// fixed-id append, and the stream is then reloaded). 0 = 4096;
	// negative disables the cache.
	CacheStreams int
	// CacheEvents bounds the events held over all cached streams (least
	// recently used streams go first). 0 = 200,000.
	CacheEvents int
}

// Handler runs commands against a store. It is safe for concurrent use.
type Handler struct {
	store   eventstore.Store
	clock   func() time.Time
	retries int
	seal    Seal
	cache   *cache
	locks   Locks
}

// New returns a Handler over store.
func New(store eventstore.Store, opts Options) *Handler {
	h := &Handler{store: store, clock: opts.Clock, retries: opts.MaxRetries, seal: opts.Seal}
	if h.clock == nil {
		h.clock = time.Now
	}
	if h.retries <= 0 {
		h.retries = 10
	}
	events := opts.CacheEvents
	if events <= 0 {
		events = 200_000
	}
	switch {
	case opts.CacheStreams == 0:
		h.cache = newCache(4096, events)
	case opts.CacheStreams > 0:
		h.cache = newCache(opts.CacheStreams, events)
	}
	return h
}

func (h *Handler) recordedNow() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{Created: h.clock()}
}

// Store is the handler's store, for decide functions that read other streams.
func (h *Handler) Store() eventstore.Store { return h.store }

// Now is the handler's clock.
func (h *Handler) Now() time.Time { return h.clock() }

// Load reads a whole stream; a missing stream is an empty History, not an error.
func Load(ctx context.Context, store eventstore.Store, stream string) (History, error) {
	evs, err := store.ReadStream(ctx, stream, eventstore.ReadOptions{})
	if err != nil {
		if errors.Is(err, errs.NotFound) {
			return History{Stream: stream}, nil
		}
		return History{}, fmt.Errorf("read %s: %w", stream, err)
	}
	return History{Stream: stream, Exists: len(evs) > 0, Events: evs}, nil
}

// Execute runs c: load, detect a replayed key, decide, append, retry.
func (h *Handler) Execute(ctx context.Context, c Command) (Result, error) {
	if c.Stream == "" {
		return Result{}, errs.E(errs.InvalidArgument, "%s: no stream", c.Name)
	}
	if c.Decide == nil {
		return Result{}, errs.E(errs.Internal, "%s: no decide function", c.Name)
	}
	defer h.locks.Lock(c.Stream)()
	decide := true
	useCache := true
	readBack := false // decided again after another writer's events answered a fixed-id append
	for attempt := 0; ; attempt++ {
		var hist History
		cached := false
		if useCache {
			hist, cached = h.cache.get(c.Stream)
			if !cached && c.ExpectNew && c.Meta.IdempotencyKey == "" {
				// Optimistic like a cached copy: verified by the append.
				hist, cached = History{Stream: c.Stream}, true
			}
		}
		if !cached {
			var err error
			if hist, err = h.loadAndCache(ctx, c.Stream); err != nil {
				return Result{}, fmt.Errorf("%s: %w", c.Name, err)
			}
		}
		scope := ""
		if c.Meta.IdempotencyKey != "" {
			var res Result
			var done bool
			var err error
			if scope, res, done, err = checkKey(ctx, c, hist); err != nil || done {
				return res, err
			}
		}
		if !decide {
			return Result{}, errs.E(errs.Conflict, "%s: %s changed concurrently; retry", c.Name, c.Stream)
		}
		evs, err := c.Decide(ctx, hist)
		if cached && (err != nil || len(evs) == 0) {
			// Refusals and no-ops are answered from the store's state, never
			// from a cached copy another writer may have outdated.
			useCache = false
			attempt--
			continue
		}
		if e, ok := recorded(err); ok {
			return replayOf(c.Stream, e), nil
		}
		if err != nil {
			return Result{}, err
		}
		if len(evs) == 0 {
			if !hist.Exists {
				return Result{Stream: c.Stream}, nil
			}
			last := hist.Events[len(hist.Events)-1]
			return Result{Stream: c.Stream, Revision: last.Revision, Position: last.Position, EventIDs: []string{}}, nil
		}
		data, ids, lastHash, err := h.prepare(c, hist, evs, scope)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", c.Name, err)
		}
		exp := eventstore.NoStream()
		if hist.Exists {
			exp = eventstore.At(hist.Revision())
		}
		ar, err := h.store.Append(ctx, c.Stream, exp, data...)
		if err == nil && fixedIDs(c, evs) {
			// The store may have answered with another writer's events
			// (readback.go): cache and answer only what it holds as ours.
			own, rerr := h.ownAppend(ctx, c.Stream, ar, data)
			if rerr != nil || !own {
				h.cache.drop(c.Stream)
			}
			switch {
			case rerr != nil:
				return Result{}, errReadBack(c.Name, c.Stream, rerr)
			case !own && readBack:
				return Result{}, errNotOwn(c.Name, c.Stream)
			case !own:
				// Decide again on the stream as stored (once): a replay
				// of the key, its refusal, or the decision's own answer.
				readBack, useCache = true, false
				attempt--
				continue
			}
		}
		if err == nil {
			next := h.cache.extend(hist, data, ar, h.recordedNow)
			next.lastHash = lastHash
			h.cache.put(next)
			return Result{Stream: c.Stream, Revision: ar.NextRevision, Position: ar.Position, EventIDs: ids}, nil
		}
		h.cache.drop(c.Stream)
		if errors.Is(err, errs.Conflict) && cached {
			// Our copy was stale: reload without spending an attempt.
			useCache = false
			attempt--
			continue
		}
		if !errors.Is(err, errs.Conflict) {
			return Result{}, fmt.Errorf("%s: append %s: %w", c.Name, c.Stream, err)
		}
		if attempt >= h.retries {
			return Result{}, fmt.Errorf("%s: append %s after %d attempts: %w", c.Name, c.Stream, attempt+1, err)
		}
		// Lost a race: reload. With a key, the winner may have been our own
		// twin; without retry permission we only look for that.
		if !c.RetryOnConflict {
			if c.Meta.IdempotencyKey == "" {
				return Result{}, fmt.Errorf("%s: append %s: %w", c.Name, c.Stream, err)
			}
			decide = false
			continue
		}
		// Jittered exponential backoff spreads the racers on a hot stream.
		wait := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("%s: %w", c.Name, errs.E(errs.DeadlineExceeded, "gave up retrying %s: %v", c.Stream, ctx.Err()))
		case <-time.After(wait):
		}
	}
}

// checkKey looks for the events a keyed command already wrote to hist. The
// first organisation to use a key on a stream gets EventID ids; another
// organisation reusing it gets ScopedEventID ids (scope = its organisation),
// so one caller's key never answers for another's. When the caller's events
// are found, the command is decided again on the history before them: the
// same request decides the same events, and the result is replayed (done);
// another request under the same key (another command, another body) is
// refused with errs.FailedPrecondition rather than silently answered.
func checkKey(ctx context.Context, c Command, hist History) (scope string, res Result, done bool, err error) {
	key := c.Meta.IdempotencyKey
	if !hist.Exists {
		return "", Result{}, false, nil
	}
	idx := indexOf(hist, EventID(hist.Stream, key, 0))
	if idx < 0 {
		return "", Result{}, false, nil
	}
	if m, err := DecodeMetadata(hist.Events[idx].Metadata); err == nil && m.IssuerOrgID != c.Meta.Issuer {
		scope = c.Meta.Issuer
		if idx = indexOf(hist, ScopedEventID(hist.Stream, scope, key, 0)); idx < 0 {
			return scope, Result{}, false, nil
		}
	}
	res = Result{Stream: hist.Stream, Replayed: true}
	for n := 0; idx+n < len(hist.Events); n++ {
		e := hist.Events[idx+n]
		if e.ID != keyedID(hist.Stream, scope, key, n) {
			break
		}
		res.EventIDs = append(res.EventIDs, e.ID)
		res.Revision, res.Position = e.Revision, e.Position
	}
	if err := sameRequest(ctx, c, hist, idx, len(res.EventIDs)); err != nil {
		return scope, Result{}, false, err
	}
	return scope, res, true, nil
}

// sameRequest decides c again on the history before the n events at idx
// that its key already wrote, and compares the decided events (types, data
// and any explicit occurredAt) with them.
func sameRequest(ctx context.Context, c Command, hist History, idx, n int) error {
	before := History{Stream: hist.Stream, Exists: idx > 0, Events: hist.Events[:idx:idx]}
	evs, err := c.Decide(ctx, before)
	if _, already := recorded(err); err != nil && !already && !isBusiness(err) {
		return fmt.Errorf("%s: check idempotency key: %w", c.Name, err)
	}
	same := err == nil && len(evs) == n
	for i := 0; same && i < n; i++ {
		stored := hist.Events[idx+i]
		data, err := encodeData(evs[i])
		same = err == nil && evs[i].Type == stored.Type && bytes.Equal(data, stored.Data)
		if same && !evs[i].OccurredAt.IsZero() {
			// A date given explicitly is part of the request; a defaulted
			// one (now) is not.
			m, err := DecodeMetadata(stored.Metadata)
			same = err == nil && m.OccurredAt.Equal(evs[i].OccurredAt)
		}
	}
	if !same {
		return errs.E(errs.FailedPrecondition, "%s: idempotency key %q was already used on %s for a different request (another command or body); send a new key",
			c.Name, c.Meta.IdempotencyKey, hist.Stream)
	}
	return nil
}

// isBusiness reports whether err is a decision's refusal rather than a
// failure to decide (a store or bug error).
func isBusiness(err error) bool {
	for _, k := range []error{errs.InvalidArgument, errs.NotFound, errs.Conflict, errs.FailedPrecondition, errs.PermissionDenied} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func indexOf(hist History, id string) int {
	for i := range hist.Events {
		if hist.Events[i].ID == id {
			return i
		}
	}
	return -1
}

// encodeData is an event's data as appended.
func encodeData(e Event) ([]byte, error) {
	switch d := e.Data.(type) {
	case []byte:
		return d, nil
	case json.RawMessage:
		return d, nil
	}
	b, err := json.Marshal(e.Data)
	if err != nil {
		return nil, errs.E(errs.Internal, "encode %s: %v", e.Type, err)
	}
	return b, nil
}

// Metadata is the JSON metadata every craftledger event carries. Its
// fields and JSON names are exactly those of events.Metadata, so a value
// converts with events.Metadata(m) (pkg does not import the domain module).
type Metadata struct {
	SchemaVersion int       `json:"schemaVersion"`
	OccurredAt    time.Time `json:"occurredAt"`
	IssuerOrgID   string    `json:"issuerOrgId"`
	ActingUserID  string    `json:"actingUserId"`
	CorrelationID string    `json:"$correlationId,omitempty"`
	CausationID   string    `json:"$causationId,omitempty"`
	Source        string    `json:"source,omitempty"`
	PrevHash      string    `json:"prevHash,omitempty"`
	Hash          string    `json:"hash,omitempty"`
}

// TypeVersion reads the version from a type name's ".vN" suffix (1 when absent).
func TypeVersion(eventType string) int {
	i := strings.LastIndex(eventType, ".v")
	if i < 0 {
		return 1
	}
	n, err := strconv.Atoi(eventType[i+2:])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// OccurredAt is the date r records: its metadata's occurredAt (as
// corrected, for an event Corrected returns), zero when it has none or the
// metadata does not decode.
func OccurredAt(r eventstore.RecordedEvent) time.Time {
	m, _ := DecodeMetadata(r.Metadata)
	return m.OccurredAt
}

// DecodeMetadata decodes a recorded event's metadata.
func DecodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, errs.E(errs.Internal, "decode metadata: %v", err)
	}
	return m, nil
}

func (h *Handler) prepare(c Command, hist History, evs []Event, scope string) ([]eventstore.EventData, []string, string, error) {
	out := make([]eventstore.EventData, len(evs))
	ids := make([]string, len(evs))
	now := h.clock().UTC()
	prev := hist.lastHash
	if h.seal != nil && hist.Exists && prev == "" {
		m, err := DecodeMetadata(hist.Events[len(hist.Events)-1].Metadata)
		if err != nil {
			return nil, nil, "", err
		}
		prev = m.Hash
	}
	for i, e := range evs {
		if e.Type == "" {
			return nil, nil, "", errs.E(errs.Internal, "event %d has no type", i)
		}
		id := e.ID
		switch {
		case id != "":
		case c.Meta.IdempotencyKey != "":
			id = keyedID(c.Stream, scope, c.Meta.IdempotencyKey, i)
		default:
			id = NewID()
		}
		ids[i] = id
		data, err := encodeData(e)
		if err != nil {
			return nil, nil, "", err
		}
		m := Metadata{
			SchemaVersion: e.SchemaVersion,
			OccurredAt:    e.OccurredAt.UTC(),
			IssuerOrgID:   c.Meta.Issuer,
			ActingUserID:  c.Meta.Actor,
			CausationID:   c.Meta.CausationID,
			CorrelationID: c.Meta.CorrelationID,
			Source:        c.Meta.Source,
		}
		if e.OccurredAt.IsZero() {
			m.OccurredAt = now
		}
		if m.SchemaVersion == 0 {
			m.SchemaVersion = TypeVersion(e.Type)
		}
		if m.Source == "" {
			m.Source = "api"
		}
		if m.CausationID == "" {
			// The key, unless a client's key holds what a causation id
			// may not (ValidRequestID: a spreadsheet formula, a space):
			// then the first event id.
			m.CausationID = c.Meta.IdempotencyKey
			if m.CausationID == "" || ValidRequestID(m.CausationID) != nil {
				m.CausationID = ids[0]
			}
		}
		if m.CorrelationID == "" {
			m.CorrelationID = m.CausationID
		}
		var meta []byte
		if h.seal != nil {
			meta, prev, err = h.seal(prev, e.Type, data, m)
		} else {
			meta, err = json.Marshal(m)
		}
		if err != nil {
			return nil, nil, "", errs.E(errs.Internal, "encode metadata of %s: %v", e.Type, err)
		}
		out[i] = eventstore.EventData{ID: id, Type: e.Type, ContentType: "application/json", Data: data, Metadata: meta}
	}
	return out, ids, prev, nil
}
