package audit

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
)

// The hand-written scanner agrees with encoding/json on the fields the
// issuer rule reads, and refuses what encoding/json refuses.
func TestScanOrgFieldsAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"academyId":"a1","issuingOrg":{"id":"o\u00e91","name":"x {}"},"evaluatingOrgId":"e","trade":{"code":"1-2"},"hours":32.5,"passed":true,"x":null}`,
		`{ "source" : { "kind":"competition", "competitionId":"c\"1" }, "list":[1,{"a":"]"}], "competitionId":"c2" }`,
		`{"employmentId":"emp-1","employerOrgId":"org","mentorshipId":"m","honourId":"h","organiser":"u","approvingOrgId":"hr","issuingOrgId":"v1"}`,
		`{}`,
		`{"hours":-12.5e+3,"rank":0,"passed":false}`,
	} {
		var want, got orgFields
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if err := scanOrgFields([]byte(doc), &got); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-json +scan):\n%s", doc, diff)
		}
	}
	// Unlike encoding/json, a member of an unexpected shape is ignored.
	var f orgFields
	if err := scanOrgFields([]byte(`{"issuingOrg":"not an object","source":[1],"academyId":"a"}`), &f); err != nil || f.AcademyID != "a" || f.IssuingOrg.ID != "" {
		t.Errorf("odd shapes: %+v, %v", f, err)
	}
	for _, bad := range []string{``, `{`, `{"a":}`, `{"a":1,}`, `{"a" 1}`, `{"a":"x}`, `[1]`, `{"a":1} x`, `{"a":tru}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`} {
		var f orgFields
		if err := scanOrgFields([]byte(bad), &f); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// metaIssuer reads the issuer encoding/json reads (names case-insensitive,
// escapes decoded, the last of repeated names) and reports any repeated
// name, so the verifier cannot judge one issuer while the domain sees
// another.
func TestMetaIssuerAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		doc string
		dup bool
	}{
		{`{"schemaVersion":1,"issuerOrgId":"a","actingUserId":"u"}`, false},
		{`{"IssuerOrgID":"b"}`, false},
		{`{"issuer\u004frgId":"c","x":{"issuerOrgId":"nested"}}`, false},
		{`{"issuerOrgId":"a","issuerOrgId":"b"}`, true},
		{`{"issuerOrgId":"a","ISSUERORGID":"b"}`, true},
		{`{"issuerOrgId":"a","issuer\u004frgId":"b"}`, true},
		{`{"issuerOrgId":"a","source":"x","Source":"y"}`, true},
		{`{"\u212aind":"x","kind":"y","issuerOrgId":"a"}`, true}, // Kelvin sign folds to k
		{`{"issuerOrgId":null}`, false},
	} {
		var want struct {
			IssuerOrgID string `json:"issuerOrgId"`
		}
		if err := json.Unmarshal([]byte(c.doc), &want); err != nil {
			t.Fatal(err)
		}
		got, err := metaIssuer([]byte(c.doc))
		if got != want.IssuerOrgID || errors.Is(err, errDuplicate) != c.dup || !c.dup && err != nil {
			t.Errorf("%s: issuer %q, %v; want %q (encoding/json), duplicate %v", c.doc, got, err, want.IssuerOrgID, c.dup)
		}
	}
	for _, bad := range []string{``, `[]`, `{"issuerOrgId":1}`, `{"issuerOrgId":"a"} x`} {
		if _, err := metaIssuer([]byte(bad)); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	// The payload scanner matches names the same way and refuses a field
	// of the rule named twice.
	var want, got orgFields
	doc := `{"AcademyID":"a","Source":{"KIND":"competition","competitionID":"c"},"ISSUINGORG":{"Id":"o"}}`
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatal(err)
	}
	if err := scanOrgFields([]byte(doc), &got); err != nil || !cmp.Equal(want, got) {
		t.Errorf("case-insensitive names: %v %s", err, cmp.Diff(want, got))
	}
	for _, dup := range []string{`{"academyId":"a","academyID":"b"}`, `{"source":{"kind":"a","Kind":"b"}}`, `{"issuingOrg":{"id":"a"},"issuingOrg":{"id":"b"}}`, `{"issuingOrg":{"id":"a","iD":"b"}}`} {
		if err := scanOrgFields([]byte(dup), &orgFields{}); !errors.Is(err, errDuplicate) {
			t.Errorf("%s: %v, want a duplicate", dup, err)
		}
	}
}

// canonicalMeta is sealed metadata of a few shapes, and one with every
// name Metadata has.
var canonicalMeta = []string{
	`{"schemaVersion":1,"occurredAt":"2020-01-02T00:00:00Z","issuerOrgId":"acad-1","actingUserId":"u-1","source":"api","prevHash":"sha256:00","hash":"sha256:11"}`,
	`{"schemaVersion":1,"occurredAt":"2020-01-02T00:00:00Z","issuerOrgId":"a\u00e9\"b","actingUserId":"u","$correlationId":"c","$causationId":"d","source":"api","prevHash":"","hash":"h"}`,
	`{"schemaVersion":1,"occurredAt":"2020-01-02T00:00:00Z","issuerOrgId":null,"actingUserId":"u"}`,
}

