package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

type written struct {
	Stream, ID, Type string
	Revision         uint64
	Data, Metadata   []byte
}

func TestReplayEqualsWhatWasWritten(t *testing.T) {
	st, _ := audittest.Store(t)
	ids := audittest.Population(t, st, 5)
	// What was written, stream by stream, from the sealed inputs.
	var want []written
	comp := events.CompetitionStream("city-sh-2019")
	for i, s := range audittest.Seal(t, comp, audittest.Competition()) {
		want = append(want, written{comp, s.ID, s.Type, uint64(i), s.Data, s.Metadata})
	}
	for _, id := range ids {
		stream := events.CraftsmanStream(id)
		for i, s := range audittest.Seal(t, stream, audittest.Career(id)) {
			want = append(want, written{stream, s.ID, s.Type, uint64(i), s.Data, s.Metadata})
		}
	}
	replay := func(opts audit.ReplayOptions) []written {
		t.Helper()
		var buf bytes.Buffer
		w := audit.NewJSONLWriter(&buf)
		var progressed bool
		opts.Progress = func(p audit.Progress) { progressed = progressed || p.Done }
		if _, err := audit.Replay(ctx(t), st, opts, func(e *eventstore.RecordedEvent) error { return w.Write(e) }); err != nil {
			t.Fatalf("replay %s: %v", opts.Scope, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !progressed {
			t.Errorf("replay %s: no final progress report", opts.Scope)
		}
		var got []written
		if err := audit.ReadLines(&buf, func(e eventstore.RecordedEvent) error {
			got = append(got, written{e.Stream, e.ID, e.Type, e.Revision, e.Data, e.Metadata})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if diff := cmp.Diff(want, replay(audit.ReplayOptions{})); diff != "" {
		t.Errorf("replay all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], replay(audit.ReplayOptions{Scope: audit.Scope{Category: "craftsman"}})); diff != "" {
		t.Errorf("replay category (-want +got):\n%s", diff)
	}
	from, to := uint64(2), uint64(4)
	n := len(audittest.Career(ids[1]))
	if diff := cmp.Diff(want[1+n+2:1+n+5], replay(audit.ReplayOptions{Scope: audit.Scope{Stream: events.CraftsmanStream(ids[1])},
		Range: audit.Range{FromRevision: &from, ToRevision: &to}})); diff != "" {
		t.Errorf("replay stream revisions 2..4 (-want +got):\n%s", diff)
	}
	if got := replay(audit.ReplayOptions{Range: audit.Range{RecordedBy: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}}); len(got) != 0 {
		t.Errorf("replay recorded by 2000: %d events, want none", len(got))
	}

	// Positions bound the category and all scopes (inclusive).
	var all []eventstore.RecordedEvent
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{}, func(e *eventstore.RecordedEvent) error { all = append(all, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	fp, tp := all[3].Position, all[7].Position
	got := replay(audit.ReplayOptions{Range: audit.Range{FromPosition: &fp, ToPosition: &tp}})
	if diff := cmp.Diff(want[3:8], got); diff != "" {
		t.Errorf("replay positions (-want +got):\n%s", diff)
	}
}

func TestReplayLinesKeepNonJSONBytes(t *testing.T) {
	e := &eventstore.RecordedEvent{Stream: "x-1", ID: "id", Type: "Odd.v1", Data: []byte("{\n \"a\": 1\n}"), Metadata: []byte{0xff, 0x00, '"'}, Created: time.Unix(5, 0)}
	line := audit.AppendLine(nil, e)
	if bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("line has embedded newlines: %q", line)
	}
	var got eventstore.RecordedEvent
	if err := audit.ReadLines(bytes.NewReader(line), func(r eventstore.RecordedEvent) error { got = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, e.Data) || !bytes.Equal(got.Metadata, e.Metadata) {
		t.Errorf("round trip: data %q metadata %q", got.Data, got.Metadata)
	}
}

func TestReplayTable(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	var buf bytes.Buffer
	w := audit.NewTableWriter(&buf)
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{Scope: audit.Scope{Stream: "craftsman-c-0001"}}, func(e *eventstore.RecordedEvent) error { return w.Write(e) }); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	out := buf.String()
	for _, s := range []string{"STREAM@REV", "craftsman-c-0001@0", "CraftsmanRegistered.v1", "2011-06-01", audittest.Evaluator} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

func TestVerifyPassesOnHonestData(t *testing.T) {
	st, _ := audittest.Store(t)
	ids := audittest.Population(t, st, 20)
	for _, scope := range []audit.Scope{{}, {Category: "craftsman"}, {Stream: events.CraftsmanStream(ids[3])}} {
		var last audit.Progress
		rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: scope, Progress: func(p audit.Progress) { last = p }})
		if err != nil {
			t.Fatalf("verify %s: %v", scope, err)
		}
		if !rep.OK || rep.Err() != nil {
			t.Errorf("verify %s: findings %v", scope, rep.Findings)
		}
		if !last.Done || last.Events != rep.Events {
			t.Errorf("verify %s: last progress %+v, report %d events", scope, last, rep.Events)
		}
	}
	rep, _ := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if want := int64(1 + 20*len(audittest.Career("x"))); rep.Events != want || rep.Streams != 21 {
		t.Errorf("verify all: %d events in %d streams, want %d in 21", rep.Events, rep.Streams, want)
	}
}

// Damage is written straight into the store through the client, bypassing
// the services: a changed byte, a dropped event, a reordered pair, a
// forged issuer (correctly sealed, so only the issuer rule can catch it),
// an unsealed event, and a stream whose first revisions are hidden.
func TestVerifyCatchesDamageWrittenIntoTheStore(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 2)
	type want struct {
		kind string
		rev  uint64
		in   string
		// issuer: the damage also breaks the issuer rule at rev (a
		// second finding, of kind issuer, whose reason contains it).
		issuer string
	}
	cases := []struct {
		name   string
		damage func(stream string, honest []audittest.Sealed) []audittest.Sealed
		want   want
	}{
		{"changed data byte", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			h[4].Data = audittest.Tamper(h[4].Data, 20)
			return h
		}, want{audit.KindChain, 4, "does not match the content", ""}},
		{"changed metadata byte", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			h[2].Metadata = bytes.Replace(h[2].Metadata, []byte("2011-06-01"), []byte("2011-06-02"), 1)
			return h
		}, want{audit.KindChain, 2, "does not match the content", ""}},
		{"changed type", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			h[6].Type = events.TypeSkillLevelCertifiedV1
			return h
		}, want{audit.KindChain, 6, "does not match the content",
			// read as v1, the certificate names no issuingOrgId
			"allowed is the issuing organisation (issuingOrg.id) or the evaluating organisation (evaluatingOrgId) = (none)"}},
		{"dropped event", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			return append(h[:3:3], h[4:]...)
		}, want{audit.KindChain, 3, "prevHash", ""}},
		{"dropped first event", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			return h[1:]
		}, want{audit.KindChain, 0, "prevHash", ""}},
		{"reordered events", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			h[5], h[6] = h[6], h[5]
			return h
		}, want{audit.KindChain, 5, "prevHash", ""}},
		{"unsealed event", func(_ string, h []audittest.Sealed) []audittest.Sealed {
			h[7].Metadata = []byte(`{"schemaVersion":1,"occurredAt":"2019-10-01T09:00:00Z","issuerOrgId":"org-sh-union","actingUserId":"u"}`)
			return h
		}, want{audit.KindChain, 7, "not sealed", ""}},
	}
	for i, c := range cases {
		id := "dmg-" + string(rune('a'+i))
		stream := events.CraftsmanStream(id)
		audittest.Append(t, st, stream, c.damage(stream, audittest.Seal(t, stream, audittest.Career(id))))
	}
	// A forged issuer: a training completion recorded by an organisation
	// that is not the academy, and an employment by someone else than the
	// employer — sealed correctly, so the chain holds.
	forged := audittest.Career("forged")
	forged[3].Issuer = "acad-rogue"
	forged[1].Issuer = audittest.Academy
	audittest.Append(t, st, "craftsman-forged", audittest.Seal(t, "craftsman-forged", forged))
	// A placement in a competition by someone other than its organiser.
	placed := audittest.Career("placed")
	placed[7].Issuer = audittest.Academy
	audittest.Append(t, st, "craftsman-placed", audittest.Seal(t, "craftsman-placed", placed))

	for _, scope := range []audit.Scope{{}, {Category: "craftsman"}} {
		rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.Err() == nil {
			t.Fatalf("verify %s passed damaged data", scope)
		}
		byStream := map[string][]audit.Finding{}
		for _, f := range rep.Findings {
			byStream[f.Stream] = append(byStream[f.Stream], f)
		}
		for i, c := range cases {
			fs := byStream[events.CraftsmanStream("dmg-"+string(rune('a'+i)))]
			if c.want.issuer != "" {
				if j := slices.IndexFunc(fs, func(f audit.Finding) bool { return f.Kind == audit.KindIssuer }); j < 0 || fs[j].Revision != c.want.rev || !strings.Contains(fs[j].Reason, c.want.issuer) {
					t.Errorf("%s / %s: no issuer finding at revision %d containing %q: %v", scope, c.name, c.want.rev, c.want.issuer, fs)
				} else {
					fs = slices.Delete(fs, j, j+1)
				}
			}
			if len(fs) != 1 {
				t.Errorf("%s / %s: %d findings, want the first break only: %v", scope, c.name, len(fs), fs)
				continue
			}
			if f := fs[0]; f.Kind != c.want.kind || f.Revision != c.want.rev || !strings.Contains(f.Reason, c.want.in) {
				t.Errorf("%s / %s: got %s, want %s at revision %d containing %q", scope, c.name, f, c.want.kind, c.want.rev, c.want.in)
			}
		}
		fs := byStream["craftsman-forged"]
		if len(fs) != 2 || fs[0].Kind != audit.KindIssuer || fs[0].Revision != 1 || fs[1].Revision != 3 || fs[1].Issuer != "acad-rogue" {
			t.Errorf("%s / forged issuer: %v", scope, fs)
		}
		fs = byStream["craftsman-placed"]
		if len(fs) != 1 || fs[0].Kind != audit.KindIssuer || fs[0].Revision != 7 || !strings.Contains(fs[0].Reason, audittest.Union) {
			t.Errorf("%s / forged placement: %v", scope, fs)
		}
		if n := len(byStream["craftsman-c-0001"]) + len(byStream["craftsman-c-0002"]); n != 0 {
			t.Errorf("%s: honest streams have findings", scope)
		}
		if rep.Broken != len(cases) {
			t.Errorf("%s: %d broken streams, want %d", scope, rep.Broken, len(cases))
		}
	}
	// Read in parallel chunks, verify finds exactly the same. With one
	// event per chunk every break sits exactly at a chunk boundary, its
	// predecessor in the chunk before.
	at := map[string]eventstore.Position{}
	for _, e := range replayAll(t, st, audit.ReplayOptions{}, nil) {
		at[e.Stream+"@"+strconv.FormatUint(e.Revision, 10)] = e.Position
	}
	for _, p := range plans {
		for _, scope := range []audit.Scope{{}, {Category: "craftsman"}} {
			seq, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: scope, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			var ck chunks
			par, err := audit.VerifyPlanned(ctx(t), st, audit.VerifyOptions{Scope: scope}, ck.plan(p))
			if err != nil {
				t.Fatalf("plan %+v: %v", p, err)
			}
			seq.Elapsed, seq.Rate, par.Elapsed, par.Rate = 0, 0, 0, 0
			if diff := cmp.Diff(seq, par); diff != "" {
				t.Errorf("plan %+v, %s (-sequential +parallel):\n%s", p, scope, diff)
			}
			if len(ck.lo) < 3 {
				t.Errorf("plan %+v: %d chunk(s); the test needs the log split", p, len(ck.lo))
			}
			if p.ChunkEvents != 1 {
				continue
			}
			for _, f := range par.Findings {
				pos, ok := at[f.Stream+"@"+strconv.FormatUint(f.Revision, 10)]
				if !ok || !ck.starts(pos) {
					t.Errorf("plan %+v: finding %s is not at a chunk boundary (%v)", p, f, ok)
				}
				if prev, ok := at[f.Stream+"@"+strconv.FormatUint(f.Revision-1, 10)]; f.Revision > 0 && ok && ck.in(prev) == ck.in(pos) {
					t.Errorf("plan %+v: finding %s shares its chunk with its predecessor", p, f)
				}
			}
		}
	}
	// One stream: the forged one alone, the competition read on demand.
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: audit.Scope{Stream: "craftsman-placed"}})
	if err != nil || len(rep.Findings) != 1 {
		t.Errorf("verify one stream: %v %v", rep, err)
	}
	// A bounded report lists the first findings and counts the rest.
	all, _ := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	rep, err = audit.Verify(ctx(t), st, audit.VerifyOptions{MaxFindings: 3})
	if err != nil || len(rep.Findings) != 3 || rep.Omitted != len(all.Findings)-3 || rep.OK {
		t.Errorf("bounded: %d findings, %d omitted, of %d", len(rep.Findings), rep.Omitted, len(all.Findings))
	}
	// Skipping the issuer rule leaves chain breaks only.
	rep, err = audit.Verify(ctx(t), st, audit.VerifyOptions{SkipIssuers: true})
	if err != nil || len(rep.Findings) != len(cases) {
		t.Errorf("verify without issuers: %v findings, %v", rep.Findings, err)
	}
}

