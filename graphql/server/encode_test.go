package server

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// The fast encoder writes exactly what encoding/json writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	s := "x"
	cases := []any{
		nil, "plain", "quote\" back\\ nl\n tab\t <b>&amp;</b> \u2028 \x01 \xff 中文 é", &s, (*string)(nil),
		true, false, 0, -42, int64(1) << 53, 1.5, 1e21, 1e-7, 123456789.0, 0.000001, math.Copysign(0, -1),
		map[string]any{"b": 1, "a": []any{"x", nil, map[string]any{}}, "é": 2.25},
		[]any{}, time.Date(2024, 5, 1, 8, 30, 0, 0, time.UTC),
		map[string]any{"fallback": struct {
			A int `json:"a"`
		}{3}},
	}
	for _, c := range cases {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%#v:\n got %s\nwant %s", c, got, want)
		}
	}
}
