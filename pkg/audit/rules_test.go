package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/internal/esdbtest"
)

// feedOf lays sealed streams out as a feed would carry them, in the order
// given, with increasing positions.
func feedOf(streams []string, sealed [][]audittest.Sealed) []eventstore.RecordedEvent {
	var evs []eventstore.RecordedEvent
	pos := uint64(1)
	for k, stream := range streams {
		for i, s := range sealed[k] {
			evs = append(evs, eventstore.RecordedEvent{Stream: stream, Revision: uint64(i), ID: s.ID, Type: s.Type, Data: s.Data, Metadata: s.Metadata,
				Position: eventstore.Position{Commit: pos, Prepare: pos}})
			pos++
		}
	}
	return evs
}

func findingKeys(rep *audit.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Kind+" "+f.Stream+"@"+strconv.FormatUint(f.Revision, 10)+" "+f.Type+" "+f.Issuer)
	}
	return out
}

// Offline, a placement's organiser comes from the competition stream in
// the same file, which another worker reads: the verdict must be the same
// on every run, whichever worker is ahead, and whether the competition
// comes before or after the placements in the file.
func TestVerifyFeedVerdictDoesNotDependOnScheduling(t *testing.T) {
	cs := events.CompetitionStream("city-sh-2019")
	comp := audittest.Seal(t, cs, audittest.Competition())
	forged := audittest.Career("forged")
	forged[7].Issuer = "org-rogue" // CompetitionPlaced not by the organiser (Union)
	streams := []string{cs, events.CraftsmanStream("forged")}
	sealed := [][]audittest.Sealed{comp, audittest.Seal(t, streams[1], forged)}
	for i := 1; i <= 6; i++ {
		id := "c-" + strconv.Itoa(i)
		streams = append(streams, events.CraftsmanStream(id))
		sealed = append(sealed, audittest.Seal(t, events.CraftsmanStream(id), audittest.Career(id)))
	}
	want := []string{"issuer craftsman-forged@7 CompetitionPlaced.v1 org-rogue"}
	layouts := map[string][]eventstore.RecordedEvent{
		"competition first": feedOf(streams, sealed),
		"competition last":  feedOf(append(slices.Clone(streams[1:]), streams[0]), append(slices.Clone(sealed[1:]), sealed[0])),
	}
	runs := 200
	if testing.Short() {
		runs = 20
	}
	for name, evs := range layouts {
		for _, workers := range []int{2, 4} {
			for r := range runs {
				rep, err := audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{Workers: workers}, audit.SliceFeed(evs))
				if err != nil {
					t.Fatal(err)
				}
				if got := findingKeys(rep); !cmp.Equal(want, got) {
					t.Fatalf("%s, %d workers, run %d: findings %v, want %v", name, workers, r, got, want)
				}
			}
		}
	}
}

// The report's list, bounded by MaxFindings, names the same findings
// whichever worker met them first.
func TestVerifyBoundedFindingsAreTheFirstInOrder(t *testing.T) {
	var streams []string
	var sealed [][]audittest.Sealed
	for i := 1; i <= 12; i++ {
		id := "f-" + strconv.Itoa(i)
		c := audittest.Career(id)
		c[3].Issuer = "acad-rogue"
		streams = append(streams, events.CraftsmanStream(id))
		sealed = append(sealed, audittest.Seal(t, events.CraftsmanStream(id), c))
	}
	evs := feedOf(streams, sealed)
	var first []string
	for r := range 50 {
		rep, err := audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{Workers: 3, MaxFindings: 2}, audit.SliceFeed(evs))
		if err != nil {
			t.Fatal(err)
		}
		got := findingKeys(rep)
		if r == 0 {
			first = got
			if len(got) != 2 || rep.Omitted != 10 || got[0] != "issuer craftsman-f-1@3 TrainingCompleted.v2 acad-rogue" || got[1] != "issuer craftsman-f-10@3 TrainingCompleted.v2 acad-rogue" {
				t.Fatalf("findings %v, omitted %d", got, rep.Omitted)
			}
		} else if !cmp.Equal(first, got) {
			t.Fatalf("run %d: %v, first run %v", r, got, first)
		}
	}
}

