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
	cases := []struct {
		name, env, value string
		args             []string
		want             string
	}{
		{"short national ID key", "", "", []string{"--national-id-key-file", short}, "at least 32"},
		{"empty national ID key", "", "", []string{"--national-id-key-file", empty}, "at least 32"},
		{"rate not a number", "CRAFTLEDGER_RATE", "fast", nil, "CRAFTLEDGER_RATE"},
		{"workers not a number", "CRAFTLEDGER_BACKFILL_WORKERS", "many", nil, "CRAFTLEDGER_BACKFILL_WORKERS"},
		{"workers fractional", "CRAFTLEDGER_BACKFILL_WORKERS", "2.5", nil, "CRAFTLEDGER_BACKFILL_WORKERS"},
		{"negative rate flag", "", "", []string{"--rate", "-1"}, "--rate"},
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
