package honour_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
)

// honourFile is a back-fill of w1's and w2's honours: w1's good lines
// interleaved with lines its decision refuses on the stream as it grows —
// another honour under an id the file recorded earlier (conflict), a
// placement it does not hold — or the command refuses (a catalogue level
// contradicted), an exact repeat of an earlier line (a replay), an honour
// withdrawn since (two commands, line by line) and one the decoder refuses.
// want maps those lines to their code ("" = written or replayed).
func honourFile() (file string, want map[int]string, repeats map[int]int) {
	var lines []string
	want, repeats = map[int]string{}, map[int]int{}
	add := func(code, line string) int {
		lines = append(lines, line)
		want[len(lines)] = code
		return len(lines)
	}
	first := map[int]int{} // honour number -> its line
	for i := range 30 {
		first[i] = add("", fmt.Sprintf(`{"craftsmanId":"w1","honourId":"h%d","code":"city_craftsman","occurredAt":"2015-06-%02d"}`, i, i%28+1))
		if i%3 == 0 {
			add("", fmt.Sprintf(`{"craftsmanId":"w2","honourId":"h%d","code":"city_craftsman","occurredAt":"2014-03-%02d"}`, i, i%28+1))
		}
		switch i {
		case 8:
			add("CONFLICT", `{"craftsmanId":"w1","honourId":"h3","code":"provincial_craftsman","occurredAt":"2016-01-01"}`)
		case 12:
			repeats[add("", lines[first[5]-1])] = first[5]
		case 16:
			add("NOT_FOUND", `{"craftsmanId":"w1","honourId":"hp","code":"city_craftsman","placementId":"pl-none","occurredAt":"2016-01-01"}`)
		case 20:
			add("", `{"craftsmanId":"w1","honourId":"hw","code":"city_craftsman","occurredAt":"2014-01-01","withdrawn":{"reason":"revoked","occurredAt":"2015-01-01"}}`)
		case 24:
			add("INVALID_ARGUMENT", `{"craftsmanId":"w1","code":"city_craftsman","level":"national","occurredAt":"2016-02-02"}`)
		case 26:
			add("INVALID_ARGUMENT", `{"craftsmanId":"w1","honourId":"hx","code":"city_craftsman"}`)
		}
	}
	return strings.Join(lines, "\n") + "\n", want, repeats
}

