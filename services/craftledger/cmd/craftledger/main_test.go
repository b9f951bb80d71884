package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// cleanEnv clears every variable run reads, so the developer's shell does
// not decide a test.
func cleanEnv(t *testing.T) {
	for _, v := range []string{"CRAFTLEDGER_ADDR", "CRAFTLEDGER_DATA", "CRAFTLEDGER_STORE", "CRAFTLEDGER_STORE_ADDR",
		"CRAFTLEDGER_JWT_KEY_FILE", "CRAFTLEDGER_NATIONAL_ID_KEY_FILE", auth.DevKeyEnv, "CRAFTLEDGER_DEV",
		"CRAFTLEDGER_DEMO", "CRAFTLEDGER_DEMO_COUNT", "CRAFTLEDGER_DEMO_SEED", "CRAFTLEDGER_RATE", "CRAFTLEDGER_BURST", "CRAFTLEDGER_APPROVERS", "CRAFTLEDGER_CREDENTIAL_KEY_FILE",
		"CRAFTLEDGER_TLS_CERT_FILE", "CRAFTLEDGER_TLS_KEY_FILE"} {
		t.Setenv(v, "")
	}
}

func writeKey(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func baseArgs(t *testing.T) []string {
	return []string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--store-addr", "127.0.0.1:0", "--log-level", "error"}
}

// TestStartRefusesMissingOrShortKeys: without key files and without --dev
// the all-in-one does not fall back to the public development keys; a
// national-ID key shorter than 32 bytes is refused like a short token key.
func TestStartRefusesMissingOrShortKeys(t *testing.T) {
	cleanEnv(t)
	good := writeKey(t, strings.Repeat("k", 32))
	short := writeKey(t, "too-short-national-id-key")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no keys", nil, "no token key"},
		{"token key only", []string{"--jwt-key-file", good}, "no national-ID key"},
		{"national-ID key only", []string{"--national-id-key-file", good}, "no token key"},
		{"short national-ID key", []string{"--jwt-key-file", good, "--national-id-key-file", short}, "at least 32 bytes"},
		{"short national-ID key with --dev", []string{"--dev", "--national-id-key-file", short}, "at least 32 bytes"},
		{"short token key", []string{"--jwt-key-file", short, "--national-id-key-file", good}, "at least 32 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, append(baseArgs(t), c.args...), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("run: %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	cleanEnv(t)
	if err := run(context.Background(), []string{"--help"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("--help: %v", err)
	}
}

// started runs the all-in-one until the test ends and returns its banner
// and base URL once the banner is out.
func started(t *testing.T, args []string) (banner, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut sectest.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run after stop: %v", err)
		}
	})
	deadline := time.After(90 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("run ended before the banner: %v\nstderr:\n%s", err, errOut.String())
		case <-deadline:
			t.Fatalf("no banner after 90s\nstderr:\n%s", errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	m := regexp.MustCompile(`GraphQL explorer\s+(https?://\S+)/explorer`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no URL in the banner:\n%s", out.String())
	}
	return out.String(), m[1]
}

func demoTokens(t *testing.T, base string) []map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/demo-tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var toks []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&toks); err != nil {
		t.Fatalf("GET /demo-tokens.json: %d: %v", resp.StatusCode, err)
	}
	return toks
}

// TestDemoTokensOnlyUnderTheDevelopmentKey: with a real token key the
// all-in-one, even with --demo, prints no token and serves none at
// /demo-tokens.json (anyone can load the page); with --dev it offers one
// per role.
func TestDemoTokensOnlyUnderTheDevelopmentKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the all-in-one twice")
	}
	cleanEnv(t)
	t.Run("real key", func(t *testing.T) {
		args := append(baseArgs(t), "--demo", "--demo-count", "5",
			"--jwt-key-file", writeKey(t, strings.Repeat("a real key, not the public one ", 2)),
			"--national-id-key-file", writeKey(t, strings.Repeat("n", 40)))
		banner, base := started(t, args)
		if toks := demoTokens(t, base); len(toks) != 0 {
			t.Errorf("/demo-tokens.json offers %d tokens signed with the real key", len(toks))
		}
		if !strings.Contains(banner, "No demo tokens") || strings.Contains(banner, "Bearer ey") || strings.Contains(banner, "Demo tokens") {
			t.Errorf("banner under a real key:\n%s", banner)
		}
	})
	t.Run("dev", func(t *testing.T) {
		banner, base := started(t, append(baseArgs(t), "--demo", "--demo-count", "5", "--dev"))
		toks := demoTokens(t, base)
		if len(toks) != len(auth.Roles()) {
			t.Errorf("/demo-tokens.json offers %d tokens under --dev, want one per role (%d)", len(toks), len(auth.Roles()))
		}
		if !strings.Contains(banner, "Demo tokens") || strings.Contains(banner, "No demo tokens") {
			t.Errorf("banner under --dev:\n%s", banner)
		}
	})
}