func TestVerifyFlagsAGapInRevisions(t *testing.T) {
	// A stream truncated before revision 3 ($tb) reads from revision 3:
	// the verifier sees revisions 3.. without 0..2.
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0) // the competition its placement cites
	stream := events.CraftsmanStream("trunc")
	audittest.Append(t, st, stream, audittest.Seal(t, stream, audittest.Career("trunc")))
	if _, err := st.Append(ctx(t), "$$"+stream, eventstore.Any(), eventstore.EventData{Type: "$metadata", Data: []byte(`{"$tb":3}`)}); err != nil {
		t.Fatalf("set $tb on %s: %v", stream, err)
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: audit.Scope{Stream: stream}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != audit.KindGap || rep.Findings[0].Revision != 3 {
		t.Errorf("findings %v, want one gap at revision 3", rep.Findings)
	}
}

func TestStateAsOfEqualsTheDomainFold(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	id := "c-0001"
	set, err := audit.LoadPolicies(ctx(t), st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// The reference: the sealed inputs decoded in memory, folded directly.
	reg := events.NewRegistry()
	var recs []events.Recorded
	for i, s := range audittest.Seal(t, "craftsman-"+id, audittest.Career(id)) {
		r, err := reg.DecodeRecorded(events.Raw{Stream: "craftsman-" + id, Revision: uint64(i), ID: s.ID, Type: s.Type, Data: s.Data, Metadata: s.Metadata, Created: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for _, c := range []struct {
		at    time.Time
		level events.Level
	}{
		{time.Date(2010, 12, 31, 0, 0, 0, 0, time.UTC), events.Apprentice},
		{time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), events.Intermediate},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), events.Senior},
	} {
		got, err := audit.State(ctx(t), st, audit.StateOptions{CraftsmanID: id, AsOf: c.at, Mode: career.AsOccurred, Set: set})
		if err != nil {
			t.Fatal(err)
		}
		ref := career.Fold(recs, c.at, career.AsOccurred)
		opt := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".RecordedAt" || p.Last().String() == ".Recorded" }, cmp.Ignore())
		if diff := cmp.Diff(ref, got.State, opt); diff != "" {
			t.Errorf("state at %s (-fold +audit):\n%s", c.at.Format(time.DateOnly), diff)
		}
		if l := got.State.Level(audittest.Trade().Code); l != c.level {
			t.Errorf("level at %s: %s, want %s", c.at.Format(time.DateOnly), l, c.level)
		}
		wantPw := policy.Pathways(ref, set, audit.DefaultPolicies(), c.at)
		if diff := cmp.Diff(audit.ViewOf(&audit.Career{Pathways: wantPw}), audit.ViewOf(got)); diff != "" {
			t.Errorf("pathways at %s (-fold +audit):\n%s", c.at.Format(time.DateOnly), diff)
		}
	}
	// As recorded: nothing had been recorded in 2015 (the store recorded it all now).
	got, err := audit.State(ctx(t), st, audit.StateOptions{CraftsmanID: id, AsOf: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), Set: set})
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Registered || len(got.State.Trades) != 0 {
		t.Errorf("as recorded in 2015: %+v", got.State)
	}
	if _, err := audit.State(ctx(t), st, audit.StateOptions{CraftsmanID: "nobody", Set: set}); err == nil {
		t.Error("state of a missing craftsman: no error")
	}
}