// TestBackfillHonoursBatched: a craftsman's consecutive honour lines are
// appended together (several lines share one append's position, which a
// line-by-line run never gives), and every line gets what it gets run
// alone (MaxBatch 1: each line through the route's service call) — the
// same results and the same events, data and metadata — including lines
// refused on what earlier lines of the same batch wrote, which write
// nothing, and a repeated line, which is a replay of the first. The chain
// verifies; the same file again is all replays and writes nothing; single
// requests afterwards see exactly what was written.
func TestBackfillHonoursBatched(t *testing.T) {
	t.Parallel()
	file, want, repeats := honourFile()
	opts := honour.Options{CheckWriters: true, ConferringBodies: testBodies()}
	batched, alone := newEnvWith(t, opts), newEnvBackfill(t, opts, command.Backfill{Workers: 4, MaxBatch: 1})
	results := map[*env]map[int]command.LineResult{}
	for _, e := range []*env{batched, alone} {
		e.register("w1", events.Senior)
		e.register("w2", events.Senior)
		code, lines, sum := e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
		if code != 200 || sum.Summary.Lines != len(want) {
			t.Fatalf("back-fill: %d %+v", code, sum)
		}
		for line, code := range want {
			if lr := lines[line]; lr.OK != (code == "") || lr.Code != code {
				t.Errorf("line %d: %+v, want code %q", line, lr, code)
			}
		}
		for line, orig := range repeats {
			if lr, o := lines[line], lines[orig]; !lr.Replayed || *lr.Revision != *o.Revision {
				t.Errorf("line %d repeats line %d: %+v at %d, want a replay of %+v at %d", line, orig, lr, *lr.Revision, o, *o.Revision)
			}
		}
		results[e] = lines
	}
	// Batched: some append carried several of w1's lines.
	appends := map[eventstore.Position]int{}
	written := 0
	for line, lr := range results[batched] {
		if lr.OK && !lr.Replayed && lr.Stream == "craftsman-w1" {
			appends[*lr.Position]++
			written++
		}
		if a := results[alone][line]; lr.OK != a.OK || lr.Code != a.Code || lr.Message != a.Message || lr.Replayed != a.Replayed ||
			(lr.OK && *lr.Revision != *a.Revision) {
			t.Errorf("line %d batched %+v, alone %+v", line, lr, a)
		}
	}
	if len(appends) >= written {
		t.Errorf("w1's %d written lines took %d appends: not batched", written, len(appends))
	}
	for _, w := range []string{"craftsman-w1", "craftsman-w2"} {
		b, a := streamFacts(t, batched, w), streamFacts(t, alone, w)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s batched differs from line by line (-alone +batched):\n%s", w, diff)
		}
		batched.VerifyChain(w)
	}
	if n := batched.Count("craftsman-w1", events.TypeHonourConferred); n != 31 {
		t.Errorf("w1 has %d honours, want 31 (30 and the withdrawn one)", n)
	}

	// The same file again: every written line is a replay answered with
	// where it was recorded (its revision; the position is the event's own,
	// where the first run reported its batch's append); nothing is written.
	before := len(batched.Types("craftsman-w1"))
	_, again, sum := batched.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
	if sum.Summary.OK != sum.Summary.Replayed || sum.Summary.Failed != 4 {
		t.Errorf("re-import %+v", sum.Summary)
	}
	for line, lr := range again {
		if first := results[batched][line]; lr.OK && *lr.Revision != *first.Revision {
			t.Errorf("re-imported line %d at revision %d, first at %d", line, *lr.Revision, *first.Revision)
		}
	}
	if after := len(batched.Types("craftsman-w1")); after != before {
		t.Errorf("re-import wrote %d events", after-before)
	}

	// Single requests see the honours as written: h3 is recorded as the
	// file's first line for it had it, the refused ones are not.
	var r command.Result
	if code, eb := batched.Do("issuer", "POST", "/v1/craftsmen/w1/honours", `{"honourId":"h3","code":"city_craftsman","occurredAt":"2015-06-04"}`, &r); code != 200 || !r.Replayed {
		t.Errorf("h3 again: %d %+v %+v", code, r, eb)
	}
	if code, _ := batched.Do("issuer", "POST", "/v1/craftsmen/w1/honours", `{"honourId":"h3","code":"provincial_craftsman","occurredAt":"2016-01-01"}`, nil); code != 409 {
		t.Errorf("h3 with other data: %d, want 409", code)
	}
	if code, eb := batched.Do("issuer", "POST", "/v1/craftsmen/w1/honours", `{"honourId":"hp","code":"city_craftsman","occurredAt":"2016-01-01"}`, &r); code != 201 ||
		r.Revision != uint64(before) {
		t.Errorf("hp: %d %+v %+v, want revision %d", code, r, eb, before)
	}
}

// TestBackfillInnovationsBatched: innovations are batched the same way.
func TestBackfillInnovationsBatched(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w1", events.Senior)
	var b strings.Builder
	for i := range 12 {
		fmt.Fprintf(&b, `{"craftsmanId":"w1","innovationId":"i%d","kind":"breakthrough","title":"攻关 %d","level":"provincial","occurredAt":"2018-09-%02d"}`+"\n", i, i, i+1)
	}
	b.WriteString(`{"craftsmanId":"w1","innovationId":"i2","kind":"breakthrough","title":"another","level":"provincial","occurredAt":"2018-09-03"}` + "\n")
	b.WriteString(`{"craftsmanId":"w1","innovationId":"i20","kind":"breakthrough","title":"last","level":"provincial","occurredAt":"2018-10-01"}` + "\n")
	code, lines, sum := e.Backfill("issuer", "/v1/backfill/innovations", "application/x-ndjson", b.String())
	if code != 200 || sum.Summary.OK != 13 || lines[13].Code != "CONFLICT" {
		t.Fatalf("back-fill: %d %+v, line 13 %+v", code, sum.Summary, lines[13])
	}
	appends := map[eventstore.Position]bool{}
	for _, lr := range lines {
		if lr.OK {
			appends[*lr.Position] = true
		}
	}
	if len(appends) >= 13 {
		t.Errorf("13 lines took %d appends: not batched", len(appends))
	}
	if n := e.Count("craftsman-w1", events.TypeInnovationRecognised); n != 13 {
		t.Errorf("%d innovations, want 13", n)
	}
	e.VerifyChain("craftsman-w1")
	_, again, sum := e.Backfill("issuer", "/v1/backfill/innovations", "application/x-ndjson", b.String())
	if sum.Summary.OK != 13 || sum.Summary.Replayed != 13 || again[13].Code != "CONFLICT" || *again[14].Revision != *lines[14].Revision {
		t.Errorf("re-import %+v, lines 13-14 %+v %+v", sum.Summary, again[13], again[14])
	}
	if n := e.Count("craftsman-w1", events.TypeInnovationRecognised); n != 13 {
		t.Errorf("after re-import: %d innovations, want 13", n)
	}
}