// TestIssuerFastPathsAgree: on canonical metadata and every single-byte
// change of it, the canonical-name reader (when it answers) gives the
// folding reader's issuer.
func TestIssuerFastPathsAgree(t *testing.T) {
	for _, doc := range canonicalMeta {
		if _, ok := canonicalIssuer([]byte(doc)); !ok {
			t.Fatalf("%s: not read as canonical", doc)
		}
		for i := range len(doc) {
			for _, c := range []byte{'"', '\\', 'x', 'I', ',', '}', ' ', doc[i] ^ 0x20} {
				m := []byte(doc)
				m[i] = c
				sameIssuer(t, m)
			}
		}
	}
}

func sameIssuer(t *testing.T, meta []byte) {
	t.Helper()
	got, ok := canonicalIssuer(meta)
	if !ok {
		return
	}
	want, err := foldedIssuer(meta)
	if err != nil || string(got) != string(want) {
		t.Fatalf("%s: canonical reader says %q, folding reader %q, %v", meta, got, want, err)
	}
}

// FuzzIssuerFastPaths: on any input the canonical-name reader agrees with
// the folding reader whenever it answers.
func FuzzIssuerFastPaths(f *testing.F) {
	for _, doc := range canonicalMeta {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, meta []byte) {
		sameIssuer(t, meta)
	})
}

// scanOrgFields fills f from a JSON object as scanOrgRefs reads it, for
// comparing with what encoding/json reads into the same struct.
func scanOrgFields(data []byte, f *orgFields) error {
	var r orgRefs
	err := scanOrgRefs(data, &r)
	f.AcademyID, f.IssuingOrg.ID, f.IssuingOrgID = string(r.AcademyID), string(r.IssuingOrgNestedID), string(r.IssuingOrgID)
	f.EvaluatingOrgID, f.ApprovingOrgID, f.EmployerOrgID = string(r.EvaluatingOrgID), string(r.ApprovingOrgID), string(r.EmployerOrgID)
	f.Organiser, f.CompetitionID, f.MentorshipID = string(r.Organiser), string(r.CompetitionID), string(r.MentorshipID)
	f.EmploymentID, f.HonourID = string(r.EmploymentID), string(r.HonourID)
	f.Source.Kind, f.Source.CompetitionID = string(r.SourceKind), string(r.SourceCompetitionID)
	return err
}

// TestCanonicalIssuerReadsEveryMetadataField: metadata with every field
// events.Metadata has, as events.EncodeMetadata writes it, is read by the
// canonical-name reader — a field added to Metadata and not to its list
// would send every event down the folding reader unnoticed.
func TestCanonicalIssuerReadsEveryMetadataField(t *testing.T) {
	var m events.Metadata
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); {
		case f.Kind() == reflect.String:
			f.SetString("org-" + strconv.Itoa(i))
		case f.Kind() == reflect.Int:
			f.SetInt(1)
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)))
		default:
			t.Fatalf("Metadata.%s (%s): give it a value in this test", v.Type().Field(i).Name, f.Type())
		}
	}
	meta, err := events.EncodeMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if iss, ok := canonicalIssuer(meta); !ok || string(iss) != m.IssuerOrgID {
		t.Fatalf("%s: read as canonical %v, issuer %q", meta, ok, iss)
	}
}

// BenchmarkIssuerRead is the issuer rule's reading of one sealed career
// (9 events): the issuer from the metadata and the payload's fields, on one
// goroutine — the part of verify's own CPU these scanners are.
func BenchmarkIssuerRead(b *testing.B) {
	stream := events.CraftsmanStream("b00000042")
	sealed := audittest.Seal(b, stream, audittest.Career("b00000042"))
	var bytesRead int
	for _, s := range sealed {
		bytesRead += len(s.Data) + len(s.Metadata)
	}
	b.SetBytes(int64(bytesRead))
	for b.Loop() {
		for _, s := range sealed {
			if _, err := metaIssuerBytes(s.Metadata); err != nil {
				b.Fatal(err)
			}
			var f orgRefs
			if err := scanOrgRefs(s.Data, &f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestSkipStringEveryPosition: skipString, which skips plain content a word
// at a time, ends each string where a byte-by-byte reading does — with an
// escaped quote, a backslash or a control byte at every position of
// strings shorter and longer than a word, and with the string cut short.
func TestSkipStringEveryPosition(t *testing.T) {
	byteByByte := func(b []byte, i int) (int, error) {
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return len(b), errBadJSON
	}
	for n := range 27 {
		for at := range n + 1 {
			for _, ins := range []string{`\"`, `\\`, "\x01", `"`, "é", `\u0041`} {
				body := strings.Repeat("a", at) + ins + strings.Repeat("b", n-at)
				for _, doc := range []string{`"` + body + `"` + `,"x"`, `"` + body} {
					got, gerr := skipString([]byte(doc), 0)
					want, werr := byteByByte([]byte(doc), 0)
					if got != want || (gerr == nil) != (werr == nil) {
						t.Fatalf("%q: skipString = %d, %v; byte by byte %d, %v", doc, got, gerr, want, werr)
					}
				}
			}
		}
	}
}
