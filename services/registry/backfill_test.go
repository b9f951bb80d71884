package registry_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

func (e *env) backfill(t testing.TB, token, path, contentType, body string) (map[int]command.LineResult, command.Summary) {
	t.Helper()
	return servicetest.BackfillOK(t, e.url+path, token, contentType, body)
}

func TestBackfillCraftsmenJSONLines(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, `{"craftsmanId":"p%d","nationalId":%q,"birthDate":"1980-05-0%d","personal":{"name":"工匠%d"},"occurredAt":"2008-03-01"}`+"\n", i, nationalID(100+i), i%9+1, i)
	}
	b.WriteString(`{"craftsmanId":"p0","nationalId":"` + nationalID(200) + `","personal":{"name":"重复"}}` + "\n") // 11: already registered
	b.WriteString(`{"craftsmanId":"p11","nationalId":"123","personal":{"name":"x"}}` + "\n")                     // 12: bad ID
	b.WriteString(`{"craftsmanId":"p12","nationalId":"` + nationalID(201) + `","nickname":"x"}` + "\n")          // 13: unknown field
	want := map[int]string{11: "CONFLICT", 12: "INVALID_ARGUMENT", 13: "INVALID_ARGUMENT"}
	for run := 0; run < 2; run++ {
		lines, sum := e.backfill(t, issuer(t, "academy-a"), "/v1/backfill/craftsmen", "application/x-ndjson", b.String())
		if sum.Lines != 13 || sum.OK != 10 || sum.Failed != 3 || (run == 1 && sum.Replayed != 10) {
			t.Fatalf("run %d: summary %+v", run, sum)
		}
		for line, code := range want {
			if lines[line].OK || lines[line].Code != code {
				t.Errorf("run %d line %d: %+v, want %s", run, line, lines[line], code)
			}
		}
	}
	for i := 0; i < 10; i++ {
		if n := e.count(t, fmt.Sprintf("craftsman-p%d", i)); n != 1 {
			t.Fatalf("craftsman p%d has %d events", i, n)
		}
	}
	// A worker may not back-fill.
	r := commandtest.Do(t, "POST", e.url+"/v1/backfill/craftsmen", commandtest.Token(t, auth.RoleWorker, "", "p1"), []byte(b.String()), "Content-Type", "application/x-ndjson")
	if r.Status != http.StatusForbidden {
		t.Fatalf("worker back-fill: %d %s", r.Status, r.Body)
	}
}

func TestBackfillEmploymentsCSV(t *testing.T) {
	e := newEnv(t)
	e.register(t, "m1", 1)
	csv := "craftsmanId,key,employmentId,employerOrgId,tradeCode,position,occurredAt,endedOn,endReason\n" +
		"m1,k1,e-2005,steelworks,6-31-01-03,学徒,2005-07-01,2010-12-31,transferred\n" + // 2: past employment
		"m1,k2,e-2011,steelworks,6-31-01-03,电工,2011-01-01,,\n" + // 3: open employment
		"m1,k3,e-2012,steelworks,6-31-01-03,电工,2012-01-01,2011-01-01,\n" + // 4: ends before it starts
		"m1,k4,e-2013,shipyard,6-31-01-03,电工,2013-01-01,,\n" + // 5: another employer
		"m1,k5,e-2011,steelworks,6-31-01-03,电工,2011-01-01,,\n" + // 6: id reused
		"ghost,k6,e-1,steelworks,6-31-01-03,,2011-01-01,,\n" // 7: unknown craftsman
	lines, sum := e.backfill(t, issuer(t, "steelworks"), "/v1/backfill/employments", "text/csv", csv)
	want := map[int]string{4: "INVALID_ARGUMENT", 5: "PERMISSION_DENIED", 6: "CONFLICT", 7: "NOT_FOUND"}
	if sum.Lines != 6 || sum.OK != 2 || sum.Failed != 4 {
		t.Fatalf("summary %+v %+v", sum, lines)
	}
	for line, code := range want {
		if lines[line].OK || lines[line].Code != code {
			t.Errorf("line %d: %+v, want %s", line, lines[line], code)
		}
	}
	// registration + start and end of the past employment + start of the open one
	if n := e.count(t, "craftsman-m1"); n != 4 {
		t.Fatalf("%d events, want 4", n)
	}
	evs := e.events(t, "craftsman-m1")
	m, _ := command.DecodeMetadata(evs[2].Metadata)
	if evs[2].Type != "EmploymentEnded.v1" || m.OccurredAt.Year() != 2010 || m.Source != "import" {
		t.Fatalf("event 2: %s %+v", evs[2].Type, m)
	}
}

