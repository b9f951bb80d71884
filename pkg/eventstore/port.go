// Package eventstore is craftledger's port to the event store and its one
// adapter, built on the official KurrentDB (EventStoreDB) Go client v4.
//
// Everything that writes or reads events goes through the Store interface.
// The adapter (Open) speaks gRPC to either the embedded single-node server
// (pkg/esdbserver) or a real KurrentDB cluster; the connection string decides.
// Every outbound call runs behind a named gobreaker circuit breaker with a
// deadline; business rejections (wrong expected revision, stream not found,
// stream deleted, access denied) never count against the breaker.
//
// Errors are classified with the pkg/errs kind table:
//   - errs.Conflict: wrong expected revision (see *WrongRevisionError for the actual one)
//   - errs.NotFound: the stream does not exist or was deleted
//   - errs.PermissionDenied / errs.Unauthenticated: access denied by the store
//   - errs.InvalidArgument: the append was too large or malformed
//   - errs.Unavailable: the store is unreachable or the breaker is open
//   - errs.DeadlineExceeded: the call's deadline passed
package eventstore

import (
	"context"
	"time"
)

// Revision expectations for Append.
type ExpectedKind int

const (
	// ExpectAny appends whatever the stream's state.
	ExpectAny ExpectedKind = iota
	// ExpectNoStream requires that the stream does not exist yet.
	ExpectNoStream
	// ExpectStreamExists requires that the stream has at least one event.
	ExpectStreamExists
	// ExpectRevision requires the stream's last event to be at Revision.
	ExpectRevision
)

// Expected is an append's optimistic-concurrency expectation.
type Expected struct {
	Kind     ExpectedKind
	Revision uint64 // only for ExpectRevision
}

// Any, NoStream, StreamExists and At build expectations.
func Any() Expected          { return Expected{Kind: ExpectAny} }
func NoStream() Expected     { return Expected{Kind: ExpectNoStream} }
func StreamExists() Expected { return Expected{Kind: ExpectStreamExists} }
func At(rev uint64) Expected { return Expected{Kind: ExpectRevision, Revision: rev} }

// Position is a point in the global log ($all).
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// StartPosition is the beginning of the global log: the zero Position. It is
// a function, not a package variable, so no caller can move everyone's start.
func StartPosition() Position { return Position{} }

// IsStart reports whether p is the beginning of the global log.
func (p Position) IsStart() bool { return p == Position{} }

// Before is the position right before p (p must not be the start): the
// last one a read that should end just ahead of p may include.
func (p Position) Before() Position {
	if p.Prepare > 0 {
		return Position{Commit: p.Commit, Prepare: p.Prepare - 1}
	}
	return Position{Commit: p.Commit - 1, Prepare: ^uint64(0)}
}

// Less reports whether p is before q in the global log.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// EventData is an event to append. ID is a UUID string; when empty the
// adapter generates one. Re-appending the same IDs at the same expected
// revision is idempotent, as in KurrentDB.
type EventData struct {
	ID          string
	Type        string
	ContentType string // "application/json" when empty
	Data        []byte
	Metadata    []byte
}

// RecordedEvent is an event as the store recorded it.
type RecordedEvent struct {
	Stream   string
	ID       string
	Type     string
	Revision uint64
	Position Position
	Data     []byte
	Metadata []byte
	Created  time.Time // record time assigned by the store
	// ContentType is empty for a JSON event (written as application/json)
	// and "application/octet-stream" for one written without the JSON
	// flag. KurrentDB ignores a stream's $metadata event written so.
	ContentType string
}

// AppendResult says where an append landed.
type AppendResult struct {
	NextRevision uint64 // revision of the last event written
	Position     Position
}

// Direction of a read.
type Direction int

const (
	Forwards Direction = iota
	Backwards
)

// ReadOptions bound a read. From is a stream revision (ReadStream) and is
// ignored when FromEnd is set; forwards from the end reads nothing (a
// missing or deleted stream is still its error). Max <= 0 means no limit.
type ReadOptions struct {
	Direction Direction
	From      uint64
	FromEnd   bool
	Max       int
}

// ReadAllOptions bound a read of $all. The zero value reads everything
// forwards from the start. From is inclusive (as in KurrentDB): the event at
// From is returned; page with ForEachAll or skip it. Filter, when set,
// selects events (the adapter applies it while reading: the v4 client has
// server-side filters for subscriptions only).
type ReadAllOptions struct {
	Direction Direction
	From      Position
	FromEnd   bool
	Max       int
	Filter    *Filter
	// WithSystem also returns system events ($-prefixed types: a stream's
	// $metadata on "$$<stream>", which may truncate it with $tb or
	// $maxCount, a tombstone's $streamDeleted), which a read otherwise
	// skips; Filter and Max apply to them as to any event. For audits: a
	// read of $all still returns the events a stream's metadata hides.
	WithSystem bool
}

// Filter selects events server-side by stream name or event type, either by
// prefixes or by a regular expression (exactly one of the two).
type Filter struct {
	OnEventType bool // false filters on stream name
	Prefixes    []string
	Regex       string
}

// SubscribeOptions start a catch-up subscription to $all. From nil means
// from the start; otherwise events strictly after *From are delivered.
type SubscribeOptions struct {
	From *Position
	// Filter selects events server-side; CheckpointEvery asks the server
	// for a checkpoint after that many scanned events (0 = client default).
	Filter          *Filter
	CheckpointEvery uint32
	// WithSystem also delivers system events ($-prefixed types), which a
	// subscription otherwise skips; Filter applies to them as to any
	// event. A stream's own $-typed events take revisions in it (a link
	// "$>", any "$..." type an appender chose, the tombstone
	// "$streamDeleted" at revision math.MaxInt64): a reader that checks
	// a stream's revisions for gaps needs them.
	WithSystem bool
}

// Message is one item from a subscription: exactly one of Event,
// Checkpoint or CaughtUp is set.
type Message struct {
	Event      *RecordedEvent
	Checkpoint *Position
	CaughtUp   bool
}

// Subscription is a live catch-up subscription. Recv blocks for the next
// message; it returns an error (classified with pkg/errs) when the
// subscription drops, after which the caller resubscribes from its
// checkpoint. Close releases it.
type Subscription interface {
	Recv(ctx context.Context) (Message, error)
	Close() error
}

// Store is the port every reader and writer of events uses.
type Store interface {
	// Append writes events to a stream atomically under an expectation.
	Append(ctx context.Context, stream string, exp Expected, events ...EventData) (AppendResult, error)
	// ReadStream reads one stream; a missing stream is errs.NotFound.
	ReadStream(ctx context.Context, stream string, opts ReadOptions) ([]RecordedEvent, error)
	// ReadAll reads the global log, skipping system events ($-prefixed types).
	ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error)
	// SubscribeAll starts a catch-up subscription to $all (system events
	// skipped unless opts.WithSystem).
	SubscribeAll(ctx context.Context, opts SubscribeOptions) (Subscription, error)
	// Close releases the connection.
	Close() error
}