// fact is a back-filled event as both paths must write it: all of it but
// the file's correlation id (one per run) and the hashes chaining it
// (which cover that id).
type fact struct {
	ID, Type, Data string
	Meta           command.Metadata
}

func streamFacts(t *testing.T, e *env, stream string) []fact {
	t.Helper()
	h, err := command.Load(context.Background(), e.Store, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []fact
	for i, ev := range h.Events {
		m, err := command.DecodeMetadata(ev.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if m.Hash == "" || (i > 0 && m.PrevHash == "") {
			t.Fatalf("%s event %d is not chained", stream, i)
		}
		if m.Source != "import" {
			continue // seeded, with random ids
		}
		m.CorrelationID, m.PrevHash, m.Hash = "", "", ""
		out = append(out, fact{ID: ev.ID, Type: ev.Type, Data: string(ev.Data), Meta: m})
	}
	return out
}

// TestBackfillWithdrawnHonours: a line with a withdrawal withdraws the
// honour the line conferred, also one a placement triggered (its id is
// the placement's, policy.HonourID), and a line whose withdrawal would be
// refused (dated in the future) writes nothing, not even the conferral.
func TestBackfillWithdrawnHonours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("w", events.Technician)
	e.register("p", events.Technician)
	pid := events.PlacementID("c1", "p", trade, events.TrackEmployees)
	e.Seed("craftsman-p", now.AddDate(-1, 0, 0), events.CompetitionPlaced{CraftsmanID: "p", CompetitionID: "c1", CompetitionName: "x",
		PlacementID: pid, Tier: events.TierNationalClass1, Year: 2024, Track: events.TrackEmployees, TeamSize: 1, Trade: events.Trade{Code: trade}, Rank: 1, Award: events.AwardNone})
	file := `{"craftsmanId":"w","code":"national_technical_expert","occurredAt":"2024-12-01","withdrawn":{"reason":"fraud","occurredAt":"2030-01-01"}}` + "\n" +
		`{"craftsmanId":"p","code":"national_technical_expert","placementId":"` + pid + `","occurredAt":"2024-12-01","withdrawn":{"reason":"fraud","occurredAt":"2025-01-01"}}` + "\n"
	code, lines, sum := e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
	if code != 200 || sum.Summary.Lines != 2 {
		t.Fatalf("back-fill: %d %+v", code, sum)
	}
	if lr := lines[1]; lr.OK || lr.Code != "INVALID_ARGUMENT" || !strings.Contains(lr.Message, "future") {
		t.Errorf("withdrawal in the future: %+v, want INVALID_ARGUMENT (in the future)", lr)
	}
	if n := e.Count("craftsman-w", events.TypeHonourConferred); n != 0 {
		t.Errorf("the refused line wrote %d honours: %v", n, e.Types("craftsman-w"))
	}
	if lr := lines[2]; !lr.OK {
		t.Errorf("withdrawn honour of a placement: %+v", lr)
	}
	st := servicetest.Career(t, e.Store, "p")
	if len(st.Honours) != 1 || st.Honours[0].ID != policy.HonourID(pid, "national_technical_expert") || !st.Honours[0].Withdrawn {
		t.Errorf("p's honours %+v, want %s withdrawn", st.Honours, policy.HonourID(pid, "national_technical_expert"))
	}
	// The same file again: the good line is a replay, the refused one still
	// writes nothing.
	_, lines, sum = e.Backfill("issuer", "/v1/backfill/honours", "application/x-ndjson", file)
	if sum.Summary.OK != 1 || sum.Summary.Replayed != 1 || lines[1].OK {
		t.Errorf("re-import %+v, lines %+v", sum.Summary, lines)
	}
	if n, m := e.Count("craftsman-p", events.TypeHonourConferred), e.Count("craftsman-p", events.TypeHonourWithdrawn); n != 1 || m != 1 {
		t.Errorf("p has %d honours and %d withdrawals, want 1 and 1", n, m)
	}
}