// TestBackfillTrades: trades entered years ago, back-filled from CSV and
// JSON Lines: only the registering (or employing) organisation's lines are
// written, a trade already held writes nothing, a bad code is named, and a
// second run writes nothing more.
func TestBackfillTrades(t *testing.T) {
	e := newEnv(t)
	e.register(t, "tr1", 1)
	e.register(t, "tr2", 2)
	csv := "craftsmanId,key,tradeCode,tradeName,occurredAt\n" +
		"tr1,t1,6-31-01-03,电工,2008-03-01\n" +
		"tr1,t2,6-31-01-03,电工,2009-03-01\n" + // 3: already held: nothing written
		"tr1,t3,electrician,,2010-03-01\n" + // 4: not a trade code
		"ghost,t4,6-31-01-03,,2010-03-01\n" + // 5: unknown craftsman
		"tr1,t5,6-31-01-03,电工,2031-03-01\n" // 6: in the future
	lines, sum := e.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "text/csv", csv)
	if sum.Lines != 5 || sum.OK != 2 || sum.Failed != 3 {
		t.Fatalf("summary %+v %+v", sum, lines)
	}
	for line, code := range map[int]string{4: "INVALID_ARGUMENT", 5: "NOT_FOUND", 6: "INVALID_ARGUMENT"} {
		if lines[line].OK || lines[line].Code != code {
			t.Errorf("line %d: %+v, want %s", line, lines[line], code)
		}
	}
	if !strings.Contains(lines[4].Message, "trade") || !strings.Contains(lines[6].Message, "occurredAt") {
		t.Errorf("lines 4 and 6 do not name their field: %+v / %+v", lines[4], lines[6])
	}
	if n := e.count(t, "craftsman-tr1"); n != 2 { // registration, one TradeEntered
		t.Fatalf("tr1 has %d events, want 2", n)
	}
	// Another organisation may not add trades to academy-a's craftsman.
	jsonl := `{"craftsmanId":"tr2","key":"x1","trade":{"code":"6-31-01-03"},"occurredAt":"2008-03-01"}` + "\n"
	lines, sum = e.backfill(t, issuer(t, "shipyard"), "/v1/backfill/trades", "application/x-ndjson", jsonl)
	if sum.Failed != 1 || lines[1].Code != "PERMISSION_DENIED" {
		t.Fatalf("foreign line: %+v %+v", sum, lines)
	}
	lines, sum = e.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "application/x-ndjson", jsonl)
	if sum.OK != 1 || e.count(t, "craftsman-tr2") != 2 {
		t.Fatalf("own line: %+v %+v", sum, lines)
	}
	// Line 2 is found by its key; line 3 wrote nothing to find and is a
	// no-op again.
	if _, again := e.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "text/csv", csv); again.OK != 2 || again.Replayed != 1 || again.Failed != 3 {
		t.Fatalf("second run %+v", again)
	}
}