// The services let only the organisation that recorded a fact, or an
// admin, correct it (servicekit.Corrector). A correctly sealed correction
// by another organisation is an issuer finding, in the store and in a
// replay file, on or off line; the recorder's own correction, the
// platform's, and the recorder's correction of the platform's correction
// are not.
func TestVerifyCorrectionsByTheRecorderOnly(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "victim"
	stream := events.CraftsmanStream(id)
	career := audittest.Career(id)
	sealed := audittest.Seal(t, stream, career)
	senior, training := sealed[6].ID, sealed[5].ID // certified by the evaluator; training by the academy
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	corr := func(sup, issuer string) audittest.Event {
		return audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: sup, Reason: "review"}, Issuer: issuer, Occurred: at}
	}
	evs := append(career,
		corr(senior, "acad-rogue"),                                      // 9: refused by the services
		corr(senior, audittest.Evaluator),                               // 10: the recorder
		corr(training, audit.PlatformOrg),                               // 11: an admin
		corr(audittest.UUID(stream, 11), audittest.Academy),             // 12: the recorder of the original, reversing the admin's correction
		corr(audittest.UUID(stream, 11), "acad-rogue"),                  // 13: another organisation reversing it
		corr("00000000-0000-4000-8000-000000000000", audittest.Academy), // 14: an event not on the stream
	)
	cs := events.CompetitionStream("city-sh-2019")
	audittest.Append(t, st, cs, audittest.Seal(t, cs, audittest.Competition()))
	audittest.Append(t, st, stream, audittest.Seal(t, stream, evs))
	want := []string{
		"issuer craftsman-victim@9 EventCorrected.v1 acad-rogue",
		"issuer craftsman-victim@13 EventCorrected.v1 acad-rogue",
		"issuer craftsman-victim@14 EventCorrected.v1 " + audittest.Academy,
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, findingKeys(rep)); diff != "" {
		t.Errorf("store (-want +got):\n%s", diff)
	}
	if len(rep.Findings) > 0 && !strings.Contains(rep.Findings[0].Reason, "= "+audittest.Evaluator) {
		r := rep.Findings[0].Reason
		t.Errorf("reason %q does not name the recorder", r)
	}
	var buf bytes.Buffer
	w := audit.NewJSONLWriter(&buf)
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{}, w.Write); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	// In a file, an event the file lacks cannot be judged (a partial file).
	wantFile := want[:2]
	for _, store := range []eventstore.Store{st, nil} {
		rep, err := audit.VerifyFeed(ctx(t), store, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(buf.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantFile, findingKeys(rep)); diff != "" {
			t.Errorf("file, store %v (-want +got):\n%s", store != nil, diff)
		}
	}
}

// A competition's grant may be withdrawn (or restored) by a correction of
// the competition's organiser even when the platform recorded it (an
// admin's correction of the placement granted it; the organiser's
// correction back withdraws it), and by the platform; another
// organisation's correction of it is a finding, in the store and in a
// replay file read with or without the store.
func TestVerifyCorrectionOfCompetitionGrantByOrganiser(t *testing.T) {
	st, _ := audittest.Store(t)
	id := "graded"
	stream := events.CraftsmanStream(id)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	grant := func(ent string) events.PromotionEntitlementGranted {
		return events.PromotionEntitlementGranted{CraftsmanID: id, EntitlementID: ent, Trade: audittest.Trade(), Level: events.Technician, RequiresApproval: true,
			Source: events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "city-sh-2019", PlacementID: "city-sh-2019:graded:6-31-01-03:employees", RuleID: "r"}}
	}
	corr := func(sup, issuer string) audittest.Event {
		return audittest.Event{Payload: events.EventCorrected{CraftsmanID: id, SupersedesEventID: sup, Reason: "review"}, Issuer: issuer, Occurred: at}
	}
	evs := audittest.Career(id)
	n := len(evs)
	evs = append(evs,
		audittest.Event{Payload: grant("e-platform"), Issuer: audit.PlatformOrg, Occurred: at}, // n: an admin's correction granted it
		audittest.Event{Payload: grant("e-union"), Issuer: audittest.Union, Occurred: at},      // n+1: the publication granted it
	)
	byPlatform, byUnion := audittest.UUID(stream, n), audittest.UUID(stream, n+1)
	evs = append(evs,
		corr(byPlatform, audittest.Union),                  // n+2: the organiser withdraws the platform's grant
		corr(audittest.UUID(stream, n+2), audittest.Union), // n+3: and restores it
		corr(byPlatform, "acad-rogue"),                     // n+4: another organisation
		corr(byUnion, "acad-rogue"),                        // n+5: another organisation
		corr(byUnion, audit.PlatformOrg),                   // n+6: the platform
	)
	cs := events.CompetitionStream("city-sh-2019")
	audittest.Append(t, st, cs, audittest.Seal(t, cs, audittest.Competition()))
	audittest.Append(t, st, stream, audittest.Seal(t, stream, evs))
	want := []string{
		fmt.Sprintf("issuer craftsman-graded@%d EventCorrected.v1 acad-rogue", n+4),
		fmt.Sprintf("issuer craftsman-graded@%d EventCorrected.v1 acad-rogue", n+5),
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, findingKeys(rep)); diff != "" {
		t.Errorf("store (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	w := audit.NewJSONLWriter(&buf)
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{}, w.Write); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	for _, store := range []eventstore.Store{st, nil} {
		for range 10 { // the competition's stream is read by another worker
			rep, err := audit.VerifyFeed(ctx(t), store, audit.VerifyOptions{Workers: 3}, audit.LinesFeed(bytes.NewReader(buf.Bytes())))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, findingKeys(rep)); diff != "" {
				t.Fatalf("file, store %v (-want +got):\n%s", store != nil, diff)
			}
		}
	}
}

