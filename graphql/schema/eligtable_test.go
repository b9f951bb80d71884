package schema

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
)

// TestEligEntriesAfterRestart: entries built ahead and written beside a
// snapshot answer the first eligibleFor queries after a restart from it
// without reading anyone's records, equal to full evaluation; after the
// ledger changed past the snapshot the answers are still full
// evaluation's, and only the craftsmen who changed are read (by the
// queries, then by a build, which reuses the others' entries).
func TestEligEntriesAfterRestart(t *testing.T) {
	g := eligModel(t, 1300)
	g.publishTimed() // v2's technician window is not built ahead
	g.flush()
	now := eligNow
	ctx := context.Background()

	// Before the restart: entries built, written with the snapshot.
	src := readmodel.WithSidecars(g.m)
	e := newElig(t, src)
	src.Add(e)
	if err := e.Build(ctx); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(t.TempDir(), "readmodel.snap")
	if err := src.WriteSnapshot(snap, "p"); err != nil {
		t.Fatal(err)
	}

	// The restart: a new model, loaded from the snapshot and its side file.
	m := readmodel.NewMemory()
	reads := new(atomic.Int64)
	base := fastOnly{m, t, reads}
	e2 := newElig(t, base)
	dst := readmodel.WithSidecars(m)
	dst.Add(e2)
	if err := dst.LoadSnapshot(snap, "p"); err != nil {
		t.Fatal(err)
	}
	if e2.tab.Load() == nil {
		t.Fatal("the load did not hand the entries back")
	}
	fast := mustSchema(t, Deps{Model: base, Elig: e2, Waiter: nopWaiter{}, MaxPageSize: 100, Now: now})
	full := mustSchema(t, Deps{Model: plainReader{m}, Waiter: nopWaiter{}, MaxPageSize: 100, Now: now})
	const q = `query($target: String, $by: String, $policies: [String!]) {
		craftsmen(trade: "6-18-02-04", eligibleFor: $target, eligibleBy: $by, policies: $policies, sort: "level_desc", first: 30) {
			totalCount edges { node { id level { rank } eligibility { eligible earliestDate policyVersion } } } }
		populationStats(trade: "6-18-02-04", eligibleFor: $target, eligibleBy: $by, policies: $policies) { total byLevel { key count } } }`
	roles := []auth.Claims{{Subject: "a", Role: auth.RoleAuditor}, {Subject: "h", Role: auth.RoleHR, OrgID: "emp1"}}
	// After every craftsman's last moment (2033 at the latest: some
	// certificates and ends of employment lie in the future), under
	// versions without a window for these targets: all from the entries.
	var fromEntries []map[string]any
	for _, by := range []string{"2034-01-01", "2035-06-01", "2040-01-01"} {
		for _, target := range []string{"intermediate", "senior", "technician"} {
			fromEntries = append(fromEntries, map[string]any{"target": target, "by": by})
		}
		fromEntries = append(fromEntries, map[string]any{"target": "technician", "by": by, "policies": []any{"template-b"}})
	}
	totals := map[string]int{}
	for _, vars := range fromEntries {
		for _, c := range roles {
			_, total := samePopulation(t, fast, full, c, q, vars, "the entries after a restart")
			totals[fmt.Sprint(vars["target"], vars["by"], vars["policies"])] = total
			if n := reads.Load(); n != 0 {
				t.Fatalf("after the restart %v read %d craftsmen's records; the entries should have answered", vars, n)
			}
		}
	}
	if totals["technician2040-01-01<nil>"] <= totals["technician2034-01-01<nil>"] || totals["senior2034-01-01<nil>"] == 0 {
		t.Fatalf("eligibility does not move with time: %v", totals)
	}
	// Others (a window, a date before t0) are still full evaluation's.
	for _, vars := range []map[string]any{{"target": "technician", "by": "2027-06-01"}, {"target": "senior", "by": "2012-06-01"}, {"target": "senior"}} {
		samePopulation(t, fast, full, roles[0], q, vars, "the index after a restart")
	}

	// The ledger changes past the snapshot.
	g.m = m
	changed := g.changeEligibility(now().AddDate(0, 0, -3))
	g.flush()
	var anyRead int64
	for _, vars := range fromEntries {
		reads.Store(0)
		samePopulation(t, fast, full, roles[0], q, vars, "the entries after the ledger changed")
		if n := reads.Load(); n > int64(changed) {
			t.Fatalf("after %d craftsmen changed %v read %d craftsmen's records", changed, vars, n)
		}
		anyRead += reads.Load()
	}
	if anyRead == 0 {
		t.Fatal("after the ledger changed the queries read nobody: the change was not seen")
	}
	// A build re-evaluates only those who changed.
	reads.Store(0)
	if err := e2.Build(ctx); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != int64(changed) {
		t.Fatalf("a build after %d craftsmen changed read %d", changed, n)
	}
	fresh := mustSchema(t, Deps{Model: base, Elig: e2, Waiter: nopWaiter{}, MaxPageSize: 100, Now: now})
	reads.Store(0)
	for _, vars := range fromEntries {
		samePopulation(t, fresh, full, roles[1], q, vars, "the rebuilt entries")
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("the rebuilt entries left %d craftsmen to read", n)
	}
}

