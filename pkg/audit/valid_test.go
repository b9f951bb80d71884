package audit

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
)

var validSeeds = []string{
	``, ` `, `1`, ` 1 `, `-`, `-0`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e07`, `0.0e0`, `2.`, `-a`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `nulls`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[[]]`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`, `{"a":1 "b":2}`, `{"a":{"b":[1,{"c":null}]}}`,
	`""`, `"`, `"\"`, `"\\"`, `"\/"`, `"\x"`, `"\u12"`, `"\u12G4"`, `"\u00e9"`, `"\uD834\uDD1E"`, "\"\x00\"", "\"\x1f\"",
	"\"\x7f\"", "\"\xff\"", "\"é\"", "\t{\"a\"\r\n:\n1}\t", `1 2`, `{} {}`, `"a"b`, `[1]]`, `{"a":1}}`,
	strings.Repeat("[", 300) + strings.Repeat("]", 300), strings.Repeat("[", 300) + strings.Repeat("]", 299),
	strings.Repeat(`{"a":`, 270) + "1" + strings.Repeat("}", 270),
}

// validJSON gives json.Valid's answer on hand-picked edge cases and on a
// few hundred thousand mutations (bytes changed, dropped, inserted, cut)
// of real event data and metadata.
func TestValidJSONMatchesEncodingJSON(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	}
	for _, s := range validSeeds {
		check([]byte(s))
	}
	typ, data, err := events.Encode(events.SkillLevelCertified{CraftsmanID: "c-1", Level: events.Senior, CertificateNumber: "S-1\"\\\u00e9",
		Trade: events.Trade{Code: "6-31-01-03", Name: "电工"}, Route: events.RouteRegular, IssuingOrg: events.Org{ID: "o", Name: "n"}})
	if err != nil {
		t.Fatal(err)
	}
	m := events.NewMetadata(typ, time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC), "org", "user")
	_, meta, err := chain.Seal("", typ, data, m)
	if err != nil {
		t.Fatal(err)
	}
	alphabet := []byte("{}[]\":,\\/ \t\n\r0123456789-+.eEtrufalsn\x00\x1f\x7f\xff\xc3\xa9abcdefu")
	r := rand.New(rand.NewPCG(7, 7))
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	for _, doc := range [][]byte{data, meta, []byte(`[{"a":[1,-2.5e+3,true,null,"\u00e9\n"]},{}]`)} {
		check(doc)
		for range n {
			b := append([]byte(nil), doc...)
			for range 1 + r.IntN(3) {
				i := r.IntN(len(b) + 1)
				switch r.IntN(4) {
				case 0:
					if i < len(b) {
						b[i] = alphabet[r.IntN(len(alphabet))]
					}
				case 1:
					if i < len(b) {
						b = append(b[:i], b[i+1:]...)
					}
				case 2:
					b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
				case 3:
					b = b[:i]
				}
			}
			check(b)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