// A replay line is read one way only: a line giving data (or metadata)
// both verbatim and as base64, an unknown member, a repeated member or a
// member in another case is refused, since the verifier and a reader
// could otherwise see different bytes.
func TestReadLinesRefusesAmbiguousLines(t *testing.T) {
	e := eventstore.RecordedEvent{Stream: "craftsman-x", Revision: 3, ID: "0b4f2a9e-0000-4000-8000-000000000001", Type: "TrainingCompleted.v2",
		Data: []byte(`{"hours":16}`), Metadata: []byte(`{"issuerOrgId":"acad"}`), Position: eventstore.Position{Commit: 9, Prepare: 9},
		Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	good := strings.TrimSuffix(string(audit.AppendLine(nil, &e)), "\n")
	read := func(line string) error {
		return audit.ReadLines(strings.NewReader(line+"\n"), func(eventstore.RecordedEvent) error { return nil })
	}
	if err := read(good); err != nil {
		t.Fatalf("honest line %s: %v", good, err)
	}
	b64 := `"dataBase64":"eyJob3VycyI6MTZ9"`
	for name, line := range map[string]string{
		"data and dataBase64":         strings.Replace(good, `"data":{"hours":16}`, `"data":{"hours":9160},`+b64, 1),
		"metadata and metadataBase64": strings.Replace(good, `}}`, `},"metadataBase64":"e30="}`, 1),
		"repeated data":               strings.Replace(good, `"data":{"hours":16}`, `"data":{"hours":16},"data":{"hours":9160}`, 1),
		"data in another case":        strings.Replace(good, `"data":{"hours":16}`, `"data":{"hours":16},"DATA":{"hours":9160}`, 1),
		"only DATA":                   strings.Replace(good, `"data":`, `"Data":`, 1),
		"unknown member":              strings.Replace(good, `"data":`, `"note":1,"data":`, 1),
		"escaped name":                strings.Replace(good, `"data":`, `"d\u0061ta":`, 1),
		"repeated position member":    strings.Replace(good, `"prepare":9`, `"prepare":9,"commit":10`, 1),
		"not an object":               `[1,2]`,
	} {
		err := read(line)
		if err == nil || !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("%s: %s: err %v, want InvalidArgument", name, line, err)
		}
	}
}

// A date means the end of that day in the ledger's calendar (UTC+8), as
// in GraphQL's asOf; an instant is taken as given.
func TestParseTimeUsesTheLedgersCalendar(t *testing.T) {
	for _, c := range []struct {
		in   string
		end  bool
		want time.Time
	}{
		{"2025-06-30", true, time.Date(2025, 6, 30, 15, 59, 59, 999999999, time.UTC)},
		{"2025-06-30", false, time.Date(2025, 6, 29, 16, 0, 0, 0, time.UTC)},
		{"2025-06-30T08:00:00Z", true, time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC)},
		{"2025-06-30T08:00:00+08:00", false, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := audit.ParseTime(c.in, c.end)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q, %v) = %v, %v; want %v", c.in, c.end, got, err, c.want)
		}
	}
	if _, err := audit.ParseTime("30/06/2025", true); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("bad date: %v", err)
	}
}

