package command_test

import (
	"errors"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

// TestDecodeLine: a back-filled line is refused for the same reasons as
// a request body (kit.DecodeJSON), with the field named — including what
// a plain encoding/json decoder lets through (a case-variant key, a key
// given twice, trailing data).
func TestDecodeLine(t *testing.T) {
	type line struct {
		CraftsmanID string  `json:"craftsmanId"`
		Hours       float64 `json:"hours"`
	}
	cases := []struct {
		name, raw, field string
		ok               bool
	}{
		{"good", `{"craftsmanId":"c-1","hours":8}`, "", true},
		{"unknown field", `{"craftsmanId":"c-1","huors":8}`, "huors", false},
		{"wrong type", `{"craftsmanId":"c-1","hours":"8"}`, "hours", false},
		{"case-variant key", `{"craftsmanId":"c-1","CraftsmanId":"c-2"}`, "CraftsmanId", false},
		{"key given twice", `{"craftsmanId":"c-1","craftsmanId":"c-2"}`, "craftsmanId", false},
		{"trailing data", `{"craftsmanId":"c-1"} {"craftsmanId":"c-2"}`, "", false},
		{"malformed", `{"craftsmanId":`, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var l line
			err := command.DecodeLine(command.Record{Line: 2, Raw: []byte(c.raw)}, &l)
			if c.ok {
				if err != nil || l.CraftsmanID != "c-1" {
					t.Fatalf("%+v %v", l, err)
				}
				return
			}
			if !errors.Is(err, errs.InvalidArgument) || kit.FieldOf(err) != c.field {
				t.Fatalf("err %v (field %q), want INVALID_ARGUMENT on %q", err, kit.FieldOf(err), c.field)
			}
		})
	}
}
