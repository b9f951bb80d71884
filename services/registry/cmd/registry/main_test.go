package main

import (
	"context"
	"net"
	"net/http"
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