// postJSON posts a JSON body to url with a bearer token and returns the
// answer, its body already read and closed.
func postJSON(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRateFlags: --rate and --burst reach the server: with a burst of 2
// the third GraphQL request of one token gets 429 with Retry-After.
func TestRateFlags(t *testing.T) {
	cleanEnv(t)
	_, base := started(t, append(baseArgs(t), "--dev", "--rate", "0.01", "--burst", "2"))
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "carol", Role: auth.RoleAuditor}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	var retry string
	for range 3 {
		resp := postJSON(t, base+"/graphql", tok, `{"query":"{ viewer { role } }"}`)
		codes = append(codes, resp.StatusCode)
		retry = resp.Header.Get("Retry-After")
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests || retry == "" {
		t.Errorf("statuses %v, last Retry-After %q; want 200 200 429 with Retry-After", codes, retry)
	}
}

// TestApproversFlag: only hr users of the --approvers organisations may
// approve an entitlement (403 for another organisation's hr, before
// anything is looked up); the others get past that check (here to 404, as
// the craftsman does not exist). Without the flag, the default authorities
// are the approvers; * ($CRAFTLEDGER_APPROVERS here) lets any hr user approve.
func TestApproversFlag(t *testing.T) {
	approve := func(t *testing.T, base, org string) int {
		t.Helper()
		tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "hr-" + org, Role: auth.RoleHR, OrgID: org}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return postJSON(t, base+"/api/competition/v1/craftsmen/nobody/entitlements/ent-1/approve", tok, `{"approvalRef":"x-1"}`).StatusCode
	}
	t.Run("flag", func(t *testing.T) {
		cleanEnv(t)
		_, base := started(t, append(baseArgs(t), "--dev", "--approvers", "hr-q, hr-r"))
		if code := approve(t, base, "employer-zz"); code != http.StatusForbidden {
			t.Errorf("hr of employer-zz: %d, want 403", code)
		}
		for _, org := range []string{"hr-q", "hr-r"} {
			if code := approve(t, base, org); code == http.StatusForbidden {
				t.Errorf("hr of approver %s: 403", org)
			}
		}
		if code := approve(t, base, "mohrss"); code != http.StatusForbidden {
			t.Errorf("hr of mohrss, not in --approvers: %d, want 403", code)
		}
	})
	t.Run("default", func(t *testing.T) {
		cleanEnv(t)
		_, base := started(t, append(baseArgs(t), "--dev"))
		if code := approve(t, base, "employer-zz"); code != http.StatusForbidden {
			t.Errorf("hr of employer-zz: %d, want 403", code)
		}
		if code := approve(t, base, "mohrss"); code == http.StatusForbidden {
			t.Error("hr of mohrss (a default approver): 403")
		}
	})
	t.Run("any hr user", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("CRAFTLEDGER_APPROVERS", "*")
		_, base := started(t, append(baseArgs(t), "--dev"))
		for _, org := range []string{"employer-zz", "mohrss"} {
			if code := approve(t, base, org); code == http.StatusForbidden {
				t.Errorf("hr of %s under *: 403", org)
			}
		}
	})
}

