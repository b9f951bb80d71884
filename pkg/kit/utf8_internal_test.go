package kit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoneSurrogate: on a JSON string of valid UTF-8, loneSurrogate is
// true exactly when encoding/json decodes a U+FFFD the text does not hold
// itself (as the character or its escape \ufffd).
func FuzzLoneSurrogate(f *testing.F) {
	for _, s := range []string{`"\ud800"`, `"\udc00"`, `"\ud83d\ude00"`, `"\ud83d\u0041"`, `"\\ud800"`, `"a\\\ud800"`,
		`"\ud83d\ud83d\ude00"`, `"\ufffd"`, `"\uD83D\uDE00"`, `"\ud83d"`, `"x\u00e9\n\""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		var v string
		if !utf8.Valid(b) || json.Unmarshal(b, &v) != nil {
			return
		}
		own := bytes.ContainsRune(b, utf8.RuneError) || strings.Contains(strings.ToLower(s), `\ufffd`)
		if own {
			return
		}
		if got, want := loneSurrogate(b), strings.ContainsRune(v, utf8.RuneError); got != want {
			t.Errorf("loneSurrogate(%s) = %v; encoding/json decodes %q", s, got, v)
		}
	})
}

// benchLine is a back-fill line: what CheckUTF8 costs every line and
// every command body.
var benchLine = []byte(`{"craftsmanId":"bw12","key":"l123","academyId":"academy-1","courseId":"elec-201","hours":2,"passed":true,"occurredAt":"2015-06-01","name":"赵磊"}`)

func BenchmarkCheckUTF8(b *testing.B) {
	for _, c := range []struct {
		name string
		line []byte
	}{
		{"line", benchLine},
		{"line with escapes", bytes.Replace(benchLine, []byte("赵磊"), []byte(`\u8d75\u78ca \"x\"`), 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if CheckUTF8(c.line) != nil {
					b.Fatal("refused")
				}
			}
		})
	}
}
