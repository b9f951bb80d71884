package eventstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/craftledger/craftledger/pkg/errs"
)

// TestClassifyStatus covers the gRPC statuses the official client leaves
// unclassified (ErrorCodeUnknown) or passes through raw (subscriptions).
func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		code codes.Code
		want *errs.Kind
	}{
		{codes.InvalidArgument, errs.InvalidArgument},
		{codes.ResourceExhausted, errs.InvalidArgument},
		{codes.NotFound, errs.NotFound},
		{codes.PermissionDenied, errs.PermissionDenied},
		{codes.Unauthenticated, errs.Unauthenticated},
		{codes.DeadlineExceeded, errs.DeadlineExceeded},
		{codes.Unavailable, errs.Unavailable},
		{codes.FailedPrecondition, errs.FailedPrecondition},
		{codes.AlreadyExists, errs.Conflict},
		{codes.Internal, errs.Internal},
	}
	for _, tc := range tests {
		err := classify(context.Background(), opName{verb: "op"}, fmt.Errorf("wrapped: %w", status.Error(tc.code, "x")))
		if got := errs.KindOf(err); got != tc.want {
			t.Errorf("%s: kind %s, want %s", tc.code, got, tc.want)
		}
	}
	// The message is the status's own, not the text of what wraps it.
	if err := classify(context.Background(), opName{verb: "op"}, fmt.Errorf("wrapped: %w", status.Error(codes.InvalidArgument, "too big"))); err.Error() != "op: rejected by the store: too big" {
		t.Errorf("message %q", err)
	}
	if got := errs.KindOf(classify(context.Background(), opName{verb: "op"}, errors.New("odd"))); got != errs.Internal {
		t.Errorf("plain error: %s, want INTERNAL", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := classify(ctx, opName{verb: "op"}, status.Error(codes.Canceled, "x"))
	if !errors.Is(err, context.Canceled) || !countsAsSuccess(err) {
		t.Errorf("caller cancellation: %v (counts as failure: %v)", err, !countsAsSuccess(err))
	}
}

func TestWrongRevisionFromClientText(t *testing.T) {
	// The v4 client's text for a failed expectation (esdb/client.go).
	tests := []struct {
		text     string
		noStream bool
		actual   uint64
		known    bool
	}{
		{"wrong expected version: expecting 'no_stream' but got '4'", false, 4, true},
		{"wrong expected version: expecting '3' but got 'no_stream'", true, 0, true},
		{"something else", false, 0, false},
	}
	for _, tc := range tests {
		wr := wrongRevision("s", At(3), errors.New(tc.text))
		if wr.Known != tc.known || wr.ActualNoStream != tc.noStream || wr.Actual != tc.actual {
			t.Errorf("%q: %+v", tc.text, wr)
		}
		if !errors.Is(wr, errs.Conflict) {
			t.Errorf("%q: not errs.Conflict", tc.text)
		}
	}
}

// TestOpName checks the operation names of errors, formatted only when a
// call fails, against the texts they always had.
func TestOpName(t *testing.T) {
	for _, tc := range []struct {
		op   opName
		want string
	}{
		{opName{verb: "append ", stream: "craftsman-7", exp: At(3), hasExp: true}, "append craftsman-7 at revision 3"},
		{opName{verb: "append ", stream: "craftsman-7", exp: NoStream(), hasExp: true}, "append craftsman-7 at no stream"},
		{opName{verb: "append ", exp: Any(), hasExp: true}, "append  at any"},
		{opName{verb: "read ", stream: "craftsman-7"}, "read craftsman-7"},
		{opName{verb: "read $all"}, "read $all"},
	} {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.op, got, tc.want)
		}
		if got := fmt.Sprintf("%s: x", tc.op); got != tc.want+": x" {
			t.Errorf("%+v formatted: %q", tc.op, got)
		}
	}
}
