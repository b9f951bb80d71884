package training_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// batchCase is one kind of back-filled line: twelve good lines for one
// craftsman with bad lines of the same craftsman (or of one the caller may
// not write for) mixed in, each with its expected error code.
type batchCase struct {
	kind, craftsman string
	good            func(i int) string
	bad             []badLine
}

type badLine struct{ line, code string }

func batchCases() []batchCase {
	return []batchCase{{
		kind: "enrolments", craftsman: "en1",
		good: func(i int) string {
			return fmt.Sprintf(`{"craftsmanId":"en1","key":"g%d","enrolmentId":"en-%d","academyId":%q,"courseId":"elec-201","occurredAt":"2019-09-%02d"}`, i, i, academy, i+1)
		},
		bad: []badLine{
			{`{"craftsmanId":"en1","key":"b1","enrolmentId":"en-0","academyId":"` + academy + `","courseId":"elec-201"}`, "CONFLICT"}, // en-0: the first line's
			{`{"craftsmanId":"en1","key":"b2","enrolmentId":"en-x","academyId":"` + academy + `","courseId":"cooking"}`, "NOT_FOUND"},
			{`{"craftsmanId":"en1","key":"b3","enrolmentId":"en-y","academyId":"` + academy + `","courseId":"elec-201","mode":"telepathy"}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"en1","key":"b4","enrolmentId":"en-z","academyId":"other-college","courseId":"elec-201"}`, "PERMISSION_DENIED"},
		},
	}, {
		kind: "graduations", craftsman: "gr1",
		good: func(i int) string {
			return fmt.Sprintf(`{"craftsmanId":"gr1","key":"g%d","schoolKind":"technical_school","speciality":"电工","trade":{"code":%q},"occurredAt":"20%02d-07-01"}`, i, elec, i)
		},
		bad: []badLine{
			{`{"craftsmanId":"gr1","key":"b1","schoolKind":"kindergarten","speciality":"电工","trade":{"code":"` + elec + `"}}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"gr1","key":"b2","schoolKind":"technical_school","speciality":"电工","trade":{"code":"` + elec + `"},"occurredAt":"2031-07-01"}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"stranger","key":"b3","schoolKind":"technical_school","speciality":"电工","trade":{"code":"` + elec + `"}}`, "PERMISSION_DENIED"},
			{`{"craftsmanId":"ghost","key":"b4","schoolKind":"technical_school","speciality":"电工","trade":{"code":"` + elec + `"}}`, "NOT_FOUND"},
		},
	}, {
		kind: "titles", craftsman: "ti1",
		good: func(i int) string {
			return fmt.Sprintf(`{"craftsmanId":"ti1","key":"g%d","tier":"junior","title":"助理工程师 %d","trade":{"code":%q},"occurredAt":"2016-10-%02d"}`, i, i, elec, i+1)
		},
		bad: []badLine{
			{`{"craftsmanId":"ti1","key":"b1","tier":"chief","title":"x","trade":{"code":"` + elec + `"}}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"ti1","key":"b2","tier":"junior","title":"x","trade":{"code":"` + elec + `"},"grade":7}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"stranger","key":"b3","tier":"junior","title":"x","trade":{"code":"` + elec + `"}}`, "PERMISSION_DENIED"},
			{`{"craftsmanId":"ti1","key":"b4","tier":"junior","title":"x","trade":{"code":"` + elec + `"},"occurredAt":"2031-10-01"}`, "INVALID_ARGUMENT"},
		},
	}, {
		kind: "assessments", craftsman: "as1",
		good: func(i int) string {
			return fmt.Sprintf(`{"craftsmanId":"as1","key":"g%d","assessmentId":"as-%d","trade":{"code":%q},"level":"intermediate","evaluatingOrgId":%q,"theoryScore":%d,"passed":true,"occurredAt":"2013-06-%02d"}`, i, i, elec, academy, 60+i, i+1)
		},
		bad: []badLine{
			{`{"craftsmanId":"as1","key":"b1","assessmentId":"as-0","trade":{"code":"` + elec + `"},"level":"senior","evaluatingOrgId":"` + academy + `","passed":false}`, "CONFLICT"}, // as-0: the first line's
			{`{"craftsmanId":"as1","key":"b2","assessmentId":"as-x","trade":{"code":"` + elec + `"},"level":"senior","evaluatingOrgId":"` + academy + `"}`, "INVALID_ARGUMENT"},
			{`{"craftsmanId":"as1","key":"b3","assessmentId":"as-y","trade":{"code":"` + elec + `"},"level":"senior","evaluatingOrgId":"other-college","passed":true}`, "PERMISSION_DENIED"},
			{`{"craftsmanId":"as1","key":"b4","assessmentId":"as-z","trade":{"code":"` + elec + `"},"level":"grandmaster","evaluatingOrgId":"` + academy + `","passed":true}`, "INVALID_ARGUMENT"},
		},
	}}
}

