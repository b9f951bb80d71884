package errs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		code     string
		status   int
		business bool
	}{
		{"direct", NotFound, "NOT_FOUND", http.StatusNotFound, true},
		{"constructed", E(InvalidArgument, "field %q: must not be empty", "name"), "INVALID_ARGUMENT", http.StatusBadRequest, true},
		{"wrapped twice", fmt.Errorf("append craftsman-7: %w", fmt.Errorf("at revision 3: %w", Conflict)), "CONFLICT", http.StatusConflict, true},
		{"joined", errors.Join(errors.New("x"), Unavailable), "UNAVAILABLE", http.StatusServiceUnavailable, false},
		{"unclassified", context.Canceled, "INTERNAL", http.StatusInternalServerError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
			if got := IsBusiness(tt.err); got != tt.business {
				t.Errorf("IsBusiness = %v, want %v", got, tt.business)
			}
		})
	}
}

func TestEveryKindHasAStatus(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, row := range table {
		if seen[row.kind.code] {
			t.Errorf("kind %s listed twice", row.kind.code)
		}
		seen[row.kind.code] = true
		if row.status < 400 {
			t.Errorf("kind %s maps to non-error status %d", row.kind.code, row.status)
		}
	}
}
