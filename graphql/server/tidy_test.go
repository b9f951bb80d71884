package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/graphql-go/graphql/gqlerrors"

	"github.com/craftledger/craftledger/pkg/errs"
)

// TestTidyErrors: at most maxReported errors and one "and N more"; all
// UNAUTHENTICATED errors are one, counted, even when they come after the
// cap.
func TestTidyErrors(t *testing.T) {
	coded := func(kind *errs.Kind, n int) []gqlerrors.FormattedError {
		var out []gqlerrors.FormattedError
		for i := range n {
			out = append(out, gqlerrors.FormattedError{Message: fmt.Sprintf("%s %d", kind, i), Extensions: map[string]any{"code": errs.Code(kind)}})
		}
		return out
	}
	in := append(coded(errs.NotFound, 150), coded(errs.Unauthenticated, 3)...)
	out := tidyErrors("{}", in)
	if len(out) != maxReported+1 || out[maxReported].Message != "and 51 more errors" {
		t.Fatalf("%d errors, last %+v", len(out), out[len(out)-1])
	}
	in = append(coded(errs.Unauthenticated, 3), coded(errs.NotFound, 150)...)
	out = tidyErrors("{}", in)
	if len(out) != maxReported+1 || !strings.HasSuffix(out[0].Message, "(3 fields need a token)") || out[maxReported].Message != "and 51 more errors" {
		t.Fatalf("%d errors, first %+v, last %+v", len(out), out[0], out[len(out)-1])
	}
}
