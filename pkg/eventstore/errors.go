package eventstore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/errs"
)

// WrongRevisionError is the errs.Conflict an Append gets when the stream is
// not where the expectation said. Get it with errors.As:
//
//	var wr *eventstore.WrongRevisionError
//	if errors.As(err, &wr) { ... wr.Actual ... }
type WrongRevisionError struct {
	Stream   string
	Expected Expected
	// ActualNoStream is true when the stream does not exist (or was deleted).
	ActualNoStream bool
	// Actual is the stream's last revision when !ActualNoStream.
	Actual uint64
	// Known is false when the store did not say where the stream is.
	Known bool
}

func (e *WrongRevisionError) Error() string {
	actual := "unknown"
	switch {
	case e.Known && e.ActualNoStream:
		actual = "no stream"
	case e.Known:
		actual = "revision " + strconv.FormatUint(e.Actual, 10)
	}
	return fmt.Sprintf("wrong expected revision on %s: expected %s, stream is at %s", e.Stream, e.Expected, actual)
}

// Unwrap makes errors.Is(err, errs.Conflict) hold.
func (e *WrongRevisionError) Unwrap() error { return errs.Conflict }

// String renders an expectation ("any", "no stream", "stream exists", "revision 7").
func (x Expected) String() string {
	switch x.Kind {
	case ExpectAny:
		return "any"
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	}
	return "revision " + strconv.FormatUint(x.Revision, 10)
}

// ErrStreamDeleted marks errs.NotFound errors about a deleted or tombstoned
// stream: errors.Is(err, ErrStreamDeleted).
var ErrStreamDeleted = errors.New("stream deleted")

// ErrBreakerOpen marks errs.Unavailable errors answered by the open circuit
// breaker without calling the store: errors.Is(err, ErrBreakerOpen). Such
// errors carry a RetryAfter hint (pkg/kit turns it into Retry-After).
var ErrBreakerOpen = errors.New("store circuit breaker open")

// storeError is a classified failure: it matches its kind and its cause
// with errors.Is/As and may carry a retry hint.
type storeError struct {
	kind       *errs.Kind
	msg        string
	cause      error
	retryAfter time.Duration
	// pair is {kind, cause}, kept so that Unwrap answers a slice of it
	// without allocating: errors.Is and errors.As call Unwrap at every
	// test, and a store error's kind is tested several times per call
	// (the breaker's business check, a service's NOT_FOUND).
	pair [2]error
}

// storeErr builds a classified failure (the only constructor).
func storeErr(kind *errs.Kind, cause error, msg string, retryAfter time.Duration) *storeError {
	return &storeError{kind: kind, msg: msg, cause: cause, retryAfter: retryAfter, pair: [2]error{kind, cause}}
}

func (e *storeError) Error() string { return e.msg }

// Unwrap is {kind} or {kind, cause}.
func (e *storeError) Unwrap() []error {
	if e.cause == nil {
		return e.pair[:1:1]
	}
	return e.pair[:2:2]
}

// RetryAfter is the retry hint of Unavailable errors (kit.RetryAfterer).
func (e *storeError) RetryAfter() time.Duration { return e.retryAfter }

func newErr(kind *errs.Kind, cause error, format string, args ...any) error {
	return storeErr(kind, cause, fmt.Sprintf(format, args...), 0)
}

var gotRevision = regexp.MustCompile(`but got '([^']*)'`)