func TestExportCraftsmanAndAcademy(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 3)
	var buf bytes.Buffer
	w, err := audit.NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n, err := audit.Export(ctx(t), st, audit.ExportOptions{CraftsmanID: "c-0002"}, w)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := len(audittest.Career("x")); n != int64(want) || len(rows) != want+1 {
		t.Fatalf("export craftsman: %d events, %d rows, want %d", n, len(rows), want)
	}
	if diff := cmp.Diff(audit.CSVHeader(), rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if rows[3][7] != audittest.Evaluator || rows[3][4] != events.TypeSkillLevelCertified || !json.Valid([]byte(rows[3][14])) || !strings.HasPrefix(rows[3][13], "sha256:") {
		t.Errorf("row 3: %v", rows[3])
	}
	// An academy's history: the training it recorded, for every craftsman,
	// and the registrations it issued.
	buf.Reset()
	jw := audit.NewJSONLWriter(&buf)
	n, err = audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: audittest.Academy}, jw)
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 { // 3 craftsmen × (registration + 2 trainings)
		t.Errorf("export academy: %d events, want 9", n)
	}
	// An event naming the academy as encoding/json reads names (another
	// case, an escape), though issued by someone else, is in its history.
	for i, data := range []string{`{"AcademyID":"acad-other"}`, `{"academ\u0079Id":"acad-other"}`, `{"academyId" : "acad-other"}`} {
		stream := "misc-" + strconv.Itoa(i)
		if _, err := st.Append(ctx(t), stream, eventstore.NoStream(), eventstore.EventData{Type: "Note.v1", Data: []byte(data), Metadata: []byte(`{"issuerOrgId":"someone"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	buf.Reset()
	if n, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: "acad-other"}, audit.NewJSONLWriter(&buf)); err != nil || n != 3 {
		t.Errorf("export of an academy named in other spellings: %d events, %v; want 3", n, err)
	}
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: "nobody"}, audit.NewJSONLWriter(&buf)); !errors.Is(err, errs.NotFound) || strings.Count(err.Error(), "nobody") != 1 {
		t.Errorf("export of an unknown academy: %v; want NotFound naming it once", err)
	}
}

// TestUnknownPolicyIsInvalidArgument: State and Diff refuse a policy name
// the ledger has no version of (errs.InvalidArgument), before asking the
// API; before, the rebuild answered every pathway with no next level and
// a diff compared two such answers as equal.
func TestUnknownPolicyIsInvalidArgument(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	for _, names := range [][]string{{"nosuchpolicy"}, {"template-a", "Template-B"}} {
		opts := audit.StateOptions{CraftsmanID: "c-0001", Policies: names}
		if _, err := audit.State(ctx(t), st, opts); !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "unknown policy") {
			t.Errorf("state under %v: %v, want InvalidArgument naming the unknown policy", names, err)
		}
		if _, err := audit.Diff(ctx(t), st, audit.GraphQL{Endpoint: "http://127.0.0.1:1/graphql"}, opts); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("diff under %v: %v, want InvalidArgument", names, err)
		}
	}
	if c, err := audit.State(ctx(t), st, audit.StateOptions{CraftsmanID: "c-0001", Policies: []string{"template-b", "upper-grades"}}); err != nil || len(c.Pathways) == 0 {
		t.Errorf("state under known policies: %v", err)
	}
}

// TestExportAcademyIncludesCorrectionsByOthers: an academy's export holds
// the corrections of its events whoever recorded them — an
// administrator's retraction of its training, and a correction of that
// correction — but not a correction of another organisation's event on
// the same stream. Before, only corrections naming or issued by the
// academy were exported, so the export showed a retracted training as
// standing.
func TestExportAcademyIncludesCorrectionsByOthers(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "c-corr"
	s := events.CraftsmanStream(id)
	evs := audittest.Career(id)
	orig := audittest.Seal(t, s, evs)
	evs = append(evs,
		audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: orig[3].ID, Reason: "entered twice"}, Issuer: audit.PlatformOrg, Occurred: audittest.Day(2012, 5, 1)},
		audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: audittest.UUID(s, 9), Reason: "retracted in error"}, Issuer: audit.PlatformOrg, Occurred: audittest.Day(2012, 5, 1)},
		audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: orig[6].ID, Reason: "withdrawn"}, Issuer: audittest.Evaluator, Occurred: audittest.Day(2018, 6, 1)})
	audittest.Append(t, st, s, audittest.Seal(t, s, evs))
	var buf bytes.Buffer
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: audittest.Academy}, audit.NewJSONLWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	if err := audit.ReadLines(&buf, func(e eventstore.RecordedEvent) error { got = append(got, e.Revision); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 3, 5, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("academy export holds revisions %v, want %v (its events and the two corrections of its training)", got, want)
	}
}

// TestEmptyScopesAndProgress: replay of a category with no events at all
// is NotFound, as verify's (it was an empty success), while a category
// with nothing in the range is an empty replay; a craftsman's export with
// nothing recorded by then is NotFound like an academy's (it was an empty
// success); an export's progress ends on the events it read, as it
// counted while running (it ended on the exported count).
func TestEmptyScopesAndProgress(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 2)
	long := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	none := func(*eventstore.RecordedEvent) error { return nil }
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{Scope: audit.Scope{Category: "craftsmen"}}, none); !errors.Is(err, errs.NotFound) {
		t.Errorf("replay of a category with no events: %v, want NotFound", err)
	}
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{Scope: audit.Scope{Category: "craftsmen"}, Range: audit.Range{RecordedBy: long}}, none); !errors.Is(err, errs.NotFound) {
		t.Errorf("replay of a category with no events, by a date: %v, want NotFound", err)
	}
	if n, err := audit.Replay(ctx(t), st, audit.ReplayOptions{Scope: audit.Scope{Category: "craftsman"}, Range: audit.Range{RecordedBy: long}}, none); err != nil || n != 0 {
		t.Errorf("replay of a category with nothing recorded by then: %d, %v; want 0, no error", n, err)
	}
	var buf bytes.Buffer
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{CraftsmanID: "c-0001", RecordedBy: long}, audit.NewJSONLWriter(&buf)); !errors.Is(err, errs.NotFound) || buf.Len() != 0 {
		t.Errorf("export of a craftsman with nothing recorded by then: %v, %d bytes; want NotFound, nothing", err, buf.Len())
	}
	var last audit.Progress
	n, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: audittest.Academy, Progress: func(p audit.Progress) { last = p }}, audit.NewJSONLWriter(&buf))
	if want := int64(1 + 2*len(audittest.Career("x"))); err != nil || n != 6 || !last.Done || last.Events != want {
		t.Errorf("academy export: %d exported, %v; progress ends on %+v, want %d events read", n, err, last, want)
	}
}

// TestFailedExportWritesNoHeader: the CSV header and the table's are
// written with the first row, or on Close for a successful empty result;
// an export that fails before its first event writes nothing (before, the
// header was written when the writer was made, and a failed export left a
// header-only file).
func TestFailedExportWritesNoHeader(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	var buf bytes.Buffer
	w, _ := audit.NewCSVWriter(&buf)
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: "nobody"}, w); !errors.Is(err, errs.NotFound) || buf.Len() != 0 {
		t.Errorf("failed CSV export: %v, wrote %q; want NotFound and nothing written", err, buf.String())
	}
	buf.Reset()
	w, _ = audit.NewCSVWriter(&buf)
	if err := w.Close(); err != nil || buf.String() != strings.Join(audit.CSVHeader(), ",")+"\n" {
		t.Errorf("empty CSV: %v %q; want the header alone", err, buf.String())
	}
	buf.Reset()
	tw := audit.NewTableWriter(&buf)
	if buf.Len() != 0 {
		t.Errorf("a table writer wrote %q before any row", buf.String())
	}
	if err := tw.Close(); err != nil || !strings.HasPrefix(buf.String(), "POSITION") {
		t.Errorf("empty table: %v %q; want the header alone", err, buf.String())
	}
}

// A replay file verifies offline like the store it came from, and a byte
// changed in the file is a break.
func TestVerifyFeedFromAReplayFile(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 3)
	forged := audittest.Career("forged")
	forged[3].Issuer = "acad-rogue"
	audittest.Append(t, st, "craftsman-forged", audittest.Seal(t, "craftsman-forged", forged))
	var buf bytes.Buffer
	w := audit.NewJSONLWriter(&buf)
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{}, w.Write); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	want, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range []eventstore.Store{st, nil} {
		got, err := audit.VerifyFeed(ctx(t), store, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(buf.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Findings, got.Findings); diff != "" || got.Events != want.Events || got.Streams != want.Streams {
			t.Errorf("file vs store (-store +file):\n%s", diff)
		}
	}
	// Change one byte of one event's data in the file.
	lines := bytes.Split(buf.Bytes(), []byte("\n"))
	lines[5] = bytes.Replace(lines[5], []byte(`"craftsmanId":"c-0001"`), []byte(`"craftsmanId":"c-0009"`), 1)
	got, err := audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{Scope: audit.Scope{Category: "craftsman"}}, audit.LinesFeed(bytes.NewReader(bytes.Join(lines, []byte("\n")))))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 2 || got.Findings[0].Kind != audit.KindChain || got.Findings[0].Stream != "craftsman-c-0001" || got.Findings[0].Revision != 4 {
		t.Errorf("tampered file: %v", got.Findings)
	}
}

// The issuer rule's look-ups: a mentorship session recorded by an
// organisation that is neither the pairing's academy nor its employer,
// and an honour withdrawn by someone other than who conferred it.
func TestVerifyIssuerLookups(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 0) // the competition the career placed in
	var started events.MentorshipStarted
	var session events.MentorshipSessionLogged
	if err := json.Unmarshal([]byte(`{"mentorshipId":"m-501","masterId":"c-1001","apprenticeId":"c-2002","kind":"master_apprentice",
		"trade":{"code":"6-31-01-03","name":"电工"},"employerOrgId":"org-shanghai-grid","plannedMonths":24}`), &started); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"mentorshipId":"m-501","masterId":"c-1001","apprenticeId":"c-2002","hours":3.5,"topic":"relays"}`), &session); err != nil {
		t.Fatal(err)
	}
	m := events.MentorshipStream("m-501")
	audittest.Append(t, st, m, audittest.Seal(t, m, []audittest.Event{
		{Payload: started, Issuer: audittest.Employer, Occurred: audittest.Day(2020, 1, 1)},
		{Payload: session, Issuer: audittest.Employer, Occurred: audittest.Day(2020, 2, 1)},
		{Payload: session, Issuer: "org-rogue", Occurred: audittest.Day(2020, 3, 1)},
	}))
	c := events.CraftsmanStream("hw")
	evs := append(audittest.Career("hw"),
		audittest.Event{Payload: events.HonourWithdrawn{CraftsmanID: "hw", HonourID: "h-hw", Reason: "error"}, Issuer: audittest.Academy, Occurred: audittest.Day(2021, 1, 1)},
		audittest.Event{Payload: events.HonourWithdrawn{CraftsmanID: "hw", HonourID: "h-hw", Reason: "error"}, Issuer: audittest.Union, Occurred: audittest.Day(2021, 1, 2)})
	audittest.Append(t, st, c, audittest.Seal(t, c, evs))
	for _, scope := range []audit.Scope{{}, {Stream: m}, {Stream: c}} {
		rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			got = append(got, f.Kind+" "+f.Stream+"@"+strconv.FormatUint(f.Revision, 10)+" "+f.Issuer)
		}
		var want []string
		if scope.Stream != c {
			want = append(want, "issuer mentorship-m-501@2 org-rogue")
		}
		if scope.Stream != m {
			want = append([]string{"issuer craftsman-hw@9 " + audittest.Academy}, want...)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", scope, diff)
		}
	}
}