// TestCredentialKey: --dev without --credential-key-file generates a
// development key in the data directory once (reused on the next start)
// and says so; the credential routes are served under it. With
// --credential-key-file the file's key signs; without either, there are no
// credential routes.
func TestCredentialKey(t *testing.T) {
	verify := func(t *testing.T, base string) int {
		t.Helper()
		resp, err := http.Post(base+"/credentials/verify", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("dev", func(t *testing.T) {
		cleanEnv(t)
		args := append(baseArgs(t), "--dev")
		data := args[1]
		var errOut sectest.SyncBuffer
		// A first start generates the key …
		k1, issuer, err := credentialKey(true, "", data, &errOut)
		if err != nil || len(k1) == 0 || !strings.Contains(issuer, "development") {
			t.Fatalf("dev credential key: %v, issuer %q", err, issuer)
		}
		if !strings.Contains(errOut.String(), "DEVELOPMENT credential key") {
			t.Errorf("the development key is not announced as such: %q", errOut.String())
		}
		// … a second reuses it.
		k2, _, err := credentialKey(true, "", data, io.Discard)
		if err != nil || !k1.Equal(k2) {
			t.Errorf("second start: %v, same key %v", err, k1.Equal(k2))
		}
		banner, base := started(t, args)
		if !strings.Contains(banner, base+"/credentials/verify") {
			t.Errorf("the banner does not show the credential routes:\n%s", banner)
		}
		if code := verify(t, base); code != 200 {
			t.Errorf("POST /credentials/verify with the dev key: %d, want 200", code)
		}
	})
	t.Run("file", func(t *testing.T) {
		cleanEnv(t)
		file := filepath.Join(t.TempDir(), "credential.key")
		want, err := credential.GenerateKeyFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, issuer, err := credentialKey(true, file, t.TempDir(), io.Discard)
		if err != nil || !want.Equal(got) || issuer != "" {
			t.Errorf("key from file: %v, same %v, issuer %q", err, want.Equal(got), issuer)
		}
		if _, _, err := credentialKey(false, filepath.Join(t.TempDir(), "missing.key"), t.TempDir(), io.Discard); err == nil {
			t.Error("a missing key file is not an error")
		}
	})
	t.Run("none", func(t *testing.T) {
		cleanEnv(t)
		keyFile := filepath.Join(t.TempDir(), "jwt.key")
		if err := os.WriteFile(keyFile, []byte(strings.Repeat("k", 40)), 0o600); err != nil {
			t.Fatal(err)
		}
		nidFile := filepath.Join(t.TempDir(), "nid.key")
		if err := os.WriteFile(nidFile, []byte(strings.Repeat("n", 40)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, base := started(t, append(baseArgs(t), "--jwt-key-file", keyFile, "--national-id-key-file", nidFile))
		if code := verify(t, base); code == 200 {
			t.Errorf("POST /credentials/verify with no credential key: %d, want no such route", code)
		}
	})
}

// TestBadConfigurationStopsStartUp: a variable that does not parse or an
// out-of-range flag is an error naming it, not silently the default.
func TestBadConfigurationStopsStartUp(t *testing.T) {
	for _, c := range []struct {
		name, env, value string
		args             []string
		want             string
	}{
		{"malformed rate", "CRAFTLEDGER_RATE", "fast", nil, "CRAFTLEDGER_RATE"},
		{"malformed dev", "CRAFTLEDGER_DEV", "yes please", nil, "CRAFTLEDGER_DEV"},
		{"malformed demo count", "CRAFTLEDGER_DEMO_COUNT", "many", nil, "CRAFTLEDGER_DEMO_COUNT"},
		{"negative rate", "", "", []string{"--rate", "-1"}, "--rate"},
		{"no burst", "", "", []string{"--burst", "0"}, "--burst"},
		{"no approvers", "", "", []string{"--approvers", " , "}, "--approvers"},
		{"argument", "", "", []string{"serve"}, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cleanEnv(t)
			if c.env != "" {
				t.Setenv(c.env, c.value)
			}
			args := baseArgs(t)
			if c.env == "" { // else --dev on the command line would hide CRAFTLEDGER_DEV
				args = append(args, "--dev")
			}
			// A start that wrongly succeeds serves until the deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, append(args, c.args...), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("run: %v, want an error naming %s", err, c.want)
			}
		})
	}
}

// TestHelpPrintsNoCredentials: --help shows the built-in defaults, never a
// store connection string (with its password) taken from the environment.
func TestHelpPrintsNoCredentials(t *testing.T) {
	cleanEnv(t)
	t.Setenv("CRAFTLEDGER_STORE", "esdb://admin:s3cret-password@db:2113?tls=true")
	var out sectest.SyncBuffer
	if err := run(context.Background(), []string{"--help"}, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "-store") {
		t.Fatalf("--help printed no flags:\n%s", out.String())
	}
	if strings.Contains(out.String(), "s3cret-password") {
		t.Errorf("--help printed the store password from the environment:\n%s", out.String())
	}
}

// TestRefusesAnExposedStoreAddr: the embedded store takes reads and
// writes from anyone who reaches its port, so a --store-addr (or
// CRAFTLEDGER_STORE_ADDR) off the loopback interface stops start-up with
// an error naming the flag, before the store is opened — --dev or not.
func TestRefusesAnExposedStoreAddr(t *testing.T) {
	type exposed struct {
		name string
		args []string
		env  map[string]string
	}
	cases := []exposed{
		{"every interface", []string{"--store-addr", "0.0.0.0:0"}, nil},
		{"no host", []string{"--store-addr", ":0"}, nil},
		{"every IPv6 interface", []string{"--store-addr", "[::]:0"}, nil},
		{"from the environment", nil, map[string]string{"CRAFTLEDGER_STORE_ADDR": "0.0.0.0:0"}},
	}
	// One of this machine's own addresses, where the store used to listen
	// and serve.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
				cases = append(cases, exposed{"this machine's " + n.IP.String(), []string{"--store-addr", net.JoinHostPort(n.IP.String(), "0")}, nil})
				break
			}
		}
	}
	for _, bad := range cases {
		t.Run(bad.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range bad.env {
				t.Setenv(k, v)
			}
			data := t.TempDir()
			args := append([]string{"--data", data, "--addr", "127.0.0.1:0", "--log-level", "error", "--dev"}, bad.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--store-addr") || !strings.Contains(err.Error(), "not a loopback address") {
				t.Fatalf("run: %v, want a refusal naming --store-addr", err)
			}
			if _, err := os.Stat(filepath.Join(data, "store")); err == nil {
				t.Errorf("the embedded store was opened before its address was refused")
			}
		})
	}
}

