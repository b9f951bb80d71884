package servicekit_test

import (
	"errors"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func TestDecodeLine(t *testing.T) {
	type line struct {
		CraftsmanID string `json:"craftsmanId"`
		Rank        int    `json:"rank"`
	}
	for _, tc := range []struct {
		name, raw, field string
		ok               bool
	}{
		{name: "good", raw: `{"craftsmanId":"c-1","rank":2}`, ok: true},
		{name: "unknown field", raw: `{"craftsmanId":"c-1","rnak":2}`, field: "rnak"},
		{name: "wrong type", raw: `{"craftsmanId":"c-1","rank":"2"}`, field: "rank"},
		{name: "malformed", raw: `{"craftsmanId":`},
	} {
		var l line
		err := servicekit.DecodeLine(command.Record{Raw: []byte(tc.raw)}, &l)
		if tc.ok {
			if err != nil || l.CraftsmanID != "c-1" || l.Rank != 2 {
				t.Errorf("%s: %+v %v", tc.name, l, err)
			}
			continue
		}
		if !errors.Is(err, errs.InvalidArgument) || kit.FieldOf(err) != tc.field {
			t.Errorf("%s: err %v (field %q), want InvalidArgument on %q", tc.name, err, kit.FieldOf(err), tc.field)
		}
	}
}
