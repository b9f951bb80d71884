package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/server"
)

// dump answers a fixed set of queries as an auditor, for comparing two
// read sides.
func dump(t *testing.T, h *harness, ids ...string) map[string]any {
	t.Helper()
	aud := token(t, auditor)
	out := map[string]any{}
	qs := map[string]string{
		"stats":     `{ populationStats { total byLevel { key count } byTrade { key count } byRegion { key count } byAcademy { key count } } }`,
		"audit":     `{ audit(first: 100) { totalCount edges { cursor node { stream revision type position chain data metadata recordedAt } } } }`,
		"people":    `{ craftsmen(first: 100, sort: "level_desc") { totalCount edges { cursor node { id level { api } region employers academies } } } }`,
		"catalogue": `{ academies { id name courses { id hours } } policies { name version } trades { code } }`,
		"welders":   `{ populationStats(trade: "6-18-02-04") { total byLevel { key count } } craftsmen(trade: "6-18-02-04", first: 100) { totalCount nodes { id level { api } } } }`,
		"fitters":   `{ craftsmen(trade: "6-20-01-01", first: 100) { totalCount nodes { id } } }`,
	}
	for _, id := range ids {
		qs["craftsman "+id] = fmt.Sprintf(`{ craftsman(id: %q) { id name region trades { trade { code } level { api } since evidence { stream revision } }
			certificates { number } training { totalHours count } honours { code withdrawn }
			timeline(first: 100) { totalCount edges { node { date kind title supersededBy } } } } }`, id)
	}
	for name, q := range qs {
		r := h.query(aud, q, nil)
		mustOK(t, r)
		out[name] = r.Data
	}
	// The organisation index answers HR's scoped queries.
	r := h.query(token(t, hrEmp1), `{ populationStats { total byLevel { key count } } craftsmen(first: 100) { totalCount nodes { id } } }`, nil)
	mustOK(t, r)
	out["hr emp1"] = r.Data
	return out
}

func TestRestartFromSnapshotAndRebuildEqualsLive(t *testing.T) {
	l := startStore(t)
	seed(l, 10)
	dir := t.TempDir()
	first := startServer(t, l, dir, server.Limits{})
	first.caughtUp()
	before := first.srv.Projector().Status().Applied
	first.stop() // writes the final snapshot
	if _, err := os.Stat(filepath.Join(dir, "readmodel.snap")); err != nil {
		t.Fatalf("no snapshot after stop: %v", err)
	}

	// More history while the read side is down, including a correction.
	l.add("craftsman-c001", events.HonourConferred{CraftsmanID: "c001", HonourID: "h1", Code: "city_craftsman", Level: "city", ConferringBody: "city union"}, day("2022-05-01"), "emp2")
	l.add("craftsman-c001", events.HonourWithdrawn{CraftsmanID: "c001", HonourID: "h1", Reason: "recorded in error"}, day("2022-06-01"), "emp2")
	added := 2
	for i := 10; i < 13; i++ {
		id := fmt.Sprintf("c%03d", i)
		l.add(events.CraftsmanStream(id), events.CraftsmanRegistered{CraftsmanID: id, NationalIDHash: fmt.Sprintf("%064x", i), Region: "HLJ", Personal: &events.Personal{Name: id}}, day("2019-01-01"), "emp1")
		added++
	}

	resumed := startServerWith(t, l, server.Config{DataDir: dir, SnapshotEvery: 2})
	resumed.caughtUp()
	if got := resumed.srv.Projector().Status().Applied; got != uint64(added) {
		t.Errorf("after the snapshot the projector applied %d events, want only the %d new ones (had %d before)", got, added, before)
	}
	fresh := startServer(t, l, "", server.Limits{})
	fresh.caughtUp()
	if got, want := fresh.srv.Model().Len(), resumed.srv.Model().Len(); got != want {
		t.Errorf("rebuilt model holds %d events, resumed %d", got, want)
	}
	ids := []string{"c000", "c001", "c003", "c011"}
	if diff := cmp.Diff(dump(t, fresh, ids...), dump(t, resumed, ids...)); diff != "" {
		t.Errorf("rebuild from zero differs from snapshot+resume (-rebuilt +resumed):\n%s", diff)
	}

	// The resumed side keeps following live appends.
	pos := l.add("craftsman-c012", events.TradeEntered{CraftsmanID: "c012", Trade: fitter}, day("2023-01-01"), "emp1")
	r := resumed.query(token(t, auditor), `{ craftsman(id: "c012") { trades { trade { code } } } }`, nil, "X-Min-Position", fmt.Sprintf("%d/%d", pos.Commit, pos.Prepare))
	mustOK(t, r)
	if got := path(r.Data, "craftsman", "trades", 0, "trade", "code"); got != fitter.Code {
		t.Errorf("live append not seen: %v", got)
	}
	// Snapshots were also taken in the background while it ran (every 2
	// events); the last one on stop.
	deadline := time.Now().Add(20 * time.Second)
	for resumed.srv.Projector().Status().Snapshots == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if resumed.srv.Projector().Status().Snapshots == 0 {
		t.Errorf("no background snapshot after %d events with SnapshotEvery 2", added)
	}
	h := path(dump(t, resumed, "c001"), "craftsman c001", "craftsman", "honours", 0, "withdrawn")
	if h != true {
		t.Errorf("withdrawn honour not marked: %v", h)
	}
}
