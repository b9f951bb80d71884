// Package errs is craftledger's one table of error kinds. Every layer wraps
// its failures with a kind from this table (errs.E or fmt.Errorf("...: %w",
// errs.NotFound)), and each edge maps kinds exactly once: HTTPStatus for the
// services' JSON APIs, Code for GraphQL's extensions.code and for the
// machine-readable "code" of HTTP error bodies. Always classify with
// errors.Is, never ==, so wrapping with %w keeps working.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind is a class of failure. The zero value is not a kind.
type Kind struct{ code string }

func (k *Kind) Error() string { return k.code }

// The kinds. Business outcomes (InvalidArgument, NotFound, Conflict,
// PermissionDenied, Unauthenticated, FailedPrecondition) never count against a
// circuit breaker; only Unavailable and Internal do.
var (
	// InvalidArgument: the request is malformed or a field is invalid. Nothing was written.
	InvalidArgument = &Kind{"INVALID_ARGUMENT"}
	// NotFound: the named worker, academy, stream or other entity does not exist.
	NotFound = &Kind{"NOT_FOUND"}
	// Conflict: a concurrent change won (wrong expected revision) or the entity already exists.
	Conflict = &Kind{"CONFLICT"}
	// FailedPrecondition: the command is not allowed in the current state (e.g. a deleted stream).
	FailedPrecondition = &Kind{"FAILED_PRECONDITION"}
	// Unauthenticated: no valid credentials were presented.
	Unauthenticated = &Kind{"UNAUTHENTICATED"}
	// PermissionDenied: the caller is known but may not do this.
	PermissionDenied = &Kind{"PERMISSION_DENIED"}
	// ResourceExhausted: a rate limit or a size limit was hit.
	ResourceExhausted = &Kind{"RESOURCE_EXHAUSTED"}
	// DeadlineExceeded: the operation ran out of time.
	DeadlineExceeded = &Kind{"DEADLINE_EXCEEDED"}
	// Unavailable: a dependency (the store) is down or its breaker is open; retry later.
	Unavailable = &Kind{"UNAVAILABLE"}
	// Internal: a bug or an unexpected failure.
	Internal = &Kind{"INTERNAL"}
)

var table = []struct {
	kind   *Kind
	status int
}{
	{InvalidArgument, http.StatusBadRequest},
	{NotFound, http.StatusNotFound},
	{Conflict, http.StatusConflict},
	{FailedPrecondition, http.StatusUnprocessableEntity},
	{Unauthenticated, http.StatusUnauthorized},
	{PermissionDenied, http.StatusForbidden},
	{ResourceExhausted, http.StatusTooManyRequests},
	{DeadlineExceeded, http.StatusGatewayTimeout},
	{Unavailable, http.StatusServiceUnavailable},
	{Internal, http.StatusInternalServerError},
}

// KindOf returns the kind err carries, or Internal when it carries none.
func KindOf(err error) *Kind {
	for _, row := range table {
		if errors.Is(err, row.kind) {
			return row.kind
		}
	}
	return Internal
}

// Code is the stable machine-readable code for err (GraphQL extensions.code,
// the "code" field of HTTP error bodies).
func Code(err error) string { return KindOf(err).code }

// HTTPStatus is the HTTP status for err.
func HTTPStatus(err error) int {
	k := KindOf(err)
	for _, row := range table {
		if row.kind == k {
			return row.status
		}
	}
	return http.StatusInternalServerError
}

// IsBusiness reports whether err is an outcome of the request itself rather
// than a failure of infrastructure; circuit breakers ignore such errors.
func IsBusiness(err error) bool {
	if err == nil {
		return true
	}
	switch KindOf(err) {
	case Unavailable, Internal, DeadlineExceeded:
		return false
	}
	return true
}

// E wraps kind with an annotated message: E(NotFound, "craftsman %s", id).
// errors.Is(E(k, ...), k) holds.
func E(kind *Kind, format string, args ...any) error {
	return &withKind{kind: kind, msg: fmt.Sprintf(format, args...)}
}

type withKind struct {
	kind *Kind
	msg  string
}

func (e *withKind) Error() string { return e.msg }
func (e *withKind) Unwrap() error { return e.kind }
