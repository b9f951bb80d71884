package esdbserver

import (
	"fmt"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestStoreErrorClassifiesWrappedErrors: storeError and asTrailerError
// classify with errors.As/Is, so store errors that went through
// fmt.Errorf("...: %w") keep their gRPC status and trailers instead of
// becoming Unknown.
func TestStoreErrorClassifiesWrappedErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("append s: %w", err) }
	for _, c := range []struct {
		err       error
		code      codes.Code
		exception string
	}{
		{wrap(&streamDeletedError{stream: "s"}), codes.FailedPrecondition, "stream-deleted"},
		{wrap(&wrongVersionError{stream: "s", expected: expectation{kind: expExact, rev: 3}, current: 5}), codes.FailedPrecondition, "wrong-expected-version"},
		{wrap(errStoreClosed), codes.Unavailable, ""},
		{wrap(&noSpaceError{dir: "d", free: 1, need: 2}), codes.Unavailable, ""},
		{wrap(&commitError{err: syscall.ENOSPC}), codes.Unavailable, ""},
		{wrap(accessDenied()), codes.PermissionDenied, "access-denied"},
	} {
		got := storeError(c.err)
		if st, _ := status.FromError(got); st.Code() != c.code {
			t.Errorf("storeError(%v) = %v, want %v", c.err, got, c.code)
		}
		if c.exception == "" {
			continue
		}
		te, ok := asTrailerError(got)
		if !ok || te.md.Get("exception")[0] != c.exception {
			t.Errorf("storeError(%v): trailers %v, want exception %s", c.err, te, c.exception)
		}
	}
}
