package esdbserver

import (
	"fmt"
	"testing"
)

// BenchmarkFilterRegex: the cost per event of a compiled regex filter,
// which a filtered $all read or subscription pays for every event it
// scans. The records are the store's own kinds of stream names and event
// types, a fifth of them matching.
func BenchmarkFilterRegex(b *testing.B) {
	families := []string{"craftsman", "academy", "competition", "mentorship", "other"}
	types := []string{"HonourConferred.v1", "SkillLevelCertified.v2", "MentorshipStarted.v1", "CourseAdded.v1", "TrainingCompleted.v1"}
	recs := make([]record, 1000)
	for i := range recs {
		recs[i] = record{Stream: fmt.Sprintf("%s-%06d", families[i%len(families)], i*7919%1000000), Type: types[i%len(types)]}
	}
	for _, c := range []struct {
		name    string
		byType  bool
		pattern string
	}{
		{"stream=prefix", false, `^craftsman-`},
		{"stream=alternation", false, `^(craftsman|academy)-`},
		{"type=anchored", true, `^(Training|Honour)[A-Za-z]*\.v1$`},
		{"type=unanchored", true, `Conferred`},
	} {
		b.Run(c.name, func(b *testing.B) {
			match, err := (&streamsFilterExpr{regex: c.pattern}).matcher(c.byType)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if match(&recs[i%len(recs)]) {
					n++
				}
			}
			if b.N >= len(recs) && n == 0 {
				b.Fatal("nothing matched")
			}
		})
	}
}
