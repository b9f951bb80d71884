package main

import (
	"context"
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
	r := commandtest.Do(t, "POST", base+"/v1/craftsmen", tok, map[string]any{"craftsmanId": "b1", "nationalId": "110101199001010023", "personal": map[string]any{"name": "张伟"}})
	if r.Status != 201 {
		t.Fatalf("register %d %s", r.Status, r.Body)
	}
	m := commandtest.Do(t, "GET", base+"/metrics", "", nil)
	if !strings.Contains(string(m.Body), `craftledger_requests_total{code="OK",endpoint="registry.RegisterCraftsman",service="registry"} 1`) {
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

// TestBinaryRefusesBadConfig: a short national-ID key, a malformed number
// in the environment or a bad flag value stops start-up with a clear error.
func TestBinaryRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	short := dir + "/nid.key"
	if err := os.WriteFile(short, []byte("too-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := dir + "/empty.key"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0", "--dev"}
	servicetest.CheckBadConfig(t, run, base, []servicetest.BadConfig{
		{Name: "short national ID key", Args: []string{"--national-id-key-file", short}, Want: "at least 32"},
		{Name: "empty national ID key", Args: []string{"--national-id-key-file", empty}, Want: "at least 32"},
		{Name: "rate not a number", Env: "CRAFTLEDGER_RATE", Value: "fast", Want: "CRAFTLEDGER_RATE"},
		{Name: "workers not a number", Env: "CRAFTLEDGER_BACKFILL_WORKERS", Value: "many", Want: "CRAFTLEDGER_BACKFILL_WORKERS"},
		{Name: "workers fractional", Env: "CRAFTLEDGER_BACKFILL_WORKERS", Value: "2.5", Want: "CRAFTLEDGER_BACKFILL_WORKERS"},
		{Name: "negative rate flag", Args: []string{"--rate", "-1"}, Want: "--rate"},
	})
}

// TestHelpHidesStoreCredentials: --help does not print $CRAFTLEDGER_STORE.
func TestHelpHidesStoreCredentials(t *testing.T) {
	servicetest.CheckHelpHidesStoreCredentials(t, run)
}