// eligNow is the eligibility tests' clock: 2026-03-01.
func eligNow() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }

// newElig is NewEligEntries over m at eligNow.
func newElig(t *testing.T, m readmodel.Reader) *EligEntries {
	t.Helper()
	e, err := NewEligEntries(m, eligNow)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// eligAlone is the eligibility entries over m built on their own (Build),
// as a pass building both indexes is compared with.
func eligAlone(t *testing.T, m readmodel.Reader) *EligEntries {
	t.Helper()
	e := newElig(t, m)
	if err := e.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// rulesV1Elig writes the entries' side file as the server did before the
// evaluation counted China civil days: the same body under version 1.
type rulesV1Elig struct{ *EligEntries }

func (rulesV1Elig) SidecarVersion() uint64 { return 1 }

// TestEligSideFileOfOlderRulesIsNotLoaded: a side file written before an
// upgrade that changed what policy.Evaluate answers (version 1: dates in
// UTC days; its items may be a day off) is not handed back by the load,
// so its answers are not served and the entries are evaluated again; one
// of the current version is.
func TestEligSideFileOfOlderRulesIsNotLoaded(t *testing.T) {
	g := eligModel(t, 60)
	for _, tc := range []struct {
		name   string
		side   func(*EligEntries) readmodel.Sidecar
		loaded bool
	}{
		{"version 1 (UTC days)", func(e *EligEntries) readmodel.Sidecar { return rulesV1Elig{e} }, false},
		{"current version", func(e *EligEntries) readmodel.Sidecar { return e }, true},
	} {
		src := readmodel.WithSidecars(g.m)
		e := newElig(t, src)
		src.Add(tc.side(e))
		if err := e.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		snap := filepath.Join(t.TempDir(), "readmodel.snap")
		if err := src.WriteSnapshot(snap, "p"); err != nil {
			t.Fatal(err)
		}
		m := readmodel.NewMemory()
		e2 := newElig(t, m)
		dst := readmodel.WithSidecars(m)
		dst.Add(e2)
		if err := dst.LoadSnapshot(snap, "p"); err != nil {
			t.Fatal(err)
		}
		if got := e2.tab.Load() != nil; got != tc.loaded {
			t.Errorf("%s: entries handed back by the load: %v, want %v", tc.name, got, tc.loaded)
		}
	}
}

// A side file's items of the craftsmen a snapshot load derived again
// (readmodel.SnapshotTag.Rederived: their summaries were of an older rule
// of the fold, e.g. a version 6 file's craftsmen with a correction of
// another type applied) are not served: the fold they were evaluated
// with is not the current one. The others are.
func TestEligSideFileDropsRederivedCraftsmen(t *testing.T) {
	g := eligModel(t, 60)
	e := newElig(t, g.m)
	if err := e.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	tab := e.tab.Load()
	tag := readmodel.SnapshotTag{Craftsmen: len(tab.head) - 1, Epoch: tab.epoch}
	var held []int
	for i, h := range tab.head[:len(tab.head)-1] {
		if h.n > 0 {
			held = append(held, i)
		}
	}
	if len(held) < 2 {
		t.Fatalf("%d craftsmen with entries, want 2 or more", len(held))
	}
	var body bytes.Buffer
	if err := e.WriteSidecar(&body, tag); err != nil {
		t.Fatal(err)
	}
	tag.Rederived = []int{held[0]}
	back := parseEligTable(body.Bytes(), tag)
	if back == nil {
		t.Fatal("the side file does not parse")
	}
	if n := back.head[held[0]].n; n != 0 {
		t.Errorf("craftsman %d, derived again by the load: entries of %d events kept", held[0], n)
	}
	if n, want := back.head[held[1]].n, tab.head[held[1]].n; n != want {
		t.Errorf("craftsman %d: entries of %d events, want the file's (%d)", held[1], n, want)
	}
}
