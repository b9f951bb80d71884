package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var mentorshipStartedSeeds = []string{
	`{"mentorshipId":"m-501","masterId":"c-1001","apprenticeId":"c-2002","kind":"master_apprentice","trade":{"code":"6-31-01-03","name":"电工"},"employerOrgId":"org-shanghai-grid","plannedMonths":24}`,
	`{"mentorshipId":"m-1","masterId":"c-1","apprenticeId":"c-2","kind":"apprenticeship","trade":{"code":"6-18-02-04"},"academyId":"acad-1","plannedMonths":36}`,
	`{"mentorshipId":"m-1","plannedMonths":-0,"trade":{}}`,
	`{"plannedMonths":-9223372036854775808}`,
	`{}`,
	// Fall back to encoding/json.
	`{"plannedMonths":1.0}`,
	`{"plannedMonths":1e1}`,
	`{"plannedMonths":01}`,
	`{"plannedMonths":9223372036854775808}`,
	`{"plannedMonths":"24"}`,
	`{"plannedMonths":null,"kind":null,"trade":null}`,
	`{"plannedMonths":-}`,
	`{"MentorshipId":"m-1"}`,
	`{"mentorshipId":"m-1","mentorshipId":"m-2"}`,
	`{"kind":"a","trade":{"code":"x","code":"y"}}`,
	`{"masterId":"c\u002d1"}`,
	`{"apprenticeId":"c-2","extra":{"a":[1,2]}}`,
	`{"kind":"master_apprentice" }`,
	"{\"masterId\":\"\xff\"}",
	`{"plannedMonths":24`,
	``,
}

// TestDecodeMentorshipStartedLikeJSON: MentorshipStarted decodes exactly
// as with encoding/json, the canonical seeds (and json.Marshal's form of
// them) through the scanner.
func TestDecodeMentorshipStartedLikeJSON(t *testing.T) {
	for i, s := range mentorshipStartedSeeds {
		sameAsJSON(t, []byte(s), scanMentorshipStarted, decodeMentorshipStarted)
		if _, ok := scanMentorshipStarted([]byte(s)); ok != (i <= 4) {
			t.Errorf("seed %d: scanner took it: %v", i, ok)
		}
		if i > 4 {
			continue
		}
		var v MentorshipStarted
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := scanMentorshipStarted(b); !ok {
			t.Errorf("canonical %s not taken by the scanner", b)
		}
		sameAsJSON(t, b, scanMentorshipStarted, decodeMentorshipStarted)
	}
}

// TestDecodeMentorshipStartedCorpus: the scanner agrees with encoding/json
// on every stored fixture and on the other payloads' fuzz corpora, and
// takes the fixture once it is compact.
func TestDecodeMentorshipStartedCorpus(t *testing.T) {
	fixtures, _ := filepath.Glob("testdata/fixtures/*.json")
	corpus, _ := filepath.Glob("testdata/fuzz/*/*")
	if len(fixtures) == 0 || len(corpus) == 0 {
		t.Fatalf("%d fixtures, %d corpus files", len(fixtures), len(corpus))
	}
	for _, f := range append(fixtures, corpus...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(b), "go test fuzz v1\n") {
			lit := strings.TrimSpace(strings.TrimPrefix(string(b), "go test fuzz v1\n"))
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			b = []byte(s)
		}
		sameAsJSON(t, b, scanMentorshipStarted, decodeMentorshipStarted)
	}
	b, err := os.ReadFile("testdata/fixtures/MentorshipStarted.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		t.Fatal(err)
	}
	if _, ok := scanMentorshipStarted(compact.Bytes()); !ok {
		t.Errorf("compact fixture %s not taken by the scanner", compact.Bytes())
	}
}

// FuzzDecodeMentorshipStarted: the MentorshipStarted scanner against
// encoding/json.
func FuzzDecodeMentorshipStarted(f *testing.F) {
	for _, s := range mentorshipStartedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, scanMentorshipStarted, decodeMentorshipStarted)
	})
}

// BenchmarkDecodeMentorshipStarted: the scanner's decoder against
// encoding/json's (decodeAs, the registry's decoder before it).
//
//	go test -run '^$' -bench DecodeMentorshipStarted -benchmem -cpu 1 ./events/
func BenchmarkDecodeMentorshipStarted(b *testing.B) {
	data := []byte(mentorshipStartedSeeds[0])
	for name, dec := range map[string]Decoder{"scanner": decodeMentorshipStarted, "encoding-json": decodeAs[MentorshipStarted]} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