// classify turns a client error of operation op into a pkg/errs kind. ctx
// is the call's context: its own cancellation is reported as such.
func classify(ctx context.Context, op opName, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*storeError](err); ok {
		return err
	}
	if _, ok := errors.AsType[*WrongRevisionError](err); ok {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return newErr(errs.DeadlineExceeded, ctxErr, "%s: store did not answer in time", op)
		}
		return newErr(errs.Unavailable, ctxErr, "%s: cancelled", op)
	}
	ee, ok := errors.AsType[*esdb.Error](err)
	if !ok {
		return fromStatus(op, err)
	}
	switch ee.Code() {
	case esdb.ErrorCodeWrongExpectedVersion:
		return newErr(errs.Conflict, err, "%s: wrong expected revision", op)
	case esdb.ErrorCodeResourceNotFound:
		// A read of a stream not written yet, on many commands' path:
		// the message without fmt (the same text as "%s: not found").
		return storeErr(errs.NotFound, err, op.String()+": not found", 0)
	case esdb.ErrorCodeStreamDeleted:
		return newErr(errs.NotFound, errors.Join(ErrStreamDeleted, err), "%s: stream is deleted", op)
	case esdb.ErrorCodeAccessDenied:
		return newErr(errs.PermissionDenied, err, "%s: access denied by the store", op)
	case esdb.ErrorCodeUnauthenticated:
		return newErr(errs.Unauthenticated, err, "%s: the store refused the credentials", op)
	case esdb.ErrorCodeDeadlineExceeded:
		return newErr(errs.DeadlineExceeded, err, "%s: store did not answer in time", op)
	case esdb.ErrorCodeResourceAlreadyExists:
		return newErr(errs.Conflict, err, "%s: already exists", op)
	case esdb.ErrorUnavailable, esdb.ErrorCodeConnectionClosed, esdb.ErrorCodeNotLeader, esdb.ErrorAborted:
		return newErr(errs.Unavailable, err, "%s: store unavailable: %v", op, ee)
	case esdb.ErrorCodeUnknown:
		if ee.Err() == nil {
			return newErr(errs.Internal, err, "%s: unknown store error", op)
		}
		return fromStatus(op, err)
	}
	return newErr(errs.Internal, err, "%s: %v", op, err)
}

// fromStatus classifies by the gRPC status inside err (errors the client
// leaves as "unknown": invalid arguments, oversize appends, transport
// failures).
func fromStatus(op opName, err error) error {
	// The status itself, not status.FromError's: that one, for a status
	// wrapped in the client's error, carries the whole error's text as its
	// message ("[ErrorCode 0] (sorry, this error code is not supported by
	// the Error() method): rpc error: …") instead of the store's own.
	se, ok := errors.AsType[interface {
		error
		GRPCStatus() *status.Status
	}](err)
	if !ok {
		return newErr(errs.Internal, err, "%s: %v", op, err)
	}
	st := se.GRPCStatus()
	switch st.Code() {
	case codes.InvalidArgument, codes.OutOfRange, codes.ResourceExhausted:
		return newErr(errs.InvalidArgument, err, "%s: rejected by the store: %s", op, st.Message())
	case codes.NotFound:
		return newErr(errs.NotFound, err, "%s: not found", op)
	case codes.PermissionDenied:
		return newErr(errs.PermissionDenied, err, "%s: access denied by the store", op)
	case codes.Unauthenticated:
		return newErr(errs.Unauthenticated, err, "%s: the store refused the credentials", op)
	case codes.DeadlineExceeded:
		return newErr(errs.DeadlineExceeded, err, "%s: store did not answer in time", op)
	case codes.Unavailable, codes.Canceled, codes.Aborted:
		return newErr(errs.Unavailable, err, "%s: store unavailable: %s", op, st.Message())
	case codes.FailedPrecondition:
		return newErr(errs.FailedPrecondition, err, "%s: %s", op, st.Message())
	case codes.AlreadyExists:
		return newErr(errs.Conflict, err, "%s: already exists", op)
	}
	return newErr(errs.Internal, err, "%s: %v", op, err)
}

// wrongRevision builds the WrongRevisionError of an append from the
// client's error text, which carries the actual revision.
func wrongRevision(stream string, exp Expected, err error) *WrongRevisionError {
	wr := &WrongRevisionError{Stream: stream, Expected: exp}
	m := gotRevision.FindStringSubmatch(err.Error())
	if m == nil {
		return wr
	}
	if m[1] == "no_stream" {
		wr.ActualNoStream, wr.Known = true, true
		return wr
	}
	if n, perr := strconv.ParseInt(m[1], 10, 64); perr == nil {
		// The client formats the revision through int; -1 means no stream.
		if n < 0 {
			wr.ActualNoStream, wr.Known = true, true
		} else {
			wr.Actual, wr.Known = uint64(n), true
		}
	}
	return wr
}