// A stream's metadata can hide its first events from readers ($tb,
// $maxCount) or all of them (deletion) while a read of $all still returns
// them: verify over everything, a category or the stream flags each such
// stream (docs/audit.md: a stream that starts above 0 — truncated with $tb,
// partly deleted — is flagged), sequentially and in parallel, and counts
// only the scope's events.
func TestVerifyFlagsStreamsTheirMetadataTruncates(t *testing.T) {
	st, srv := audittest.Store(t)
	audittest.Population(t, st, 4)
	raw := esdbtest.Connect(t, srv.URL())
	var tb, mc esdb.StreamMetadata
	tb.SetTruncateBefore(3)
	mc.SetMaxCount(4)
	if _, err := raw.SetStreamMetadata(ctx(t), events.CraftsmanStream("c-0002"), esdb.AppendToStreamOptions{}, tb); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.SetStreamMetadata(ctx(t), events.CraftsmanStream("c-0003"), esdb.AppendToStreamOptions{}, mc); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.DeleteStream(ctx(t), events.CraftsmanStream("c-0004"), esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	flagged := map[string]uint64{"craftsman-c-0002": 3, "craftsman-c-0003": 5, "craftsman-c-0004": 0}
	for _, sc := range []audit.Scope{{}, {Category: "craftsman"}} {
		for par, p := range append([]audit.Plan{{Parallel: 1}}, plans...) {
			rep, err := audit.VerifyPlanned(ctx(t), st, audit.VerifyOptions{Scope: sc}, p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.Kind+" "+f.Stream+"@"+strconv.FormatUint(f.Revision, 10))
			}
			var want []string
			for _, s := range []string{"craftsman-c-0002", "craftsman-c-0003", "craftsman-c-0004"} {
				want = append(want, audit.KindGap+" "+s+"@"+strconv.FormatUint(flagged[s], 10))
			}
			events := int64(4 * 9)
			if sc.Category == "" {
				events++ // the competition
			}
			if diff := cmp.Diff(want, got); diff != "" || rep.OK || rep.Events != events || rep.Broken != 3 {
				t.Errorf("%s, plan %d: ok %v, %d events (want %d), %d broken, findings (-want +got):\n%s", sc, par, rep.OK, rep.Events, events, rep.Broken, diff)
			}
		}
	}
	rep, err := audit.Verify(ctx(t), st, audit.VerifyOptions{Scope: audit.Scope{Stream: "craftsman-c-0002"}})
	if err != nil || rep.OK || len(rep.Findings) != 1 || rep.Findings[0].Revision != 3 {
		t.Errorf("stream scope: %v %+v", err, rep)
	}
}

