package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
)

type fuzzReq struct {
	Name  string   `json:"name"`
	Hours float64  `json:"hours"`
	Tags  []string `json:"tags,omitempty"`
	Mode  *struct {
		Kind string `json:"kind"`
	} `json:"mode,omitempty"`
	Extra map[string]string `json:"extra,omitempty"`
	Raw   json.RawMessage   `json:"raw,omitempty"`
}

// FuzzDecodeJSON: the strict decoder never panics, refuses only with
// INVALID_ARGUMENT, and what it accepts round-trips and spells every key
// exactly as the type does (no case-insensitive matches, no repeats).
func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"name":"w","hours":8,"tags":["a"],"mode":{"kind":"online"},"extra":{"K":"v"},"raw":{"Any":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		var got fuzzReq
		err := kit.DecodeJSON(r, &got, 4096)
		if err != nil {
			if !errors.Is(err, errs.InvalidArgument) {
				t.Fatalf("%q: %v, want INVALID_ARGUMENT", body, err)
			}
			return
		}
		var loose map[string]json.RawMessage
		if json.Unmarshal(body, &loose) == nil {
			for k := range loose {
				switch k {
				case "name", "hours", "tags", "mode", "extra", "raw":
				default:
					t.Fatalf("%q: accepted key %q", body, k)
				}
			}
		}
		b, _ := json.Marshal(got)
		r2 := httptest.NewRequest("POST", "/", strings.NewReader(string(b)))
		var again fuzzReq
		if err := kit.DecodeJSON(r2, &again, 1<<20); err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(normal(got), normal(again)) {
			t.Fatalf("round trip: %+v vs %+v", got, again)
		}
		_ = context.Background
	})
}

func normal(r fuzzReq) fuzzReq {
	if len(r.Raw) > 0 {
		var v any
		_ = json.Unmarshal(r.Raw, &v)
		r.Raw, _ = json.Marshal(v)
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	if len(r.Extra) == 0 {
		r.Extra = nil
	}
	return r
}
