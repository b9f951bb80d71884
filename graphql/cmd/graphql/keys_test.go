package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/registry"
)

// TestForgetThroughSharedKeyring deploys as Compose and k8s do: the
// registry seals names under its keyring directory, bin/graphql reads the
// same directory (--personal-keys-dir), both over the real store. A name
// registered through the registry's HTTP API is shown by GraphQL; after
// POST /v1/craftsmen/{id}/forget it is erased (no name), and stays erased
// when bin/graphql restarts from its snapshot, while another craftsman's
// name is still shown. A key directory that does not exist stops start-up.
func TestForgetThroughSharedKeyring(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	t.Setenv("CRAFTLEDGER_AUTH_KEY", string(auth.DevKey()))
	if err := run(context.Background(), logger, []string{"--store", "esdb://127.0.0.1:1?tls=false", "--addr", "127.0.0.1:0",
		"--personal-keys-dir", filepath.Join(t.TempDir(), "missing")}); err == nil || !strings.Contains(err.Error(), "--personal-keys-dir") {
		t.Errorf("start-up with a missing key directory: %v, want a refusal naming --personal-keys-dir", err)
	}

	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	keys := t.TempDir()
	kr, err := registry.NewDirKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(st, time.Now, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey), Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	reg := httptest.NewServer(registry.NewHTTPHandler(svc, logger, auth.DevKey(), registry.HTTPOptions{}))
	t.Cleanup(reg.Close)
	admin, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "adm", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "aud", Role: auth.RoleAuditor}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	send := func(url, tok string, body any, headers ...string) []byte {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
		}
		return raw
	}
	write := func(path string, body any) string {
		t.Helper()
		var res struct{ Position eventstore.Position }
		if err := json.Unmarshal(send(reg.URL+path, admin, body), &res); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d/%d", res.Position.Commit, res.Position.Prepare)
	}

	data := t.TempDir()
	addr := servicetest.FreeAddr(t)
	serve := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, logger, []string{"--store", srv.URL(), "--addr", addr, "--data", data, "--personal-keys-dir", keys, "--rate", "0"})
		}()
		for i := 0; ; i++ {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if i == 200 {
				cancel()
				t.Fatalf("bin/graphql not ready: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	}
	type person struct {
		Name         *string
		PersonalData string
		Erased       bool
	}
	get := func(id string, headers ...string) person {
		t.Helper()
		var res struct{ Data struct{ Craftsman person } }
		raw := send("http://"+addr+"/graphql", auditor, map[string]any{"query": `{ craftsman(id: "` + id + `") { name personalData erased } }`}, headers...)
		if err := json.Unmarshal(raw, &res); err != nil || strings.Contains(string(raw), `"errors"`) {
			t.Fatalf("craftsman %s: %s", id, raw)
		}
		return res.Data.Craftsman
	}

	stop := serve()
	names := map[string]string{"k1": "欧阳娜娜", "k2": "司马光"}
	var pos string
	for i, id := range []string{"k1", "k2"} {
		pos = write("/v1/craftsmen", map[string]any{"craftsmanId": id, "nationalId": checked(fmt.Sprintf("1101%013d", 700+i)),
			"region": "110000", "personal": map[string]any{"name": names[id]}})
	}
	for id, name := range names {
		if p := get(id, "X-Min-Position", pos); p.Name == nil || *p.Name != name || p.PersonalData != "sealed" || p.Erased {
			t.Fatalf("%s registered: %+v, want the name %s opened from its seal", id, p, name)
		}
	}
	pos = write("/v1/craftsmen/k1/forget", map[string]any{"reason": "PIPL request 9"})
	check := func(when string, headers ...string) {
		t.Helper()
		if p := get("k1", headers...); p.Name != nil || p.PersonalData != "erased" || !p.Erased {
			t.Errorf("%s: k1 = %+v, want erased without a name", when, p)
		}
		if p := get("k2", headers...); p.Name == nil || *p.Name != names["k2"] {
			t.Errorf("%s: k2 = %+v, want the name %s", when, p, names["k2"])
		}
	}
	check("after forget", "X-Min-Position", pos)
	stop()
	if _, err := os.Stat(filepath.Join(data, "readmodel.snap")); err != nil {
		t.Errorf("no snapshot to restart from: %v", err)
	}
	stop = serve()
	defer stop()
	check("after a restart from the snapshot")
}

// checked completes a 17-digit base with its GB 11643 check character.
func checked(base string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(base[i]-'0') * w
	}
	return base + string("10X98765432"[sum%11])
}
