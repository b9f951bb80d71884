package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/esdbserver"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
	"github.com/craftledger/craftledger/services/craftledger/ctl"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = ctl.Main(context.Background(), args, &out, &errb, []ctl.Command{ctl.Generate(), ctl.Token()})
	return code, out.String(), errb.String()
}

func TestTokenMintsVerifiableTokensPerRole(t *testing.T) {
	t.Setenv(auth.DevKeyEnv, "")
	code, out, errOut := run("--json", "token", "--ttl", "1h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list []struct {
		Role, Token string
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(list) != len(auth.Roles()) {
		t.Fatalf("%d tokens, want one per role", len(list))
	}
	for i, d := range auth.DevClaims() {
		c, err := auth.Verify(auth.DevKey(), list[i].Token)
		if err != nil {
			t.Fatalf("%s token does not verify: %v", list[i].Role, err)
		}
		if c.Role != d.Role || c.Subject != d.Subject || c.OrgID != d.OrgID || c.CraftsmanID != d.CraftsmanID {
			t.Errorf("token %d claims %+v, want %+v", i, c, d)
		}
	}

	// One token with given claims, signed with a key from a file.
	key := filepath.Join(t.TempDir(), "jwt.key")
	secret := strings.Repeat("k", 40)
	if err := os.WriteFile(key, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run("token", "--role", "issuer", "--org", "acad-0007", "--subject", "alice", "--jwt-key-file", key)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c, err := auth.Verify(auth.Key(secret), strings.TrimSpace(out))
	if err != nil || c.Role != auth.RoleIssuer || c.OrgID != "acad-0007" || c.Subject != "alice" {
		t.Errorf("custom token: %+v %v", c, err)
	}
	if _, err := auth.Verify(auth.DevKey(), strings.TrimSpace(out)); err == nil {
		t.Error("a token signed with the file's key verified under the development key")
	}

	// Refusals.
	for _, args := range [][]string{{"token", "--role", "boss"}, {"token", "--org", "x"}, {"token", "--ttl", "-1h"}} {
		if code, _, _ := run(args...); code == 0 {
			t.Errorf("%v succeeded", args)
		}
	}
	if code, _, _ := run("nonsense"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if code, _, errOut := run("generate", "--help"); code != 0 || !strings.Contains(errOut, "--count") && !strings.Contains(errOut, "-count") {
		t.Errorf("generate --help: %d %s", code, errOut)
	}
}

func TestGenerateAgainstEmbeddedStore(t *testing.T) {
	srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	type stats struct {
		Craftsmen int
		Events    int64
		Replayed  int64
	}
	gen := func() stats {
		code, out, errOut := run("--store", srv.URL(), "generate", "--count", "15", "--seed", "4", "--concurrency", "4", "--json", "--quiet")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var s stats
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return s
	}
	first := gen()
	if first.Craftsmen != 15 || first.Events == 0 {
		t.Fatalf("first run: %+v", first)
	}
	if again := gen(); again.Events != 0 || again.Replayed == 0 {
		t.Errorf("rerun wrote %d events (replayed %d), want 0 written", again.Events, again.Replayed)
	}
	if code, _, errOut := run("--store", "esdb://127.0.0.1:1?tls=false", "generate", "--count", "1", "--quiet"); code != 1 || errOut == "" {
		t.Errorf("unreachable store: exit %d %q", code, errOut)
	}
}

// TestFlagsAmongArguments: a command's flags are read wherever they stand
// among its arguments (before, between or after them, the common ones too),
// and everything after "--" is an argument.
func TestFlagsAmongArguments(t *testing.T) {
	var key string
	var got []string
	var json bool
	echo := ctl.Command{Name: "echo", Summary: "test", Usage: "ARGS",
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&key, "key", "", "a key") },
		Run: func(_ context.Context, env *ctl.Env, args []string) error {
			got, json = args, env.JSON
			return nil
		}}
	for _, c := range []struct {
		args     []string
		key      string
		pos      []string
		wantJSON bool
	}{
		{[]string{"echo", "--key", "k", "a", "b"}, "k", []string{"a", "b"}, false},
		{[]string{"echo", "a", "--key", "k", "b"}, "k", []string{"a", "b"}, false},
		{[]string{"echo", "a", "b", "--key=k", "--json"}, "k", []string{"a", "b"}, true},
		{[]string{"echo", "a", "--", "--key", "k"}, "", []string{"a", "--key", "k"}, false},
	} {
		key, got, json = "", nil, false
		var out, errb bytes.Buffer
		if code := ctl.Main(context.Background(), c.args, &out, &errb, []ctl.Command{echo}); code != 0 {
			t.Fatalf("%q: exit %d: %s", c.args, code, errb.String())
		}
		if key != c.key || !slices.Equal(got, c.pos) || json != c.wantJSON {
			t.Errorf("%q: key %q args %q json %v; want %q %q %v", c.args, key, got, json, c.key, c.pos, c.wantJSON)
		}
	}
	var out, errb bytes.Buffer
	if code := ctl.Main(context.Background(), []string{"echo", "a", "--nope"}, &out, &errb, []ctl.Command{echo}); code != 2 {
		t.Errorf("an unknown flag after an argument: exit %d, want 2", code)
	}
}

// craftsmen reads every craftsman stream's events of the store at url,
// by stream.
func craftsmen(t *testing.T, url string) map[string][]eventstore.RecordedEvent {
	t.Helper()
	st, err := eventstore.Open(context.Background(), eventstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string][]eventstore.RecordedEvent{}
	err = eventstore.ForEachAll(context.Background(), st, nil, 1000, nil, func(e eventstore.RecordedEvent) error {
		if strings.HasPrefix(e.Stream, "craftsman-") {
			out[e.Stream] = append(out[e.Stream], e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGenerateSealsPersonalData: generate seals personal data as the
// registry does, under $CRAFTLEDGER_PERSONAL_KEYS_DIR or
// --personal-keys-dir: the direct mode too (before, it wrote every name in
// clear whatever the environment said), and both modes write the same
// bytes under the same keyring. Against make run's store (the default
// --store) without a directory it takes the all-in-one's <data>/keys and
// refuses, before connecting, when that directory does not exist.
func TestGenerateSealsPersonalData(t *testing.T) {
	keys := t.TempDir()
	gen := func(args ...string) string {
		srv, err := esdbserver.Start(esdbserver.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		if code, _, errOut := run(append([]string{"--store", srv.URL(), "generate", "--count", "6", "--seed", "2", "--quiet"}, args...)...); code != 0 {
			t.Fatalf("generate %v: exit %d: %s", args, code, errOut)
		}
		return srv.URL()
	}
	t.Setenv("CRAFTLEDGER_PERSONAL_KEYS_DIR", keys)
	direct := craftsmen(t, gen("--direct"))
	kr, err := keyring.OpenDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := events.NewRegistry()
	if len(direct) != 6 {
		t.Fatalf("%d craftsmen written directly, want 6", len(direct))
	}
	for stream, evs := range direct {
		p, err := reg.Decode(evs[0].Type, evs[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := p.(events.CraftsmanRegistered)
		if !ok || r.Personal != nil || r.SealedPersonal == nil {
			t.Errorf("%s: the registration's personal data is not sealed: %s", stream, evs[0].Data)
			continue
		}
		if pers, err := kr.Open(*r.SealedPersonal); err != nil || pers.Name == "" || strings.Contains(string(evs[0].Data), pers.Name) {
			t.Errorf("%s: sealed name opens to %+v, %v (in clear in %s)", stream, pers, err, evs[0].Data)
		}
	}

	// Command by command, the keyring given by the flag alone: the same
	// bytes.
	t.Setenv("CRAFTLEDGER_PERSONAL_KEYS_DIR", "")
	commands := craftsmen(t, gen("--personal-keys-dir", keys))
	for stream, evs := range direct {
		other := commands[stream]
		for i := range max(len(evs), len(other)) {
			if i >= len(evs) || i >= len(other) || evs[i].ID != other[i].ID || !bytes.Equal(evs[i].Data, other[i].Data) {
				t.Errorf("%s@%d differs between --direct and command by command under one keyring", stream, i)
				break
			}
		}
	}

	// make run's store, no directory: <data>/keys, which must exist.
	t.Setenv("CRAFTLEDGER_STORE", "")
	t.Setenv("CRAFTLEDGER_PERSONAL_KEYS_DIR", "")
	t.Setenv("CRAFTLEDGER_DATA", t.TempDir())
	if code, _, errOut := run("generate", "--count", "1", "--quiet"); code != 1 || !strings.Contains(errOut, "--personal-keys-dir") || !strings.Contains(errOut, "keys") {
		t.Errorf("make run's store without <data>/keys: exit %d %q, want a refusal naming --personal-keys-dir", code, errOut)
	}
}
