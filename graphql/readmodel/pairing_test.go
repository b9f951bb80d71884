package readmodel

import (
	"reflect"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
)

// TestPairingFactsMergeOnlyWhenEqual: a view merges a pairing's record
// with the craftsman's own copy of it only when the two are the same fact
// — same type, occurrence instant and every payload field — whatever
// their streams, ids, revisions, record times, the occurrence's time zone
// or the address of a level reached; a record that differs in any one
// field (every field of every pairing payload, found by reflection, so a
// field added later is covered) is kept beside the craftsman's.
func TestPairingFactsMergeOnlyWhenEqual(t *testing.T) {
	tr := events.Trade{Code: "6-18-02-04", Name: "welder"}
	parties := events.MentorshipParties{MentorshipID: "m", MasterID: "b", ApprenticeID: "a"}
	level := events.Intermediate
	occurred := time.Date(2024, 3, 1, 9, 30, 0, 500, time.UTC)
	for _, p := range []events.Payload{
		events.MentorshipStarted{MentorshipParties: parties, Kind: events.MentorshipApprenticeship, Trade: tr, AcademyID: "acad1", EmployerOrgID: "emp1", PlannedMonths: 12},
		events.MentorshipSessionLogged{MentorshipParties: parties, Hours: 4, Topic: "welding"},
		events.MentorshipCompleted{MentorshipParties: parties, Trade: tr, LevelReached: &level},
		events.MentorshipEndedEarly{MentorshipParties: parties, Reason: "moved"},
	} {
		own := events.Recorded{Stream: "craftsman-a", Revision: 3, ID: "own", Type: p.EventType(), RecordedAt: occurred.Add(time.Hour),
			Meta: events.Metadata{OccurredAt: occurred}, Payload: p}
		merged := func(other events.Recorded) bool {
			t.Helper()
			c := &Craftsman{ID: "a", Records: []events.Recorded{own}}
			v := buildView(c, []*Mentorship{{ID: "m", MasterID: "b", ApprenticeID: "a", Records: []events.Recorded{other}}}, time.Time{}, time.Time{})
			return len(v.all) == 1
		}
		// The pairing stream's copy: another stream, id, revision, record
		// time, the occurrence in another zone, a level at another address.
		same := own
		same.Stream, same.Revision, same.ID, same.RecordedAt = "mentorship-m", 0, "copy", occurred.Add(2*time.Hour)
		same.Meta.OccurredAt = occurred.In(time.FixedZone("UTC+8", 8*3600))
		same.Payload = deepCopy(p)
		if !merged(same) {
			t.Errorf("%s: the same fact from the pairing's stream is kept twice", p.EventType())
		}
		other := same
		other.Type = p.EventType() + "x"
		if merged(other) {
			t.Errorf("%s: a record of another type is merged", p.EventType())
		}
		other = same
		other.Meta.OccurredAt = occurred.Add(time.Nanosecond)
		if merged(other) {
			t.Errorf("%s: a record that occurred 1 ns later is merged", p.EventType())
		}
		for _, vr := range variants(t, p) {
			other = same
			other.Payload = vr.payload
			if merged(other) {
				t.Errorf("%s: a record whose %s differs is merged", p.EventType(), vr.field)
			}
		}
	}
}

type variant struct {
	field   string
	payload events.Payload
}

// variants are copies of p, each with one field changed (a pointer both
// set to nil and to another value).
func variants(t *testing.T, p events.Payload) []variant {
	var out []variant
	var walk func(path []int, name string, typ reflect.Type)
	walk = func(path []int, name string, typ reflect.Type) {
		change := func(what string, set func(f reflect.Value)) {
			c := reflect.New(reflect.TypeOf(p)).Elem()
			c.Set(reflect.ValueOf(deepCopy(p)))
			set(c.FieldByIndex(path))
			out = append(out, variant{field: name + what, payload: c.Interface().(events.Payload)})
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				walk(append(append([]int(nil), path...), i), name+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		case reflect.String:
			change("", func(f reflect.Value) { f.SetString(f.String() + "x") })
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			change("", func(f reflect.Value) { f.SetInt(f.Int() + 1) })
		case reflect.Float32, reflect.Float64:
			change("", func(f reflect.Value) { f.SetFloat(f.Float() + 0.5) })
		case reflect.Bool:
			change("", func(f reflect.Value) { f.SetBool(!f.Bool()) })
		case reflect.Pointer:
			change(" (nil)", func(f reflect.Value) { f.SetZero() })
			if typ.Elem().Kind() != reflect.Int {
				t.Fatalf("%T%s: a pointer to %s: teach variants to change it", p, name, typ.Elem())
			}
			change(" (another value)", func(f reflect.Value) {
				v := reflect.New(typ.Elem())
				v.Elem().SetInt(f.Elem().Int() + 1)
				f.Set(v)
			})
		default:
			t.Fatalf("%T%s: a field of kind %s: teach variants to change it", p, name, typ.Kind())
		}
	}
	walk(nil, "", reflect.TypeOf(p))
	return out
}

// deepCopy copies a pairing payload, its level reached at a new address.
func deepCopy(p events.Payload) events.Payload {
	if c, ok := p.(events.MentorshipCompleted); ok && c.LevelReached != nil {
		l := *c.LevelReached
		c.LevelReached = &l
		return c
	}
	return p
}