// Verify reads a stream's metadata as the store (and KurrentDB) does, all
// or nothing: metadata the store ignores — a quoted number, a fraction,
// null, a malformed $acl or $tempStream, a non-JSON content type, a
// $maxCount or $maxAge not above 0 — hides nothing from readers and gives
// no finding; metadata it honours, with other keys of any value beside,
// still does, at the first revision a read of the stream returns.
func TestVerifyReadsMetadataAsTheStoreDoes(t *testing.T) {
	st, _ := audittest.Store(t)
	cases := []struct {
		meta   string
		binary bool
		typ    string // the event's type on $$stream; "" is $metadata
		from   uint64 // the first revision readers see; 0: nothing hidden
	}{
		{meta: `{"$maxCount":"2"}`},
		{meta: `{"$tb":"3"}`},
		{meta: `{"$maxCount":2,"$maxAge":1.5}`},
		{meta: `{"$tb":3,"$maxCount":1e1}`},
		{meta: `{"$maxCount":2,"$maxAge":null}`},
		{meta: `{"$tb":null}`},
		{meta: `{"$maxCount":2,"$acl":{"$r":5}}`},
		{meta: `{"$tb":3,"$acl":null}`},
		{meta: `{"$tb":3,"$tempStream":"yes"}`},
		{meta: `{"$maxCount":"x","$maxCount":2}`},
		{meta: `{"$maxCount":0}`},
		{meta: `{"$maxCount":-3}`},
		{meta: `{"$tb":3}`, binary: true},
		{meta: `[3]`},
		{meta: `not json`},
		{meta: `{"$tb":3}`, from: 3},
		{meta: `{"$maxCount":2}`, from: 7},
		{meta: `{"$maxCount":2,"owner":{"a":[1,"x",null]},"$acl":{"$r":"$admins"}}`, from: 7},
		{meta: `{"$maxCount":4,"$tb":-1}`, from: 5},
		{meta: `{"$tb":2} x`, from: 2},                // the reader stops at the object's end
		{meta: `{"$tb":3,"$TB":0}`, from: 3},          // names are exact: $TB is a custom property
		{meta: `{"$tb":3}`, typ: "Settings", from: 3}, // the stream's last event is its metadata, whatever its type
	}
	ids := audittest.Population(t, st, len(cases))
	var want []string
	for i, c := range cases {
		stream := events.CraftsmanStream(ids[i])
		ev := eventstore.EventData{Type: "$metadata", Data: []byte(c.meta)}
		if c.typ != "" {
			ev.Type = c.typ
		}
		if c.binary {
			ev.ContentType = "application/octet-stream"
		}
		if _, err := st.Append(ctx(t), "$$"+stream, eventstore.Any(), ev); err != nil {
			t.Fatalf("%s: %v", c.meta, err)
		}
		read, err := st.ReadStream(ctx(t), stream, eventstore.ReadOptions{})
		if err != nil || len(read) == 0 || read[0].Revision != c.from {
			t.Fatalf("%s (binary %v): the store's read starts at %+v, %v; the case wants %d", c.meta, c.binary, read[:min(1, len(read))], err, c.from)
		}
		if c.from > 0 {
			want = append(want, audit.KindGap+" "+stream+"@"+strconv.FormatUint(c.from, 10))
		}
	}
	for par, p := range append([]audit.Plan{{Parallel: 1}}, plans...) {
		rep, err := audit.VerifyPlanned(ctx(t), st, audit.VerifyOptions{}, p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Findings {
			got = append(got, f.Kind+" "+f.Stream+"@"+strconv.FormatUint(f.Revision, 10))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan %d: findings (-want +got):\n%s", par, diff)
		}
	}
}

// An academy's export holds part of each craftsman's stream: with Partial
// the missing revisions are counted, not findings, and the file verifies;
// a changed event after a missing revision is still caught (each event is
// checked on its own when its predecessor is absent), with or without
// Partial. A replay from a position (streams starting above 0) too.
func TestVerifyPartialFiles(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 3)
	var exp bytes.Buffer
	w := audit.NewJSONLWriter(&exp)
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: audittest.Academy}, w); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	all, err := st.ReadAll(ctx(t), eventstore.ReadAllOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tail bytes.Buffer
	w = audit.NewJSONLWriter(&tail)
	from := all[len(all)-12].Position // the last event of c-0002 and c-0003's
	if _, err := audit.Replay(ctx(t), st, audit.ReplayOptions{Range: audit.Range{FromPosition: &from}}, w.Write); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	verify := func(file []byte, partial bool) *audit.Report {
		t.Helper()
		rep, err := audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{Partial: partial}, audit.LinesFeed(bytes.NewReader(file)))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for name, c := range map[string]struct {
		file            []byte
		streams         int
		missing         uint64
		tamper, changed string
		at              string
	}{
		// Per craftsman: registration, trainings at 3 and 5 (the academy's).
		"academy export": {exp.Bytes(), 3, 3 * 3, `"hours":120`, `"hours":121`, "chain craftsman-c-0003@5"},
		// c-0002 from revision 6, c-0003 whole.
		"replay from a position": {tail.Bytes(), 1, 6, `"rank":3`, `"rank":1`, "chain craftsman-c-0003@7"},
	} {
		rep := verify(c.file, true)
		if !rep.OK || rep.PartialStreams != c.streams || rep.MissingRevisions != c.missing || rep.Broken != 0 {
			t.Errorf("%s, partial: %+v; want OK, %d partial streams missing %d revisions", name, rep, c.streams, c.missing)
		}
		if rep := verify(c.file, false); rep.OK || len(rep.Findings) != c.streams && name == "replay from a position" {
			t.Errorf("%s, not partial: %+v; want gap findings", name, rep)
		}
		i := bytes.LastIndex(c.file, []byte(c.tamper))
		if i < 0 {
			t.Fatalf("%s: no %s to change", name, c.tamper)
		}
		tampered := append(append(append([]byte(nil), c.file[:i]...), c.changed...), c.file[i+len(c.tamper):]...)
		for _, partial := range []bool{true, false} {
			rep := verify(tampered, partial)
			var chains []string
			for _, f := range rep.Findings {
				if f.Kind == audit.KindChain {
					chains = append(chains, f.Kind+" "+f.Stream+"@"+strconv.FormatUint(f.Revision, 10))
				}
			}
			if diff := cmp.Diff([]string{c.at}, chains); diff != "" || rep.OK {
				t.Errorf("%s tampered, partial %v: chain findings (-want +got):\n%s", name, partial, diff)
			}
		}
	}
}
