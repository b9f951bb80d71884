package kit

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type scanInner struct {
	Kind string `json:"kind"`
}

type scanEmbedded struct {
	Hours float64 `json:"hours"`
}

type scanReq struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	scanEmbedded
	Mode  *scanInner             `json:"mode,omitempty"`
	List  []scanInner            `json:"list,omitempty"`
	Extra map[string]scanInner   `json:"extra,omitempty"`
	Any   any                    `json:"any,omitempty"`
	Raw   json.RawMessage        `json:"raw,omitempty"`
	Tags  map[string]string      `json:"tags,omitempty"`
	Deep  map[string][]scanInner `json:"deep,omitempty"`
}

var scanSeeds = []string{
	`{"id":"a","name":"b","hours":2}`,
	` { "id" : "a" , "hours" : 1.5e3 , "mode" : { "kind" : "online" } } `,
	`{"id":"a","id":"b"}`,
	`{"ID":"a"}`,
	`{"iD":"a","name":"x"}`,
	`{"nope":1}`,
	`{"mode":{"kind":"x","kind":"y"}}`,
	`{"mode":{"Kind":"x"}}`,
	`{"list":[{"kind":"a"},{"kind":"b","kind":"c"}]}`,
	`{"list":[{"kind":"a"},{"KIND":"b"}]}`,
	`{"list":[]}`,
	`{"extra":{"k":{"kind":"a"},"k":{"kind":"b"}}}`,
	`{"extra":{"k":{"Kind":"a"}}}`,
	`{"any":{"Whatever":1,"Whatever":2},"raw":{"x":[1,{"y":"}"}]}}`,
	`{"tags":{"a":"1","b":"2","a":"3"}}`,
	`{"name":"with \"quotes\" and \\ and \u00e9","hours":0}`,
	`{"n\u0061me":"x","name":"y"}`,
	"{\"na\xffme\":1}",
	`{"deep":{"a":[{"kind":"x"},{"kind":"x","nope":1}]}}`,
	`{"mode":null,"list":null,"extra":null}`,
	`{"tags":{"k0":"","k1":"","k2":"","k3":"","k4":"","k5":"","k6":"","k7":"","k8":"","k9":"","k10":"","k11":"","k12":"","k13":"","k14":"","k15":"","k16":"","k3":""}}`,
	`{"name":"]}\"{["}`,
	`"just a string"`,
	`[1,2,{"a":1}]`,
	`12`,
	`true`,
	`{}`,
}

// FuzzCheckKeysScanner: the byte scanner and the token walk give the same
// answer (nil, or the same error) on every valid JSON document.
func FuzzCheckKeysScanner(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	t := reflect.TypeFor[*scanReq]()
	f.Fuzz(func(tt *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		want := checkKeysTokens(b, t)
		s := keyScanner{b: b}
		got := s.value(t, "")
		if errors.Is(got, errScanGaveUp) {
			return // the token walk answers these (checkKeys falls back)
		}
		if (got == nil) != (want == nil) || (got != nil && (got.Error() != want.Error() || FieldOf(got) != FieldOf(want))) {
			tt.Fatalf("%q: scanner %v (field %q), tokens %v (field %q)", b, got, FieldOf(got), want, FieldOf(want))
		}
	})
}

func TestCheckKeysScannerAnswersSeeds(t *testing.T) {
	typ := reflect.TypeFor[*scanReq]()
	for _, in := range scanSeeds {
		s := keyScanner{b: []byte(in)}
		if err := s.value(typ, ""); errors.Is(err, errScanGaveUp) {
			t.Errorf("%s: the scanner gave up on a valid document", in)
		}
	}
	// And refuses what it must.
	for in, field := range map[string]string{
		`{"id":"a","id":"b"}`:                             "id",
		`{"mode":{"Kind":"x"}}`:                           "mode.Kind",
		`{"list":[{"kind":"a"},{"kind":"b","kind":"c"}]}`: "list.kind",
		`{"extra":{"k":{"kind":"a"},"k":{"kind":"b"}}}`:   "extra.k",
	} {
		if err := checkKeys([]byte(in), typ); FieldOf(err) != field {
			t.Errorf("%s: %v, want a refusal of %s", in, err, field)
		}
	}
}

// BenchmarkCheckKeys compares the byte scanner with the token walk on a
// back-fill-sized line.
func BenchmarkCheckKeys(b *testing.B) {
	line := []byte(`{"id":"bw123","name":"academy-a","hours":2,"mode":{"kind":"online"},"list":[{"kind":"a"}],"tags":{"a":"1"}}`)
	typ := reflect.TypeFor[*scanReq]()
	b.Run("scanner", func(b *testing.B) {
		for b.Loop() {
			if err := checkKeys(line, typ); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tokens", func(b *testing.B) {
		for b.Loop() {
			if err := checkKeysTokens(line, typ); err != nil {
				b.Fatal(err)
			}
		}
	})
}
