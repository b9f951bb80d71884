package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
)

// FieldError is an error about one request field. It keeps the kind of the
// error it wraps (usually errs.InvalidArgument), so errors.Is and errs.KindOf
// see through it.
type FieldError struct {
	Field string // JSON name or dotted path, e.g. "course.hours"
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// Invalid is an errs.InvalidArgument error about field:
// Invalid("hours", "must be positive, got %d", h).
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: errs.E(errs.InvalidArgument, format, args...)}
}

// FieldErr attaches field to an error of any kind.
func FieldErr(field string, err error) error { return &FieldError{Field: field, Err: err} }

// FieldOf returns the field an error is about, or "".
func FieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// RetryAfterer is implemented by errors that know when a retry may succeed
// (an open breaker, a rate limit). EncodeError turns it into Retry-After.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string             { return e.err.Error() }
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.after }

// WithRetryAfter annotates err with a retry hint.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

// RetryAfterOf returns the retry hint carried by err, if any.
func RetryAfterOf(err error) (time.Duration, bool) {
	var ra RetryAfterer
	if errors.As(err, &ra) {
		return ra.RetryAfter(), true
	}
	return 0, false
}

// DefaultRetryAfter is the Retry-After of a 503 whose error carries no hint.
const DefaultRetryAfter = time.Second

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody. Code is errs.Code (stable,
// machine-readable); Message is for humans; Field names the offending
// request field when there is one.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Body builds the error body for err. Internal errors get a generic message
// so that no internals leak to callers.
func Body(err error) ErrorBody {
	kind := errs.KindOf(err)
	msg := err.Error()
	if kind == errs.Internal {
		msg = "internal error"
	}
	return ErrorBody{Error: ErrorDetail{Code: errs.Code(err), Message: msg, Field: FieldOf(err)}}
}

// EncodeError is the one error encoder of every HTTP server (a go-kit
// httptransport.ErrorEncoder): status from errs.HTTPStatus, body ErrorBody,
// and Retry-After (whole seconds, at least 1) on 503 and 429.
func EncodeError(_ context.Context, err error, w http.ResponseWriter) {
	if err == nil {
		err = errs.E(errs.Internal, "nil error encoded")
	}
	status := errs.HTTPStatus(err)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		d, ok := RetryAfterOf(err)
		if !ok {
			d = DefaultRetryAfter
		}
		h.Set("Retry-After", retryAfterSeconds(d))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body(err))
}

func retryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
