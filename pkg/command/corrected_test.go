package command_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

func TestCorrected(t *testing.T) {
	ev := func(id, typ, data string) eventstore.RecordedEvent {
		return eventstore.RecordedEvent{ID: id, Type: typ, Data: []byte(data)}
	}
	const fix = "EventCorrected.v1"
	retract := func(id, target string) eventstore.RecordedEvent {
		return ev(id, fix, `{"supersedesEventId":"`+target+`","reason":"r"}`)
	}
	replace := func(id, target, data string) eventstore.RecordedEvent {
		return ev(id, fix, `{"supersedesEventId":"`+target+`","reason":"r","replacement":{"type":"Fact.v1","data":`+data+`}}`)
	}
	replaceAs := func(id, target, typ, data string) eventstore.RecordedEvent {
		return ev(id, fix, `{"supersedesEventId":"`+target+`","reason":"r","replacement":{"type":"`+typ+`","data":`+data+`}}`)
	}
	type view struct{ ID, Data string }
	cases := []struct {
		name string
		evs  []eventstore.RecordedEvent
		want []view
	}{
		{"no corrections", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`)}, []view{{"a", `1`}}},
		{"retraction", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), ev("b", "Fact.v1", `2`), retract("c", "a")}, []view{{"b", `2`}}},
		{"replacement", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), replace("c", "a", `9`)}, []view{{"a", `9`}}},
		{"latest correction wins", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), replace("c", "a", `9`), replace("d", "a", `7`)}, []view{{"a", `7`}}},
		{"retracting a retraction restores", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), retract("c", "a"), retract("d", "c")}, []view{{"a", `1`}}},
		{"replacing a correction applies to its target", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), retract("c", "a"), replace("d", "c", `5`)}, []view{{"a", `5`}}},
		// A replacement of another type than the fact's (the services
		// never write one) decides nothing, as in the career fold.
		{"a replacement of another type is ignored", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), replaceAs("c", "a", "Other.v1", `9`)}, []view{{"a", `1`}}},
		{"nor does it override an earlier correction", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), replace("c", "a", `2`), replaceAs("d", "a", "Other.v1", `9`)}, []view{{"a", `2`}}},
		{"nor cancel the correction it supersedes", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), replace("c", "a", `2`), replaceAs("d", "c", "Other.v1", `9`)}, []view{{"a", `2`}}},
		{"the root of the chain decides the type", []eventstore.RecordedEvent{ev("a", "Fact.v1", `1`), retract("c", "a"), replaceAs("d", "c", "Other.v1", `9`)}, []view(nil)},
		{"an older version of the same type is the same type", []eventstore.RecordedEvent{ev("a", "TrainingCompleted.v1", `1`), replaceAs("c", "a", "TrainingCompleted.v2", `2`)}, []view{{"a", `2`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := command.Corrected(command.History{Stream: "s", Exists: true, Events: c.evs}, fix)
			if err != nil {
				t.Fatal(err)
			}
			var views []view
			for _, e := range got {
				views = append(views, view{e.ID, string(e.Data)})
			}
			if diff := cmp.Diff(c.want, views); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestCorrectedOccurredAt: a replacement that gives an occurredAt dates
// the corrected fact by it, in the metadata decisions read; one that gives
// none keeps the original's date, and the other metadata stays.
func TestCorrectedOccurredAt(t *testing.T) {
	const fix = "EventCorrected.v1"
	orig := eventstore.RecordedEvent{ID: "a", Type: "Fact.v1", Data: []byte(`1`),
		Metadata: []byte(`{"schemaVersion":1,"occurredAt":"2020-01-01T00:00:00Z","issuerOrgId":"org-1","actingUserId":"u-1"}`)}
	for _, c := range []struct {
		name, replacement, want string
	}{
		{"dated", `{"type":"Fact.v1","data":2,"occurredAt":"2019-03-01T00:00:00Z"}`, "2019-03-01"},
		{"undated", `{"type":"Fact.v1","data":2}`, "2020-01-01"},
	} {
		corr := eventstore.RecordedEvent{ID: "c", Type: fix, Data: []byte(`{"supersedesEventId":"a","reason":"r","replacement":` + c.replacement + `}`)}
		got, err := command.Corrected(command.History{Stream: "s", Exists: true, Events: []eventstore.RecordedEvent{orig, corr}}, fix)
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %d events, %v", c.name, len(got), err)
		}
		m, err := command.DecodeMetadata(got[0].Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if at := m.OccurredAt.Format(time.DateOnly); at != c.want || m.IssuerOrgID != "org-1" || m.ActingUserID != "u-1" || string(got[0].Data) != "2" {
			t.Errorf("%s: occurredAt %s issuer %q user %q data %s; want %s, org-1, u-1, 2", c.name, at, m.IssuerOrgID, m.ActingUserID, got[0].Data, c.want)
		}
	}
}

func TestInForce(t *testing.T) {
	ev := func(id, typ, data string) eventstore.RecordedEvent {
		return eventstore.RecordedEvent{ID: id, Type: typ, Data: []byte(data)}
	}
	const fix = "EventCorrected.v1"
	retract := func(id, target string) eventstore.RecordedEvent {
		return ev(id, fix, `{"supersedesEventId":"`+target+`","reason":"r"}`)
	}
	replace := func(id, target string) eventstore.RecordedEvent {
		return ev(id, fix, `{"supersedesEventId":"`+target+`","reason":"r","replacement":{"type":"Fact.v1","data":1}}`)
	}
	fact := ev("a", "Fact.v1", `1`)
	cases := []struct {
		name string
		evs  []eventstore.RecordedEvent
		want map[string]bool
	}{
		{"no corrections", []eventstore.RecordedEvent{fact}, map[string]bool{}},
		{"one", []eventstore.RecordedEvent{fact, replace("c", "a")}, map[string]bool{"c": true}},
		{"overridden by a later one", []eventstore.RecordedEvent{fact, replace("c", "a"), retract("d", "a")}, map[string]bool{"d": true}},
		{"reversed", []eventstore.RecordedEvent{fact, replace("c", "a"), retract("d", "c")}, map[string]bool{"d": true}},
		{"reversal reversed", []eventstore.RecordedEvent{fact, replace("c", "a"), retract("d", "c"), retract("e", "d")}, map[string]bool{"c": true, "e": true}},
		{"replaced", []eventstore.RecordedEvent{fact, retract("c", "a"), replace("d", "c")}, map[string]bool{"d": true}},
		{"another type: never in force", []eventstore.RecordedEvent{fact, replace("c", "a"),
			ev("d", fix, `{"supersedesEventId":"c","reason":"r","replacement":{"type":"Other.v1","data":1}}`)}, map[string]bool{"c": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := command.InForce(command.History{Stream: "s", Exists: true, Events: c.evs}, fix)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
