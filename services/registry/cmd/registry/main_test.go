package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestBinaryServes runs the binary's wiring in-process against the embedded
// store: health, readiness, a command, metrics, then a clean stop.
func TestBinaryServes(t *testing.T) {
	st := commandtest.StartStore(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--store", st.Server.URL(), "--addr", addr, "--dev", "--log-level", "error"})
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("never served: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := commandtest.Do(t, "GET", base+"/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	tok := commandtest.Token(t, auth.RoleIssuer, "academy-a", "")
	r := commandtest.Do(t, "POST", base+"/v1/craftsmen", tok, map[string]any{"craftsmanId": "b1", "nationalId": "110101199001010023", "personal": map[string]any{"name": "张伟"}})
	if r.Status != 201 {
		t.Fatalf("register %d %s", r.Status, r.Body)
	}
	m := commandtest.Do(t, "GET", base+"/metrics", "", nil)
	if !strings.Contains(string(m.Body), `craftledger_requests_total{code="OK",endpoint="registry.RegisterCraftsman",service="registry"} 1`) {
		t.Fatalf("metrics lack the command:\n%s", m.Body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
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