// file is the case's JSON Lines: good lines 0-11 with a bad line after
// every third, and the bad lines' expected codes by line number.
func (k batchCase) file() (body string, good []int, bad map[int]string) {
	var b strings.Builder
	bad = map[int]string{}
	line := 0
	for i := 0; i < 12; i++ {
		line++
		good = append(good, line)
		b.WriteString(k.good(i) + "\n")
		if i%3 == 2 {
			line++
			bl := k.bad[i/3]
			bad[line] = bl.code
			b.WriteString(bl.line + "\n")
		}
	}
	return b.String(), good, bad
}

// TestBackfillBatchesEachKind: enrolments, graduations, titles and
// assessments back-filled with consecutive lines of one craftsman appended
// together (several lines share one append's position, where line by line
// each had its own), each line decided as if alone: the bad lines mixed in
// fail with their own error and write nothing, a line refused for a fact
// written earlier in the same batch (a reused enrolment or assessment id)
// too, and the results and events are the ones the same file gives line by
// line (MaxBatch 1), with import metadata, historical dates and an intact
// hash chain. A second run replays every good line and writes nothing.
func TestBackfillBatchesEachKind(t *testing.T) {
	batched := newEnv(t)
	alone := newEnvBackfill(t, command.Backfill{Workers: 8, MaxBatch: 1})
	cases := batchCases()
	for _, e := range []*env{batched, alone} {
		for _, k := range cases {
			e.craftsman(t, k.craftsman)
		}
		e.appendAs(t, "other-college", events.CraftsmanStream("stranger"), events.CraftsmanRegistered{CraftsmanID: "stranger",
			NationalIDHash: strings.Repeat("cd", 32), Personal: &events.Personal{Name: "钱进"}})
	}
	for _, k := range cases {
		t.Run(k.kind, func(t *testing.T) {
			path, stream := "/v1/backfill/"+k.kind, events.CraftsmanStream(k.craftsman)
			body, good, bad := k.file()
			lines, sum := batched.backfill(t, path, "application/x-ndjson", body)
			if sum.Lines != len(good)+len(bad) || sum.OK != len(good) || sum.Failed != len(bad) {
				t.Fatalf("summary %+v lines %+v", sum, lines)
			}
			for line, code := range bad {
				if lines[line].OK || lines[line].Code != code {
					t.Errorf("line %d: %+v, want %s", line, lines[line], code)
				}
			}
			if n := batched.count(t, stream); n != 1+len(good) {
				t.Fatalf("%d events, want %d", n, 1+len(good))
			}
			// Batched: good lines share appends (line by line, each line's
			// append has a position of its own).
			positions := map[string]bool{}
			for _, l := range good {
				if lines[l].Position == nil {
					t.Fatalf("line %d: no position: %+v", l, lines[l])
				}
				positions[fmt.Sprint(*lines[l].Position)] = true
			}
			if len(positions) >= len(good) {
				t.Errorf("%d good lines in %d appends: not batched", len(good), len(positions))
			}

			// The same file line by line: the same answers and events.
			aloneLines, aloneSum := alone.backfill(t, path, "application/x-ndjson", body)
			if aloneSum.OK != sum.OK || aloneSum.Failed != sum.Failed {
				t.Fatalf("line by line %+v, batched %+v", aloneSum, sum)
			}
			if d := cmp.Diff(commandtest.Unplaced(aloneLines), commandtest.Unplaced(lines)); d != "" {
				t.Errorf("line results (-line by line +batched):\n%s", d)
			}
			got, want := batched.history(t, stream), alone.history(t, stream)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("events (-line by line +batched):\n%s", d)
			}

			h, _ := command.Load(context.Background(), batched.store, stream)
			raw := make([]events.Raw, len(h.Events))
			for i, ev := range h.Events {
				raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
			}
			if brk := chain.Verify(raw, chain.Options{}); brk != nil {
				t.Fatalf("hash chain: %v", brk)
			}
			for _, ev := range h.Events[1:] {
				m, _ := command.DecodeMetadata(ev.Metadata)
				if m.Source != "import" || m.OccurredAt.IsZero() || m.OccurredAt.Year() >= now.Year() || !strings.HasPrefix(m.CorrelationID, "backfill-") {
					t.Fatalf("metadata %+v", m)
				}
			}

			// Again: every good line is a replay of its event, nothing is
			// written. (Its position is then its event's own; a batched
			// line's first answer carries its append's, the last event's.)
			again, sum2 := batched.backfill(t, path, "application/x-ndjson", body)
			if sum2.OK != len(good) || sum2.Replayed != len(good) || sum2.Failed != len(bad) {
				t.Fatalf("second run %+v", sum2)
			}
			for _, l := range good {
				if a, b := again[l], lines[l]; !a.Replayed || *a.Revision != *b.Revision || a.Position.Commit > b.Position.Commit {
					t.Errorf("line %d: second run %+v, first %+v", l, a, b)
				}
			}
			if n := batched.count(t, stream); n != 1+len(good) {
				t.Fatalf("%d events after the second run, want %d", n, 1+len(good))
			}
		})
	}
}

