package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/graphql-go/graphql/gqlerrors"

	"github.com/craftledger/craftledger/pkg/errs"
)

// TestTidyErrors: at most maxReported errors and one "and N more" that
// counts every error left out (UNAUTHENTICATED ones after the cap
// included) and carries their code only when they all share it; all
// UNAUTHENTICATED errors listed are one, counted.
func TestTidyErrors(t *testing.T) {
	coded := func(kind *errs.Kind, n int) []gqlerrors.FormattedError {
		var out []gqlerrors.FormattedError
		for i := range n {
			out = append(out, gqlerrors.FormattedError{Message: fmt.Sprintf("%s %d", kind, i), Extensions: map[string]any{"code": errs.Code(kind), "field": "x"}})
		}
		return out
	}
	code := func(e gqlerrors.FormattedError) any {
		if e.Extensions == nil {
			return nil
		}
		return e.Extensions["code"]
	}
	for _, c := range []struct {
		name      string
		in        []gqlerrors.FormattedError
		last      string
		lastCode  any
		firstTail string
	}{
		// The UNAUTHENTICATED errors after the cap: 50 NOT_FOUND and 3
		// UNAUTHENTICATED left out, codes mixed.
		{"unauthenticated after the cap", append(coded(errs.NotFound, 150), coded(errs.Unauthenticated, 3)...), "and 53 more errors", nil, ""},
		// Listed first, they are one error standing for 3; 51 NOT_FOUND left out.
		{"unauthenticated first", append(coded(errs.Unauthenticated, 3), coded(errs.NotFound, 150)...), "and 51 more errors", errs.Code(errs.NotFound), "(3 fields need a token)"},
		{"one code left out", coded(errs.NotFound, 150), "and 50 more errors", errs.Code(errs.NotFound), ""},
		{"only unauthenticated left out", append(coded(errs.NotFound, 100), coded(errs.Unauthenticated, 7)...), "and 7 more errors", errs.Code(errs.Unauthenticated), ""},
	} {
		out := tidyErrors("{}", slices.Clone(c.in))
		if len(out) != maxReported+1 || out[maxReported].Message != c.last || code(out[maxReported]) != c.lastCode {
			t.Errorf("%s: %d errors, last %+v; want %q with code %v", c.name, len(out), out[len(out)-1], c.last, c.lastCode)
		}
		if c.firstTail != "" && !strings.HasSuffix(out[0].Message, c.firstTail) {
			t.Errorf("%s: first %+v, want it to end %q", c.name, out[0], c.firstTail)
		}
		if ext := out[maxReported].Extensions; ext != nil && ext["field"] != nil {
			t.Errorf("%s: the summary carries one dropped error's extensions: %v", c.name, ext)
		}
	}
}
