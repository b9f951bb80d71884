package esdbserver

import (
	"fmt"
	"testing"

	"github.com/dlclark/regexp2"
)

// filterBenchCases are typical filter regexes: the first three plain
// (plainRegex: matched by Go's regexp), the others not (regexp2); the
// last is the official client's ExcludeSystemEventsFilter, what a
// subscription to $all without a filter of its own sends.
var filterBenchCases = []struct {
	name    string
	byType  bool
	pattern string
}{
	{"stream=prefix", false, `^craftsman-`},
	{"stream=alternation", false, `^(craftsman|academy)-`},
	{"type=unanchored", true, `Conferred`},
	{"type=anchored", true, `^(Training|Honour)[A-Za-z]*\.v1$`},
	{"stream=digits", false, `^craftsman-\d+$`},
	{"type=exclude-system", true, `^[^\$].*`}, // esdb.ExcludeSystemEventsFilter
}

// BenchmarkFilterRegex: the cost per event of a compiled regex filter,
// which a filtered $all read or subscription pays for every event it
// scans. The records are the store's own kinds of stream names and event
// types, a fifth of them matching.
func BenchmarkFilterRegex(b *testing.B) {
	recs := filterBenchRecords()
	for _, c := range filterBenchCases {
		b.Run(c.name, func(b *testing.B) {
			match, err := (&streamsFilterExpr{regex: c.pattern}).matcher(c.byType)
			if err != nil {
				b.Fatal(err)
			}
			benchMatch(b, recs, match)
		})
	}
}

// BenchmarkFilterRegexDotNetEngine: the same patterns, all matched by
// regexp2 (as filterRegex matches those plainRegex leaves to it).
func BenchmarkFilterRegexDotNetEngine(b *testing.B) {
	recs := filterBenchRecords()
	for _, c := range filterBenchCases {
		b.Run(c.name, func(b *testing.B) {
			match := runeMatcher(regexp2.MustCompile(c.pattern, regexp2.None))
			field := func(r *record) string { return r.Stream }
			if c.byType {
				field = func(r *record) string { return r.Type }
			}
			benchMatch(b, recs, func(r *record) (bool, error) { return match(field(r)) })
		})
	}
}

func filterBenchRecords() []record {
	families := []string{"craftsman", "academy", "competition", "mentorship", "other"}
	types := []string{"HonourConferred.v1", "SkillLevelCertified.v2", "MentorshipStarted.v1", "CourseAdded.v1", "TrainingCompleted.v1"}
	recs := make([]record, 1000)
	for i := range recs {
		recs[i] = record{Stream: fmt.Sprintf("%s-%06d", families[i%len(families)], i*7919%1000000), Type: types[i%len(types)]}
	}
	return recs
}

func benchMatch(b *testing.B, recs []record, match recordMatch) {
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ok, err := match(&recs[i%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			n++
		}
	}
	if b.N >= len(recs) && n == 0 {
		b.Fatal("nothing matched")
	}
}
