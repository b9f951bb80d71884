package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// A decode error that someone wrapped with %w must still be located: the
// locator classifies with errors.As, not a bare type assertion.
func TestLocateDecodeErrorSeesWrappedDecodeErr(t *testing.T) {
	data := []byte("{\n  \"name\": 1\n}")
	var v struct {
		Name string `json:"name"`
	}
	err := decodeStrict(data, &v)
	if err == nil {
		t.Fatal("decodeStrict accepted a number for a string")
	}
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		t.Fatalf("decodeErr hides the decoder's error from errors.As: %v", err)
	}
	got := locateDecodeError("p.json", data, fmt.Errorf("load: %w", err))
	var le *LoadError
	if !errors.As(got, &le) {
		t.Fatalf("got %T, want *LoadError", got)
	}
	if le.Line != 2 || le.Field != "name" {
		t.Errorf("located at line %d field %q, want line 2 field %q", le.Line, le.Field, "name")
	}
}
