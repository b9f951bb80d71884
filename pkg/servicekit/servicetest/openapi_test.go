package servicetest_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r) // unwound by check
}

func check(t *testing.T, doc string, routes []servicekit.Route, requests map[string]reflect.Type, opts ...servicetest.OpenAPIOption) []string {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != any(r) {
				panic(p)
			}
		}()
		servicetest.CheckOpenAPI(r, []byte(doc), json.Unmarshal, routes, requests, opts...)
	}()
	return r.errs
}

type req struct {
	CraftsmanID string `json:"-"`
	Reason      string `json:"reason"`
	When        string `json:"occurredAt,omitempty"`
}

const good = `{"paths":{"/v1/x/{craftsmanId}":{"post":{"operationId":"X",
  "requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/XRequest"}}}},
  "responses":{"default":{}}}}},
 "components":{"schemas":{"XRequest":{"required":["reason"],"properties":{"reason":{},"occurredAt":{}}}}}}`

func TestCheckOpenAPI(t *testing.T) {
	routes := []servicekit.Route{{Method: "POST", Pattern: "/v1/x/{craftsmanId}", Name: "X"}}
	types := map[string]reflect.Type{"X": reflect.TypeFor[req]()}
	if errs := check(t, good, routes, types); len(errs) != 0 {
		t.Errorf("a matching document: %q", errs)
	}
	for _, tc := range []struct {
		name, doc, want string
		routes          []servicekit.Route
	}{
		{"an undocumented route", good, "differ", append(routes, servicekit.Route{Method: "POST", Pattern: "/v1/y", Name: "Y"})},
		{"a missing property", strings.Replace(good, `,"occurredAt":{}`, "", 1), "has properties", routes},
		{"an unknown required property", strings.Replace(good, `["reason"]`, `["reason","name"]`, 1), "required", routes},
		{"no error response", strings.Replace(good, `"default":{}`, `"201":{}`, 1), "default", routes},
	} {
		errs := check(t, tc.doc, tc.routes, types)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: %q, want a failure about %q", tc.name, errs, tc.want)
		}
	}
}

type base struct {
	Reason string `json:"reason"`
}

// embedded decodes base's fields beside its own, as encoding/json does.
type embedded struct {
	base
	When string `json:"occurredAt,omitempty"`
}

type line struct {
	CraftsmanID string `json:"craftsmanId"`
	embedded
}

const composed = `{"paths":{
  "/v1/x":{"post":{"operationId":"X",
    "requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/XRequest"}}}},
    "responses":{"default":{}}}},
  "/v1/backfill/x":{"post":{"operationId":"BackfillX",
    "requestBody":{"content":{"application/x-ndjson":{"schema":{"$ref":"#/components/schemas/XLine"}},"text/csv":{}}},
    "responses":{"default":{}}}}},
 "components":{"schemas":{
  "Base":{"required":["reason"],"properties":{"reason":{}}},
  "XRequest":{"allOf":[{"$ref":"#/components/schemas/Base"},{"properties":{"occurredAt":{}}}]},
  "XLine":{"allOf":[{"$ref":"#/components/schemas/XRequest"},{"required":["craftsmanId"],"properties":{"craftsmanId":{}}}]}}}}`

// TestCheckOpenAPIComposed: allOf schemas, embedded request structs,
// back-fill line schemas and CSV bodies.
func TestCheckOpenAPIComposed(t *testing.T) {
	routes := []servicekit.Route{{Method: "POST", Pattern: "/v1/x", Name: "X"}, {Method: "POST", Pattern: "/v1/backfill/x", Name: "BackfillX"}}
	types := map[string]reflect.Type{"X": reflect.TypeFor[embedded](), "BackfillX": reflect.TypeFor[line]()}
	if errs := check(t, composed, routes, types, servicetest.WithCSV()); len(errs) != 0 {
		t.Errorf("a matching document: %q", errs)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"a property missing from an allOf part", strings.Replace(composed, `{"properties":{"occurredAt":{}}}`, `{"properties":{}}`, 1), "has properties"},
		{"a line schema without the line's own field", strings.Replace(composed, `"properties":{"craftsmanId":{}}`, `"properties":{}`, 1), "BackfillX"},
		{"a required name in an allOf part that is no property", strings.Replace(composed, `"required":["craftsmanId"]`, `"required":["craftsmanId","nope"]`, 1), "required"},
		{"no CSV body", strings.Replace(composed, `,"text/csv":{}`, "", 1), "text/csv"},
		{"a dangling $ref", strings.Replace(composed, `"#/components/schemas/Base"`, `"#/components/schemas/Nope"`, 1), "does not resolve"},
	} {
		errs := check(t, tc.doc, routes, types, servicetest.WithCSV())
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s: %q, want a failure about %q", tc.name, errs, tc.want)
		}
	}
	// Without WithCSV a back-fill need not take CSV.
	if errs := check(t, strings.Replace(composed, `,"text/csv":{}`, "", 1), routes, types); len(errs) != 0 {
		t.Errorf("no CSV, not asked for: %q", errs)
	}
}
