package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// TestBinaryServes runs the binary's wiring in-process against the embedded
// store: health, readiness, a command, metrics, then a clean stop.
func TestBinaryServes(t *testing.T) {
	base, stop := servicetest.ServeBinary(t, run)
	tok := commandtest.Token(t, auth.RoleIssuer, "academy-a", "")
	// No academy exists yet: a business rejection, answered and counted.
	r := commandtest.Do(t, "POST", base+"/v1/craftsmen/b1/completions", tok, map[string]any{"academyId": "academy-a", "courseId": "c", "hours": 2})
	if code, _ := r.Error(t); r.Status != 404 || code != "NOT_FOUND" {
		t.Fatalf("completion %d %s", r.Status, r.Body)
	}
	m := commandtest.Do(t, "GET", base+"/metrics", "", nil)
	if !strings.Contains(string(m.Body), `craftledger_requests_total{code="NOT_FOUND",endpoint="training.CompleteTraining",service="training"} 1`) {
		t.Fatalf("metrics lack the command:\n%s", m.Body)
	}
	stop()
}

func TestBinaryNeedsKeys(t *testing.T) {
	t.Setenv(auth.DevKeyEnv, "")
	err := run(context.Background(), []string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("err %v, want a missing key", err)
	}
}

// TestBinaryRefusesBadConfig: a malformed number in the environment or a
// bad flag value stops start-up with a clear error.
func TestBinaryRefusesBadConfig(t *testing.T) {
	base := []string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0", "--dev"}
	cases := []struct {
		name, env, value string
		args             []string
		want             string
	}{
		{"rate not a number", "CRAFTLEDGER_RATE", "fast", nil, "CRAFTLEDGER_RATE"},
		{"workers not a number", "CRAFTLEDGER_BACKFILL_WORKERS", "many", nil, "CRAFTLEDGER_BACKFILL_WORKERS"},
		{"zero workers flag", "", "", []string{"--backfill-workers", "0"}, "--backfill-workers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			err := run(context.Background(), append(append([]string(nil), base...), c.args...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestHelpHidesStoreCredentials: --help does not print $CRAFTLEDGER_STORE.
func TestHelpHidesStoreCredentials(t *testing.T) {
	t.Setenv("CRAFTLEDGER_STORE", "esdb://admin:s3cret@db.internal:2113")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	err = run(context.Background(), []string{"--help"})
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "CRAFTLEDGER_STORE") {
		t.Fatalf("help:\n%s", out)
	}
}
