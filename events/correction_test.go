package events_test

import (
	"testing"

	"github.com/craftledger/craftledger/events"
)

// The rule for a correction replacing its fact with another type compares
// current types, at the root of a chain of corrections.
func TestForeignReplacement(t *testing.T) {
	// ev-1 a training of the first version; c-1 corrects it, c-2 corrects c-1.
	stream := map[string][2]string{
		"ev-1": {events.TypeTrainingCompletedV1, ""},
		"c-1":  {events.TypeEventCorrected, "ev-1"},
		"c-2":  {events.TypeEventCorrected, "c-1"},
	}
	target := func(id string) (string, string, bool) {
		e, ok := stream[id]
		return e[0], e[1], ok
	}
	for _, tc := range []struct {
		rep, supersedes string
		want            bool
	}{
		{events.TypeTrainingCompleted, "ev-1", false},   // the current version of the same type
		{events.TypeTrainingCompletedV1, "ev-1", false}, // the same stored name
		{events.TypeSkillLevelCertified, "ev-1", true},
		{events.TypeSkillLevelCertified, "c-2", true}, // the root of the chain is the training
		{events.TypeTrainingCompleted, "c-2", false},
		{"", "ev-1", false},                             // a retraction, or the target's type kept
		{events.TypeSkillLevelCertified, "ev-9", false}, // a target not in the history is not checked
	} {
		if got := events.ForeignReplacement(tc.rep, tc.supersedes, target); got != tc.want {
			t.Errorf("replacement %q of %s: foreign %v, want %v", tc.rep, tc.supersedes, got, tc.want)
		}
	}
}
