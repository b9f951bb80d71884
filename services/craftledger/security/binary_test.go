package security_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/credential"
	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

// buildBinaries builds the service binaries and bin/graphql once per test
// run into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	dir := t.TempDir()
	pkgs := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, p := range []string{"services/registry/cmd/registry", "services/training/cmd/training", "services/competition/cmd/competition",
		"services/mentorship/cmd/mentorship", "services/honour/cmd/honour", "graphql/cmd/graphql"} {
		pkgs = append(pkgs, "github.com/craftledger/craftledger/"+p)
	}
	cmd := exec.Command("go", pkgs...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// proc is a started binary whose stderr and stdout are collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	addr chan string
	done chan struct{}
}

type lockedWriter struct{ p *proc }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

// startBinary runs bin with args and env; it waits for the JSON log line
// "http server listening" and returns the address.
func startBinary(t *testing.T, bin string, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), addr: make(chan string, 1), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = lockedWriter{p}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			lockedWriter{p}.Write(append(append([]byte(nil), line...), '\n'))
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "http server listening" {
				if a, ok := m["addr"].(string); ok {
					select {
					case p.addr <- a:
					default:
					}
				}
			}
		}
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case a := <-p.addr:
		return p, a
	case <-p.done:
		t.Fatalf("%s exited before listening:\n%s", filepath.Base(bin), p.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not listen within 30 s:\n%s", filepath.Base(bin), p.output())
	}
	return nil, ""
}