// recorded is what a back-filled event is, whatever file run wrote it: its
// id, type, data and metadata without the run's correlation id and the hash
// chain (which covers the correlation id).
type recorded struct {
	ID, Type, Data string
	Meta           command.Metadata
}

// history is the craftsman stream's events after its registration.
func (e *env) history(t testing.TB, stream string) []recorded {
	t.Helper()
	h, err := command.Load(context.Background(), e.store, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []recorded
	for _, ev := range h.Events[1:] {
		m, err := command.DecodeMetadata(ev.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		m.CorrelationID, m.PrevHash, m.Hash = "", "", ""
		out = append(out, recorded{ID: ev.ID, Type: ev.Type, Data: string(ev.Data), Meta: m})
	}
	return out
}

// flaky fails appends to craftsman streams while fail is set (the store
// unavailable for a moment), as competition's TestFailedBatchLeavesNoFold
// does for competition streams, and counts the appends it failed.
type flaky struct {
	eventstore.Store
	fail   atomic.Bool
	failed atomic.Int64
}

func (f *flaky) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if f.fail.Load() && strings.HasPrefix(stream, "craftsman-") {
		f.failed.Add(1)
		return eventstore.AppendResult{}, errs.E(errs.Unavailable, "store down")
	}
	return f.Store.Append(ctx, stream, exp, evs...)
}

// TestFailedBatchLeavesNoFold: a back-filled batch whose append fails
// must not leave a fold of its unwritten events in the service's fold
// cache. Two replicas share the store. On replica A, two enrolment lines
// of one craftsman are decided as one batch — the second on the first's
// unwritten event — and the append fails. The operator corrects the first
// line's course and sends it again; replica B writes it: the same key, so
// the same event id at the same revision, with the other course. A
// completion of that enrolment on the course now stored must then be
// accepted by A. A fold cached from the failed batch matches the stream
// there (its length and last id) and answers with the course never
// written: 400, "enrolment en-1 is for course elec-201".
func TestFailedBatchLeavesNoFold(t *testing.T) {
	b := newEnv(t)
	b.append(t, events.AcademyStream(academy), events.CourseAdded{AcademyID: academy, CourseID: "elec-301", Title: "电工高级",
		Trade: events.Trade{Code: elec, Name: "电工"}, Hours: 120, Mode: events.ModeClassroom})
	b.craftsman(t, "fb1")
	st := &flaky{Store: b.store}
	a := &env{store: b.store, url: serve(t, st, command.Backfill{Workers: 8}), seed: b.seed}
	enrol := func(key, id, course string) string {
		return fmt.Sprintf(`{"craftsmanId":"fb1","key":%q,"enrolmentId":%q,"academyId":%q,"courseId":%q,"occurredAt":"2019-09-01"}`, key, id, academy, course)
	}

	// The two lines go as one batch when the worker finds both queued,
	// nearly always; the file is sent again (with the store still down)
	// until they did: one failed append for both.
	st.fail.Store(true)
	for attempt := 1; ; attempt++ {
		before := st.failed.Load()
		lines, _ := a.backfill(t, "/v1/backfill/enrolments", "application/x-ndjson", enrol("k1", "en-1", "elec-201")+"\n"+enrol("k2", "en-2", "elec-201")+"\n")
		for _, l := range []int{1, 2} {
			if lines[l].OK || lines[l].Code != "UNAVAILABLE" {
				t.Fatalf("line %d with the store down: %+v, want UNAVAILABLE", l, lines[l])
			}
		}
		if st.failed.Load()-before == 1 {
			break
		}
		if attempt == 20 {
			t.Fatal("the two lines never went as one batch")
		}
	}
	st.fail.Store(false)
	if n := b.count(t, "craftsman-fb1"); n != 1 {
		t.Fatalf("the failed batch left %d events, want the registration alone", n)
	}

	lines, _ := b.backfill(t, "/v1/backfill/enrolments", "application/x-ndjson", enrol("k1", "en-1", "elec-301")+"\n")
	if !lines[1].OK || lines[1].Replayed {
		t.Fatalf("the corrected line on replica B: %+v, want it written", lines[1])
	}

	r := a.do(t, "/v1/craftsmen/fb1/completions", issuer(t, academy), map[string]any{"enrolmentId": "en-1", "academyId": academy,
		"courseId": "elec-301", "hours": 120, "passed": true, "occurredAt": "2020-01-10"})
	if r.Status != 201 {
		t.Fatalf("completion of en-1 (stored for elec-301) on replica A: %d %s, want 201", r.Status, r.Body)
	}
}
