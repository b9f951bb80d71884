package main

import (
	"context"
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
	servicetest.CheckBadConfig(t, run, base, []servicetest.BadConfig{
		{Name: "rate not a number", Env: "CRAFTLEDGER_RATE", Value: "fast", Want: "CRAFTLEDGER_RATE"},
		{Name: "workers not a number", Env: "CRAFTLEDGER_BACKFILL_WORKERS", Value: "many", Want: "CRAFTLEDGER_BACKFILL_WORKERS"},
		{Name: "zero workers flag", Args: []string{"--backfill-workers", "0"}, Want: "--backfill-workers"},
	})
}

// TestHelpHidesStoreCredentials: --help does not print $CRAFTLEDGER_STORE.
func TestHelpHidesStoreCredentials(t *testing.T) {
	servicetest.CheckHelpHidesStoreCredentials(t, run)
}