// stop sends SIGTERM and waits for the process and its output.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.cmd.Wait()
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, name, content string) string {
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func post(t *testing.T, url, token, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// serviceProbe is, per service binary, a command that passes decoding and
// authorization and writes nothing (its target does not exist).
var serviceProbe = map[string]struct{ path, body string }{
	"registry":    {"/v1/craftsmen/nobody/trades", `{"trade":{"code":"6-31-01-03"}}`},
	"training":    {"/v1/craftsmen/nobody/graduations", `{"schoolKind":"technical_school","speciality":"电气","trade":{"code":"6-31-01-03"},"occurredAt":"2010-07-01"}`},
	"competition": {"/v1/competitions/nothing/results", `{"occurredAt":"2025-09-05","placements":[{"craftsmanId":"nobody","track":"employees","rank":1}]}`},
	"mentorship":  {"/v1/mentorships/nothing/end", `{"reason":"x"}`},
	"honour":      {"/v1/craftsmen/nobody/innovations", `{"kind":"breakthrough","title":"t","level":"enterprise","role":"leader","occurredAt":"2022-01-01"}`},
}

// TestBinariesOverTLSRateLimitedAndSecretsNotLogged runs each service
// binary and bin/graphql the way a deployment does — secrets from a file
// or the environment only, the store reached over TLS with a CA file and
// a password — and checks: per-token rate limiting (429
// RESOURCE_EXHAUSTED + Retry-After for the token over its limit while
// another token still passes), and that after a session of good, refused
// and forged requests at debug level nothing it logged holds the JWT key,
// the national-ID key, the store password, a bearer token or a national ID
// number.
func TestBinariesOverTLSRateLimitedAndSecretsNotLogged(t *testing.T) {
	bins := buildBinaries(t)
	srv, p := secureStore(t)
	const password = "changeit" // the store's built-in admin password
	storeURL := "esdb://admin:" + password + "@" + srv.Addr() + "?tls=true&tlsCAFile=" + p.CAFile

	jwtKey := randomHex(t, 32)
	nidKey := randomHex(t, 32)
	key := auth.Key(jwtKey)
	toks := sectest.Tokens(t, key)
	otherAdmin, err := auth.Mint(key, auth.Claims{Subject: "u-admin-2", Role: auth.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"JWT key": jwtKey, "national-ID key": nidKey, "store password in URL": "admin:" + password}
	for c, tok := range toks {
		if tok != "" {
			secrets["token of "+string(c)] = tok
			if sig := tok[strings.LastIndex(tok, ".")+1:]; sig != "" {
				secrets["signature of the token of "+string(c)] = sig
			}
		}
	}
	nationalID := sectest.NationalID(777)
	secrets["national ID number"] = nationalID

	jwtFile := writeFile(t, "jwt.key", jwtKey+"\n")
	nidFile := writeFile(t, "nid.key", nidKey+"\n")

	for _, name := range []string{"registry", "training", "competition", "mentorship", "honour"} {
		t.Run(name, func(t *testing.T) {
			args := []string{"--addr", "127.0.0.1:0", "--rate", "0.2", "--log-level", "debug"}
			var env []string
			if name == "registry" {
				// Everything from files and flags.
				args = append(args, "--store", storeURL, "--jwt-key-file", jwtFile, "--national-id-key-file", nidFile)
			} else {
				// Everything from the environment: the key and the store's
				// password stay out of the command line (and `ps`).
				env = append(env, auth.DevKeyEnv+"="+jwtKey, "CRAFTLEDGER_STORE="+storeURL)
			}
			if name == "competition" {
				// Required: without it bin/competition does not start.
				env = append(env, "CRAFTLEDGER_APPROVERS="+sectest.OrgA)
			}
			pr, addr := startBinary(t, filepath.Join(bins, name), env, args...)
			base := "http://" + addr
			probe := serviceProbe[name]

			// Forged and expired tokens are refused (and must not be logged).
			for _, c := range []sectest.Caller{sectest.Tampered, sectest.WrongKey, sectest.AlgNone, sectest.Expired} {
				if code, _, b := post(t, base+probe.path, toks[c], probe.body); code != 401 {
					t.Errorf("%s token: %d %s, want 401", c, code, b)
				}
			}
			if name == "registry" {
				body := `{"craftsmanId":"c-secret","nationalId":"` + nationalID + `","birthDate":"1990-01-01","region":"120000","personal":{"name":"李秘密"}}`
				if code, _, b := post(t, base+"/v1/craftsmen", toks[sectest.IssuerB], body); code != 201 {
					t.Fatalf("register over the TLS store: %d %s", code, b)
				}
			}

			// Rate: 0.2 requests/s per caller, a burst of 1.
			var statuses []int
			var limited http.Header
			var limitedBody []byte
			for range 3 {
				code, h, b := post(t, base+probe.path, toks[sectest.Admin], probe.body)
				statuses = append(statuses, code)
				if code == 429 && limited == nil {
					limited, limitedBody = h, b
				}
			}
			if statuses[0] == 429 || limited == nil {
				t.Errorf("admin token, 3 requests at --rate 0.2: statuses %v, want the first served and a 429 after", statuses)
			} else {
				if ra := limited.Get("Retry-After"); ra == "" || ra == "0" {
					t.Errorf("429 without a usable Retry-After: %q", ra)
				}
				if !bytes.Contains(limitedBody, []byte(`"RESOURCE_EXHAUSTED"`)) {
					t.Errorf("429 body %s, want RESOURCE_EXHAUSTED", limitedBody)
				}
			}
			if code, _, b := post(t, base+probe.path, otherAdmin, probe.body); code == 429 {
				t.Errorf("another token was limited by the first one's use: %d %s", code, b)
			}

			pr.stop(t)
			logs := pr.output()
			if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, `"level":"INFO"`) {
				t.Fatalf("no logs collected:\n%s", logs)
			}
			for what, s := range secrets {
				if strings.Contains(logs, s) {
					t.Errorf("the %s appears in %s's logs", what, name)
				}
			}
			// Control: the logs do carry request details, so the absence of
			// secrets means something.
			if name == "registry" && !strings.Contains(logs, "c-secret") {
				t.Errorf("registry's debug logs do not mention the registered craftsman; is anything logged?\n%.2000s", logs)
			}
			if !strings.Contains(logs, "UNAUTHENTICATED") && !strings.Contains(logs, "token") {
				t.Errorf("%s's logs do not mention the refused tokens at all:\n%.2000s", name, logs)
			}
			if strings.Contains(logs, "李秘密") {
				t.Errorf("a craftsman's name (personal data) appears in %s's logs", name)
			}
		})
	}

	t.Run("graphql", func(t *testing.T) {
		credKey := filepath.Join(t.TempDir(), "credential.key")
		if _, err := credential.GenerateKeyFile(credKey); err != nil {
			t.Fatal(err)
		}
		pr, addr := startBinary(t, filepath.Join(bins, "graphql"), []string{"CRAFTLEDGER_GRAPHQL_ADDR=127.0.0.1:0", "CRAFTLEDGER_CREDENTIAL_KEY_FILE=" + credKey + ".pub"},
			"--store", storeURL, "--addr", "127.0.0.1:0", "--jwt-key-file", jwtFile, "--rate", "0.2", "--burst", "8")
		base := "http://" + addr
		q := `{"query":"{ viewer { role } craftsman(id: \"c-secret\") { id } }"}`
		for _, c := range []sectest.Caller{sectest.Tampered, sectest.WrongKey, sectest.AlgNone, sectest.Expired} {
			if code, _, b := post(t, base+"/graphql", toks[c], q); code != 401 {
				t.Errorf("%s token: %d %s, want 401", c, code, b)
			}
		}
		code, _, b := post(t, base+"/graphql", toks[sectest.Auditor], q)
		if code != 200 || !bytes.Contains(b, []byte(`"auditor"`)) {
			t.Errorf("auditor over the TLS store: %d %s", code, b)
		}
		// The credential public key (from the environment) reaches
		// verifyCredential: a non-credential is an answer (valid: false),
		// not FAILED_PRECONDITION.
		if code, _, b := post(t, base+"/graphql", "", `{"query":"{ verifyCredential(credential: \"{}\") { valid problems } }"}`); code != 200 ||
			!bytes.Contains(b, []byte(`"valid":false`)) || bytes.Contains(b, []byte(`"errors"`)) {
			t.Errorf("verifyCredential on bin/graphql with a credential key: %d %s", code, b)
		}
		// Rate limiting per caller (--rate 0.2 --burst 8): the auditor has
		// used one request of the burst, so of 30 quick queries some are
		// refused with 429 and Retry-After, while another caller (the
		// worker) is still served.
		limited, retryAfter := 0, ""
		for range 30 {
			code, h, _ := post(t, base+"/graphql", toks[sectest.Auditor], `{"query":"{ viewer { role } }"}`)
			if code == 429 {
				limited++
				retryAfter = h.Get("Retry-After")
			}
		}
		if limited == 0 || retryAfter == "" {
			t.Errorf("bin/graphql --rate 0.2 --burst 8: %d of 30 rapid queries of one token limited (Retry-After %q); want some 429s with Retry-After", limited, retryAfter)
		}
		if code, _, b := post(t, base+"/graphql", toks[sectest.WorkerC], `{"query":"{ viewer { role } }"}`); code != 200 {
			t.Errorf("another caller while the auditor is limited: %d %s, want 200", code, b)
		}
		t.Logf("bin/graphql: %d of 30 rapid queries of one token limited", limited)
		pr.stop(t)
		logs := pr.output()
		for what, s := range secrets {
			if strings.Contains(logs, s) {
				t.Errorf("the %s appears in graphql's logs", what)
			}
		}
	})
}
