package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/ctl"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// run is `ledgerctl ARGS` in-process with the full command table.
func run(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := ctl.Main(ctx, args, &out, &errb, append(commands(), auditCommands()...))
	return code, out.String(), errb.String()
}

// The auditors' commands end to end against the all-in-one (embedded store
// over gRPC, the real services, the GraphQL server) with a generated
// population: replay equals what verify counted, verify passes on honest
// data and exits 1 on damage written straight into the store, state as of
// several dates equals the GraphQL API's asOf answer for every craftsman,
// export and credentials work from files.
func TestAuditCommandsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the all-in-one and generates a population")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	a, err := app.New(ctx, app.Config{DataDir: dir, Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		stop()
		<-done
		_ = a.Close()
	}()
	if _, _, err := a.LoadDemo(ctx, generate.Config{Craftsmen: 40, Seed: 11, Concurrency: 4}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	store := "--store=" + a.StoreURL()

	// verify: honest data passes.
	code, out, errOut := run(ctx, "verify", store, "--json")
	if code != 0 {
		t.Fatalf("verify honest: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK || rep.Events < 500 {
		t.Fatalf("verify report: %v %+v", err, rep)
	}
	// replay --json: as many lines as verify saw events, each one an event.
	code, out, errOut = run(ctx, "replay", store, "--json")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	var recorded []time.Time
	if err := audit.ReadLines(strings.NewReader(out), func(e eventstore.RecordedEvent) error { recorded = append(recorded, e.Created); return nil }); err != nil || int64(len(recorded)) != rep.Events {
		t.Errorf("replay: %d lines (%v), verify counted %d events", len(recorded), err, rep.Events)
	}
	// One sequential read (--parallel 1) and three concurrent ones give the
	// same replay, byte for byte, and the same verdict.
	for _, p := range []string{"1", "3"} {
		if code, pout, perr := run(ctx, "replay", store, "--json", "--parallel", p); code != 0 || pout != out {
			t.Errorf("replay --parallel %s: exit %d, same output %v: %s", p, code, pout == out, perr)
		}
		code, vout, verr := run(ctx, "verify", store, "--json", "--parallel", p)
		var prep audit.Report
		if err := json.Unmarshal([]byte(vout), &prep); code != 0 || err != nil || !prep.OK || prep.Events != rep.Events {
			t.Errorf("verify --parallel %s: exit %d, %v, %+v (want %d events)\n%s", p, code, err, prep, rep.Events, verr)
		}
	}
	// The replay file verifies offline, and a changed byte in it fails.
	replayFile := filepath.Join(dir, "all.jsonl")
	_ = os.WriteFile(replayFile, []byte(out), 0o644)
	if code, vout, verr := run(ctx, "verify", "--file", replayFile, "--offline"); code != 0 || !strings.Contains(vout, "OK") {
		t.Errorf("verify --file: exit %d\n%s\n%s", code, vout, verr)
	}
	tampered := strings.Replace(out, `"hours":`, `"hours":1`, 1)
	_ = os.WriteFile(replayFile, []byte(tampered), 0o644)
	if code, vout, _ := run(ctx, "verify", "--file", replayFile, "--offline", "--skip-issuers"); code != 1 || !strings.Contains(vout, "does not match the content") {
		t.Errorf("verify --file tampered: exit %d\n%s", code, vout)
	}
	// A record-time cut in the middle of the generation: partial histories.
	middle := recorded[len(recorded)/2].Format(time.RFC3339Nano)
	if code, _, errOut := run(ctx, "verify", store, "--progress", "on"); code != 0 || !strings.Contains(errOut, "verify  [") || !strings.Contains(errOut, "100%") {
		t.Errorf("verify progress bar: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = run(ctx, "replay", store, "--category", "craftsman", "--from-position", "0", "--to-position", "999999999999")
	if code != 0 || !strings.Contains(out, "STREAM@REV") || !strings.Contains(out, "CraftsmanRegistered.v1") {
		t.Errorf("replay table: exit %d\n%.500s", code, out)
	}
	if code, _, _ := run(ctx, "replay", store, "--category", "craftsman", "--from-revision", "3"); code != 2 {
		t.Errorf("replay with a revision on a category: exit %d, want 2 (a usage mistake)", code)
	}

	ids, err := audit.Craftsmen(ctx, a.Store())
	if err != nil || len(ids) != 40 {
		t.Fatalf("craftsmen: %d, %v", len(ids), err)
	}
	// state: a craftsman as of today, JSON.
	code, out, errOut = run(ctx, "state", store, "--craftsman", ids[0], "--json")
	var c struct {
		State struct {
			Registered bool `json:"registered"`
		} `json:"state"`
		Pathways []struct {
			Trade string `json:"trade"`
		} `json:"pathways"`
	}
	if err := json.Unmarshal([]byte(out), &c); code != 0 || err != nil || !c.State.Registered || len(c.Pathways) == 0 {
		t.Fatalf("state: exit %d %v %s\n%.300s", code, err, errOut, out)
	}
	code, out, _ = run(ctx, "state", store, "--craftsman", ids[0], "--as-of", "2015-06-30", "--mode", "occurred")
	if code != 0 || !strings.Contains(out, "TRADE") {
		t.Errorf("state table: exit %d\n%s", code, out)
	}

	// diff: every craftsman, at several instants, against the GraphQL API.
	tok, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "auditor-1", Role: auth.RoleAuditor}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gql := "--graphql=" + a.BaseURL() + "/graphql"
	for _, at := range []string{"", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), middle, time.Now().UTC().Add(24 * 365 * 3 * time.Hour).Format(time.DateOnly)} {
		args := []string{"diff", store, gql, "--token", tok, "--all", "--json"}
		if at != "" {
			args = append(args, "--as-of", at)
		}
		code, out, errOut = run(ctx, args...)
		var sum DiffSummary
		if err := json.Unmarshal([]byte(out), &sum); err != nil || code != 0 || sum.Craftsmen != 40 || sum.Equal != 40 || ((at == "" || at == middle) && sum.Compared < 500) {
			t.Errorf("diff as of %q: exit %d, %v, %+v\n%s\n%.2000s", at, code, err, sum, errOut, out)
		}
	}
	// diff catches a difference: a wrong token is an error (exit 1), and a
	// policy the API does not have answers differently.
	if code, _, _ := run(ctx, "diff", store, gql, "--token", "nope", "--craftsman", ids[1]); code != 1 {
		t.Errorf("diff with a bad token: exit %d", code)
	}

	// export: CSV and JSON Lines to files.
	csvFile := filepath.Join(dir, "c.csv")
	if code, _, errOut := run(ctx, "export", store, "--craftsman", ids[2], "--format", "csv", "--out", csvFile); code != 0 {
		t.Fatalf("export csv: %s", errOut)
	}
	b, _ := os.ReadFile(csvFile)
	if !strings.HasPrefix(string(b), strings.Join(audit.CSVHeader(), ",")) || strings.Count(string(b), "\n") < 3 {
		t.Errorf("export csv:\n%.500s", b)
	}

	// credential: keygen, issue, verify, tamper.
	key := filepath.Join(dir, "issuer.key")
	if code, _, errOut := run(ctx, "credential", "--key", key, "keygen"); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	vc := filepath.Join(dir, "record.vc.json")
	if code, _, errOut := run(ctx, "credential", store, "--key", key, "--craftsman", ids[0], "--out", vc, "issue"); code != 0 {
		t.Fatalf("issue: %s", errOut)
	}
	code, out, errOut = run(ctx, "credential", "--pub", key+".pub", "--json", "verify", vc)
	if code != 0 || !strings.Contains(out, `"valid": true`) {
		t.Fatalf("verify credential: exit %d %s %s", code, out, errOut)
	}
	// Online, against the ledger: every claim still stands.
	vc3 := filepath.Join(dir, "record3.vc.json")
	if code, _, errOut := run(ctx, "credential", store, "--key", key, "--craftsman", ids[3], "--out", vc3, "issue"); code != 0 {
		t.Fatalf("issue: %s", errOut)
	}
	if code, out, errOut := run(ctx, "credential", store, "--pub", key+".pub", "--online", "verify", vc3); code != 0 || !strings.Contains(out, "CURRENT: every claim") {
		t.Fatalf("verify credential online: exit %d %s %s", code, out, errOut)
	}
	b, _ = os.ReadFile(vc)
	b[len(b)/2] ^= 0x01
	_ = os.WriteFile(vc, b, 0o644)
	if code, out, _ := run(ctx, "credential", "--pub", key+".pub", "verify", vc); code != 1 || !strings.Contains(out, "INVALID") {
		t.Errorf("verify tampered credential: exit %d %s", code, out)
	}

	// Damage written straight into the store: a training completion
	// recorded under a rogue issuer, correctly chained onto a craftsman's
	// stream — verify exits 1 and names it.
	stream := events.CraftsmanStream(ids[3])
	last, err := a.Store().ReadStream(ctx, stream, eventstore.ReadOptions{Direction: eventstore.Backwards, FromEnd: true, Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	var lm events.Metadata
	_ = json.Unmarshal(last[0].Metadata, &lm)
	p := events.TrainingCompleted{CraftsmanID: ids[3], EnrolmentID: "forged-1", AcademyID: "acad-real", CourseID: "c1",
		Trade: events.Trade{Code: "6-31-01-03", Name: "电工"}, Hours: 500, Mode: "classroom", Passed: true}
	typ, data, _ := events.Encode(p)
	_, meta, err := chain.Seal(lm.Hash, typ, data, events.NewMetadata(typ, time.Now(), "acad-rogue", "mallory"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store().Append(ctx, stream, eventstore.At(last[0].Revision), eventstore.EventData{Type: typ, Data: data, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(ctx, "verify", store, "--category", "craftsman")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "acad-rogue") || !strings.Contains(out, stream) {
		t.Errorf("verify after a forged issuer: exit %d\n%s", code, out)
	}
	// The credential issued before the damage still verifies offline;
	// online, the stream it cites no longer passes verify.
	if code, out, _ := run(ctx, "credential", "--pub", key+".pub", "verify", vc3); code != 0 {
		t.Errorf("offline verify after the damage: exit %d %s", code, out)
	}
	if code, out, _ := run(ctx, "credential", store, "--pub", key+".pub", "--online", "--json", "verify", vc3); code != 1 || !strings.Contains(out, `"current": false`) || !strings.Contains(out, "acad-rogue") {
		t.Errorf("online verify after the damage: exit %d %s", code, out)
	}
	if code, _, _ := run(ctx, "verify", store, "--category", "craftsman", "--skip-issuers"); code != 0 {
		t.Errorf("verify --skip-issuers after a forged issuer (the chain holds): exit %d", code)
	}
	// Usage mistakes exit 2.
	for _, args := range [][]string{
		{"state"}, {"diff", "--all", "--craftsman", "x"}, {"export"}, {"replay", "--format", "xml"},
		{"credential"}, {"credential", "sign"}, {"state", "--craftsman", "x", "--mode", "sometimes"},
		{"replay", "--parallel", "-1"}, {"verify", "--parallel", "-1"},
	} {
		if code, _, _ := run(ctx, append(args, store)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// --help works for every command.
	for _, name := range []string{"replay", "verify", "state", "diff", "export", "credential"} {
		if code, _, errOut := run(ctx, name, "--help"); code != 0 || !strings.Contains(errOut, "Usage: ledgerctl "+name) {
			t.Errorf("%s --help: exit %d\n%s", name, code, errOut)
		}
	}
}

// Usage mistakes exit 2 before anything is read or written, and a scope
// that names nothing is an error rather than an empty OK: a positional
// argument (a stream named without --stream) must not widen the scope to
// everything, an unknown --progress is not "on", a revision bound on a
// category or a position bound on a stream prints no table header, and a
// mistyped category verifies nothing.
func TestAuditUsageMistakes(t *testing.T) {
	st, srv := audittest.Store(t)
	audittest.Population(t, st, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := "--store=" + srv.URL()
	for _, args := range [][]string{
		{"verify", "craftsman-c-0001"},
		{"replay", "craftsman-c-0001"},
		{"state", "--craftsman", "c-0001", "extra"},
		{"export", "--craftsman", "c-0001", "extra"},
		{"diff", "--craftsman", "c-0001", "extra"},
		{"verify", "--progress", "bogus"},
		{"replay", "--progress", "bogus"},
		{"export", "--craftsman", "c-0001", "--progress", "bogus"},
		{"replay", "--stream", "craftsman-c-0001", "--from-position", "3"},
		{"replay", "--category", "craftsman", "--to-revision", "3"},
		{"replay", "--from-position", "x"},
		{"replay", "--recorded-by", "30/06/2025"},
		{"state", "--craftsman", "c-0001", "--as-of", "yesterday"},
		{"verify", "--stream", "craftsman-c-0001", "--category", "craftsman"},
		{"verify", "--offline"},
		{"verify", "--partial"},
		{"diff", "--craftsman", "c-0001", "--mode", "occurred"},
		{"state", "--craftsman", "c-0001", "--policies", "nosuchpolicy"},
		{"diff", "--craftsman", "c-0001", "--policies", "template-a,nosuchpolicy", "--graphql", "http://127.0.0.1:1/graphql"},
		{"state", "--craftsman", "bad id!"},
		{"replay", "--json", "--format", "table"},
	} {
		code, out, errOut := run(ctx, append(args, store)...)
		if code != 2 || out != "" || !strings.Contains(errOut, "ledgerctl") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout", args, code, out, errOut)
		}
	}
	code, out, errOut := run(ctx, "verify", store, "--category", "craftsmen")
	if code != 1 || !strings.Contains(errOut, "category craftsmen has no events") {
		t.Errorf("verify of a category with no events: exit %d\n%s%s", code, out, errOut)
	}
	// replay and export refuse what names nothing, as verify and an
	// academy's export do; a category with nothing in range is empty.
	if code, out, errOut := run(ctx, "replay", store, "--category", "craftsmen"); code != 1 || out != "" || !strings.Contains(errOut, "category craftsmen has no events") {
		t.Errorf("replay of a category with no events: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(ctx, "replay", store, "--category", "craftsman", "--recorded-by", "2000-01-01", "--json"); code != 0 || out != "" {
		t.Errorf("replay of a category with nothing recorded by then: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(ctx, "export", store, "--craftsman", "c-0001", "--recorded-by", "2000-01-01"); code != 1 || out != "" || !strings.Contains(errOut, "no events recorded by") {
		t.Errorf("export of a craftsman with nothing recorded by then: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(ctx, "replay", store, "--json", "--format", "jsonl", "--stream", "craftsman-c-0001"); code != 0 || strings.Count(out, "\n") != len(audittest.Career("x")) {
		t.Errorf("replay --json --format jsonl: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(ctx, "verify", store, "--category", "craftsman", "--progress", "off"); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("verify --category craftsman: exit %d\n%s%s", code, out, errOut)
	}
	// An academy's export holds part of each stream: --partial verifies it
	// and says what it could not check; without, the gaps are findings.
	file := filepath.Join(t.TempDir(), "academy.jsonl")
	if code, _, errOut := run(ctx, "export", store, "--academy", audittest.Academy, "--out", file); code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	if code, out, errOut := run(ctx, "verify", "--file", file, "--offline", "--partial"); code != 0 || !strings.Contains(out, "OK") || !strings.Contains(out, "partial: 2 streams miss 6 revisions") {
		t.Errorf("verify --partial: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run(ctx, "verify", "--file", file, "--offline"); code != 1 || !strings.Contains(out, "gap") {
		t.Errorf("verify of a partial file without --partial: exit %d\n%s", code, out)
	}
}

// TestOutIsReplacedOnlyOnSuccess: --out is written to a temporary file
// beside it and renamed over it only when the command succeeds, so a
// failing export or replay (nothing to export, a store that cannot be
// reached, an interrupt: SIGINT cancels the context) leaves the old
// contents and no temporary file; a successful one replaces the file,
// keeping its mode. Before, the file was truncated when the command
// started: a failure left it empty or header-only. On stdout a failed CSV
// export prints no header.
func TestOutIsReplacedOnlyOnSuccess(t *testing.T) {
	st, srv := audittest.Store(t)
	audittest.Population(t, st, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := "--store=" + srv.URL()
	dir := t.TempDir()
	file := filepath.Join(dir, "out.csv")
	const old = "old contents\n"
	if err := os.WriteFile(file, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		if b, err := os.ReadFile(file); err != nil || string(b) != old {
			t.Errorf("%s: --out now holds %q (%v), want the old contents", what, b, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%s: %d files in the directory, want the output alone", what, len(ents))
		}
	}
	if code, _, _ := run(ctx, "export", store, "--academy", "nobody", "--format", "csv", "--out", file); code != 1 {
		t.Errorf("export of an academy with no events: exit %d, want 1", code)
	}
	unchanged("export with nothing to export")
	if code, _, _ := run(ctx, "replay", "--store=esdb://127.0.0.1:1?tls=false", "--json", "--out", file); code != 1 {
		t.Errorf("replay from an unreachable store: exit %d, want 1", code)
	}
	unchanged("replay from an unreachable store")
	interrupted, stop := context.WithCancel(ctx)
	stop()
	if code, _, _ := run(interrupted, "replay", store, "--json", "--out", file); code == 0 {
		t.Error("an interrupted replay succeeded")
	}
	unchanged("an interrupted replay")

	if code, _, errOut := run(ctx, "export", store, "--craftsman", "c-0001", "--format", "csv", "--out", file); code != 0 {
		t.Fatalf("export: exit %d %s", code, errOut)
	}
	b, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(b), strings.Join(audit.CSVHeader(), ",")+"\n") || strings.Count(string(b), "\n") != 1+len(audittest.Career("x")) {
		t.Errorf("export to an existing file:\n%s", b)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the replaced file's mode: %v %v, want 0640 kept", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files after a successful export, want 1", len(ents))
	}
	if code, out, _ := run(ctx, "export", store, "--academy", "nobody", "--format", "csv"); code != 1 || out != "" {
		t.Errorf("failed CSV export on stdout: exit %d, printed %q; want exit 1 and nothing", code, out)
	}
}

// TestVerifyFileAgainstStoreCommand: verify --file checks each line
// against the store unless --offline: a replay whose event id was edited
// (the chain does not cover ids) passes --offline and fails with the
// store, naming the line as a store finding; the honest file passes both.
func TestVerifyFileAgainstStoreCommand(t *testing.T) {
	st, srv := audittest.Store(t)
	audittest.Population(t, st, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := "--store=" + srv.URL()
	file := filepath.Join(t.TempDir(), "all.jsonl")
	if code, _, errOut := run(ctx, "replay", store, "--json", "--out", file); code != 0 {
		t.Fatalf("replay: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{"--offline"}, {store}} {
		if code, out, errOut := run(ctx, append([]string{"verify", "--file", file}, args...)...); code != 0 || !strings.Contains(out, "OK") {
			t.Errorf("honest file %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	b, _ := os.ReadFile(file)
	lines := strings.Split(string(b), "\n")
	var l audit.Line
	if err := json.Unmarshal([]byte(lines[3]), &l); err != nil {
		t.Fatal(err)
	}
	lines[3] = strings.Replace(lines[3], `"id":"`+l.ID+`"`, `"id":"00000000-0000-4000-8000-000000000001"`, 1)
	_ = os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
	if code, out, _ := run(ctx, "verify", "--file", file, "--offline"); code != 0 {
		t.Errorf("an edited id offline: exit %d (the chain does not cover ids)\n%s", code, out)
	}
	code, out, _ := run(ctx, "verify", "--file", file, store)
	if code != 1 || !strings.Contains(out, "store") || !strings.Contains(out, l.Stream+"@"+strconv.FormatUint(l.Revision, 10)) || !strings.Contains(out, "its id is "+l.ID) {
		t.Errorf("an edited id against the store: exit %d\n%s", code, out)
	}
}
