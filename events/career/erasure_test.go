package career_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// An erased craftsman is marked erased from the erasure on; their personal
// fields are gone then, and a personal change recorded afterwards does not
// bring them back. Before the erasure the fold is unchanged, and the
// career itself (levels, work) is untouched.
func TestFoldPersonalDataErased(t *testing.T) {
	b := story()
	b.add("2020-01-01", "2020-01-01", events.PersonalDataErased{CraftsmanID: "c-1", Reason: "consent withdrawn"})
	b.add("2021-01-01", "2021-01-01", events.CraftsmanProfileChanged{CraftsmanID: "c-1", Personal: &events.Personal{Name: "王师傅"}})

	before := career.Fold(b.evs, date("2019-12-31"), career.AsRecorded)
	if before.Erased || before.Personal == nil || before.Personal.Name != "王师傅" {
		t.Errorf("before the erasure: erased=%v personal=%+v", before.Erased, before.Personal)
	}
	for _, at := range []string{"2020-01-01", "2022-01-01"} {
		s := career.Fold(b.evs, date(at), career.AsRecorded)
		if !s.Erased || !s.ErasedOn.Equal(date("2020-01-01")) {
			t.Errorf("at %s: erased=%v on %v, want erased on 2020-01-01", at, s.Erased, s.ErasedOn)
		}
		if s.Personal != nil || s.SealedPersonal != nil {
			t.Errorf("at %s: personal data survived the erasure: %+v %+v", at, s.Personal, s.SealedPersonal)
		}
		if s.Level(elec.Code) != events.Intermediate || !s.Registered {
			t.Errorf("at %s: the career changed with the erasure: level %s registered %v", at, s.Level(elec.Code), s.Registered)
		}
	}
}
