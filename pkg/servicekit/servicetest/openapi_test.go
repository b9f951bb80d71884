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

func check(t *testing.T, doc string, routes []servicekit.Route, requests map[string]reflect.Type) []string {
	t.Helper()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != any(r) {
				panic(p)
			}
		}()
		servicetest.CheckOpenAPI(r, []byte(doc), json.Unmarshal, routes, requests)
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