// Metadata whose members repeat a name (exactly, in another case, or
// escaped — encoding/json matches names case-insensitively and takes the
// last) is ambiguous: a scanner and the domain's decoder could read two
// different issuers from it. Written correctly sealed straight into the
// store, each such event is a finding, whichever issuer comes first; so is
// a payload repeating a field the issuer rule reads.
func TestVerifyFlagsDuplicateMembers(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 1)
	type damage struct {
		name, stream string
		rev          int // the training completion, recorded by the academy
		meta         func(body string) string
		data         func(data string) string
	}
	allowed, rogue := `"issuerOrgId":"`+audittest.Academy+`"`, `"issuerOrgId":"acad-rogue"`
	cases := []damage{
		{name: "allowed issuer first", meta: func(b string) string { return strings.Replace(b, allowed, allowed+","+rogue, 1) }},
		{name: "rogue issuer first", meta: func(b string) string { return strings.Replace(b, allowed, rogue+","+allowed, 1) }},
		{name: "issuer in another case", meta: func(b string) string {
			return strings.Replace(b, allowed, allowed+`,"IssuerOrgID":"acad-rogue"`, 1)
		}},
		{name: "escaped issuer name", meta: func(b string) string {
			return strings.Replace(b, allowed, allowed+`,"issuer\u004frgId":"acad-rogue"`, 1)
		}},
		{name: "repeated source", meta: func(b string) string {
			return strings.Replace(b, `"source":"api"`, `"source":"api","source":"import"`, 1)
		}},
		{name: "academy twice in the data", data: func(d string) string {
			return strings.Replace(d, `"academyId":"`+audittest.Academy+`"`, `"academyId":"`+audittest.Academy+`","AcademyId":"acad-rogue"`, 1)
		}},
	}
	for i := range cases {
		c := &cases[i]
		c.stream, c.rev = events.CraftsmanStream("dup-"+strconv.Itoa(i)), 3
		evs := audittest.Seal(t, c.stream, audittest.Career("dup-"+strconv.Itoa(i)))
		orig := make([]string, len(evs))
		for j, e := range evs {
			orig[j] = e.Hash
		}
		prev := evs[c.rev-1].Hash
		for j := c.rev; j < len(evs); j++ { // reseal from the damaged event on
			e := &evs[j]
			k := bytes.LastIndex(e.Metadata, []byte(`,"hash":"`))
			body := strings.Replace(string(e.Metadata[:k])+"}", `"prevHash":"`+orig[j-1]+`"`, `"prevHash":"`+prev+`"`, 1)
			if j == c.rev {
				if c.meta != nil {
					body = c.meta(body)
				}
				if c.data != nil {
					e.Data = []byte(c.data(string(e.Data)))
				}
			}
			e.Metadata, e.Hash = audittest.SealRaw(prev, e.Type, e.Data, []byte(body))
			prev = e.Hash
		}
		audittest.Append(t, st, c.stream, evs)
	}
	// Outside craftledger's streams: a type the rule knows with metadata
	// that is not JSON, and any type with a repeated name, are findings; an
	// unknown type with other metadata is not judged.
	for stream, e := range map[string]eventstore.EventData{
		"foreign-ruled": {Type: events.TypeTrainingCompleted, Data: []byte(`{}`), Metadata: []byte(`not json`)},
		"foreign-dup":   {Type: "Something.v1", Data: []byte(`{}`), Metadata: []byte(`{"issuerOrgId":"a","issuerOrgId":"b"}`)},
		"foreign-plain": {Type: "Something.v1", Data: []byte(`{}`), Metadata: []byte(`not json`)},
	} {
		if _, err := st.Append(ctx(t), stream, eventstore.NoStream(), e); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]audit.Finding{}
	for _, f := range rep.Findings {
		by[f.Stream] = append(by[f.Stream], f)
	}
	for _, c := range cases {
		fs := by[c.stream]
		if len(fs) != 1 || fs[0].Revision != uint64(c.rev) || fs[0].Kind == audit.KindChain || !strings.Contains(fs[0].Reason, "duplicate") {
			t.Errorf("%s: findings %v, want one duplicate-member finding at revision %d", c.name, fs, c.rev)
		}
	}
	if fs := by["craftsman-c-0001"]; len(fs) != 0 {
		t.Errorf("honest stream: %v", fs)
	}
	for stream, want := range map[string]int{"foreign-ruled": 1, "foreign-dup": 1, "foreign-plain": 0} {
		n := 0 // unsealed, they are chain findings too
		for _, f := range by[stream] {
			if f.Kind == audit.KindIssuer {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: findings %v, want %d issuer finding(s)", stream, by[stream], want)
		}
	}
}

// The package's tables are handed out as copies: a caller changing one
// changes nothing for the next.
func TestTablesAreCopies(t *testing.T) {
	h := audit.CSVHeader()
	h[0] = "changed"
	if audit.CSVHeader()[0] != "position" {
		t.Error("CSVHeader shares its backing array")
	}
	r := audit.IssuerRules()
	delete(r, "TrainingCompleted")
	if _, ok := audit.IssuerRules()["TrainingCompleted"]; !ok {
		t.Error("IssuerRules shares its map")
	}
}