// TestServesHTTPS: with --tls-cert and --tls-key (or their variables) the
// all-in-one serves its one listener over HTTPS: the banner prints https
// URLs, a client trusting the CA gets /healthz and /graphql, a client that
// does not trust it is refused, and plain HTTP gets no answer. A half or
// broken pair stops start-up before the store is opened (the data
// directory stays empty).
func TestServesHTTPS(t *testing.T) {
	cleanEnv(t)
	certFile, keyFile, ca := servicetest.TLSFiles(t)
	for _, bad := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"cert without key", []string{"--tls-cert", certFile}, nil, "--tls-key"},
		{"key without cert", []string{"--tls-key", keyFile}, nil, "--tls-cert"},
		{"key without cert, from the environment", nil, map[string]string{"CRAFTLEDGER_TLS_KEY_FILE": keyFile}, "--tls-cert"},
		{"unreadable cert", []string{"--tls-cert", filepath.Join(t.TempDir(), "missing.pem"), "--tls-key", keyFile}, nil, "--tls-cert"},
		{"key is the certificate", []string{"--tls-cert", certFile, "--tls-key", certFile}, nil, "--tls-cert"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range bad.env {
				t.Setenv(k, v)
			}
			data := t.TempDir()
			args := append([]string{"--data", data, "--addr", "127.0.0.1:0", "--store-addr", "127.0.0.1:0", "--log-level", "error", "--dev"}, bad.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := run(ctx, args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Fatalf("run: %v, want a refusal naming %s", err, bad.want)
			}
			if _, err := os.Stat(filepath.Join(data, "store")); err == nil {
				t.Errorf("the embedded store was opened before the TLS pair was refused")
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("the refusal shows key material: %v", err)
			}
		})
	}

	// The variables, not the flags: the deploy manifests set them.
	t.Setenv("CRAFTLEDGER_TLS_CERT_FILE", certFile)
	t.Setenv("CRAFTLEDGER_TLS_KEY_FILE", keyFile)
	banner, base := started(t, append(baseArgs(t), "--dev"))
	if !strings.HasPrefix(base, "https://") || strings.Contains(banner, "http://") {
		t.Fatalf("banner under TLS names plain http URLs:\n%s", banner)
	}
	trusted := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	resp, err := trusted.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over HTTPS: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("GET /healthz over HTTPS: %d (TLS %v), want 200 over TLS", resp.StatusCode, resp.TLS != nil)
	}
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "carol", Role: auth.RoleAuditor}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/graphql", strings.NewReader(`{"query":"{ viewer { role } }"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err = trusted.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql over HTTPS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "auditor") {
		t.Errorf("POST /graphql over HTTPS: %d %s, want 200 naming the auditor role", resp.StatusCode, body)
	}

	untrusting := &http.Client{Timeout: 5 * time.Second}
	if resp, err := untrusting.Get(base + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("a client that does not trust the CA: %v, want a certificate error", err)
	}
	plain := "http://" + strings.TrimPrefix(base, "https://")
	if resp, err := untrusting.Get(plain + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP got the health answer")
		}
	}
}
