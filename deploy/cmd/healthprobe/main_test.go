package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"healthy", []string{srv.URL + "/readyz"}, 0},
		{"unhealthy status", []string{srv.URL + "/other"}, 1},
		{"nothing listening", []string{"-timeout", "1s", closed.URL + "/readyz"}, 1},
		{"no url", nil, 2},
		{"bad flag", []string{"-nope", srv.URL}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args, io.Discard); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