// TestBackfillTradesAnswers: a trades file's consecutive lines of one
// craftsman are appended together (several share one append's position,
// where line by line each had its own) and answer as they do line by line
// (MaxBatch 1): a trade already held,
// earlier in the same file, is a no-op that writes nothing and answers at
// the held trade's revision with a real position, bad lines and another
// organisation's craftsman fail alone, the events are the same and
// chained, and a second run replays.
func TestBackfillTradesAnswers(t *testing.T) {
	batched := newEnv(t)
	alone := newEnvBackfill(t, command.Backfill{Workers: 8, MaxBatch: 1})
	for _, e := range []*env{batched, alone} {
		e.register(t, "tb1", 1)
		if r := e.do(t, "POST", "/v1/craftsmen", issuer(t, "shipyard"), map[string]any{"craftsmanId": "tb2", "nationalId": nationalID(2), "personal": map[string]any{"name": "李强"}}); r.Status != http.StatusCreated {
			t.Fatalf("register tb2: %d %s", r.Status, r.Body)
		}
	}
	var b strings.Builder
	var good []int
	noop := map[int]bool{}
	bad := map[int]string{}
	extra := []struct{ line, code string }{
		{`{"craftsmanId":"tb1","key":"b1","trade":{"code":"6-31-01-01"},"occurredAt":"2012-03-01"}`, ""}, // held since line 1: a no-op
		{`{"craftsmanId":"tb1","key":"b2","trade":{"code":"electrician"},"occurredAt":"2012-03-01"}`, "INVALID_ARGUMENT"},
		{`{"craftsmanId":"tb2","key":"b3","trade":{"code":"6-31-01-03"},"occurredAt":"2012-03-01"}`, "PERMISSION_DENIED"},
		{`{"craftsmanId":"tb1","key":"b4","trade":{"code":"6-31-01-99"},"occurredAt":"2031-03-01"}`, "INVALID_ARGUMENT"},
	}
	line := 0
	for i := 0; i < 12; i++ {
		line++
		good = append(good, line)
		fmt.Fprintf(&b, `{"craftsmanId":"tb1","key":"g%d","trade":{"code":"6-31-01-%02d"},"occurredAt":"20%02d-03-01"}`+"\n", i, i+1, i)
		if i%3 == 2 {
			line++
			x := extra[i/3]
			if x.code == "" {
				noop[line] = true
			} else {
				bad[line] = x.code
			}
			b.WriteString(x.line + "\n")
		}
	}
	body := b.String()
	lines, sum := batched.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "application/x-ndjson", body)
	if sum.OK != len(good)+len(noop) || sum.Failed != len(bad) {
		t.Fatalf("summary %+v lines %+v", sum, lines)
	}
	for l, code := range bad {
		if lines[l].OK || lines[l].Code != code {
			t.Errorf("line %d: %+v, want %s", l, lines[l], code)
		}
	}
	if n := batched.count(t, "craftsman-tb1"); n != 1+len(good) {
		t.Fatalf("%d events, want %d", n, 1+len(good))
	}
	positions := map[eventstore.Position]bool{}
	for _, l := range good {
		positions[*lines[l].Position] = true
	}
	if len(positions) >= len(good) {
		t.Errorf("%d good lines in %d appends: not batched", len(good), len(positions))
	}
	aloneLines, _ := alone.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "application/x-ndjson", body)
	for l := range noop {
		a, b := aloneLines[l], lines[l]
		if !b.OK || b.Replayed || *a.Revision != *b.Revision || b.Position.Commit == 0 {
			t.Errorf("no-op line %d: batched %+v (%d %v), line by line %+v (%d %v)", l, b, *b.Revision, *b.Position, a, *a.Revision, *a.Position)
		}
	}
	if d := cmp.Diff(commandtest.Unplaced(aloneLines), commandtest.Unplaced(lines)); d != "" {
		t.Errorf("line results (-line by line +batched):\n%s", d)
	}
	if d := cmp.Diff(alone.imported(t, "craftsman-tb1"), batched.imported(t, "craftsman-tb1")); d != "" {
		t.Errorf("events (-line by line +batched):\n%s", d)
	}
	evs := batched.events(t, "craftsman-tb1")
	raw := make([]events.Raw, len(evs))
	for i, ev := range evs {
		raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Fatalf("hash chain: %v", brk)
	}
	again, sum2 := batched.backfill(t, issuer(t, "academy-a"), "/v1/backfill/trades", "application/x-ndjson", body)
	if sum2.Replayed != len(good) || sum2.OK != len(good)+len(noop) || sum2.Failed != len(bad) {
		t.Fatalf("second run %+v", sum2)
	}
	for _, l := range good {
		if a, b := again[l], lines[l]; !a.Replayed || *a.Revision != *b.Revision {
			t.Errorf("line %d: second run %+v, first %+v", l, a, b)
		}
	}
	if n := batched.count(t, "craftsman-tb1"); n != 1+len(good) {
		t.Fatalf("%d events after the second run, want %d", n, 1+len(good))
	}
}

// imported is a stream's back-filled events (after its registration) as
// any run of the same file writes them: id, type, data and metadata without
// the run's correlation id and the hash chain that covers it.
func (e *env) imported(t testing.TB, stream string) []string {
	t.Helper()
	var out []string
	for _, ev := range e.events(t, stream)[1:] {
		m, err := command.DecodeMetadata(ev.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if m.Source != "import" || m.OccurredAt.Year() >= now.Year() {
			t.Fatalf("%s: metadata %+v", ev.ID, m)
		}
		m.CorrelationID, m.PrevHash, m.Hash = "", "", ""
		out = append(out, fmt.Sprintf("%s %s %s %+v", ev.ID, ev.Type, ev.Data, m))
	}
	return out
}
