package servicetest

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Unmarshal decodes a YAML (or JSON) document: yaml.Unmarshal from
// gopkg.in/yaml.v3 in the services' tests (pkg does not depend on a YAML
// library).
type Unmarshal func(data []byte, v any) error

type openAPI struct {
	Paths      map[string]map[string]operation `yaml:"paths" json:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas" json:"schemas"`
	} `yaml:"components" json:"components"`
}

type operation struct {
	OperationID string `yaml:"operationId" json:"operationId"`
	RequestBody struct {
		Content map[string]struct {
			Schema  schema `yaml:"schema" json:"schema"`
			Example any    `yaml:"example" json:"example"`
		} `yaml:"content" json:"content"`
	} `yaml:"requestBody" json:"requestBody"`
	Responses map[string]any `yaml:"responses" json:"responses"`
}

type schema struct {
	Ref        string            `yaml:"$ref" json:"$ref"`
	Required   []string          `yaml:"required" json:"required"`
	Properties map[string]schema `yaml:"properties" json:"properties"`
	AllOf      []schema          `yaml:"allOf" json:"allOf"`
}

// NDJSON is the content type of back-fill bodies.
const NDJSON = "application/x-ndjson"

// CSV is the content type of back-fill bodies as comma-separated values
// (registry and training accept both).
const CSV = "text/csv"

// resolve follows a schema's $ref (up to a depth, against cycles).
func (d openAPI) resolve(s schema, depth int) (schema, bool) {
	for s.Ref != "" {
		if depth > 16 {
			return s, false
		}
		r, ok := d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		if !ok {
			return s, false
		}
		s, depth = r, depth+1
	}
	return s, true
}

// fields lists a schema's property names and required names through $ref
// and allOf, sorted and without repeats; ok is false when a $ref does not
// resolve.
func (d openAPI) fields(s schema, depth int) (props, required []string, ok bool) {
	s, ok = d.resolve(s, depth)
	if !ok {
		return nil, nil, false
	}
	for p := range s.Properties {
		props = append(props, p)
	}
	required = append(required, s.Required...)
	for _, sub := range s.AllOf {
		p, r, ok := d.fields(sub, depth+1)
		if !ok {
			return nil, nil, false
		}
		props, required = append(props, p...), append(required, r...)
	}
	sort.Strings(props)
	sort.Strings(required)
	return slices.Compact(props), slices.Compact(required), true
}

// OpenAPIOption changes what CheckOpenAPI asks of a document.
type OpenAPIOption func(*openAPIConfig)

type openAPIConfig struct{ csv bool }

// WithCSV asks every back-fill route to take text/csv as well as
// application/x-ndjson (registry, training).
func WithCSV() OpenAPIOption { return func(c *openAPIConfig) { c.csv = true } }

func load(t testing.TB, doc []byte, unmarshal Unmarshal) openAPI {
	t.Helper()
	var d openAPI
	if err := unmarshal(doc, &d); err != nil {
		t.Fatalf("openapi: %v", err)
	}
	return d
}

// JSONFields lists the JSON names of a request type's body fields, sorted
// (fields tagged "-" come from the path); embedded structs without a JSON
// name are flattened as encoding/json does.
func JSONFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, JSONFields(f.Type)...)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// CheckOpenAPI checks a service's OpenAPI document against its routes:
// every route is documented under its operation name and nothing else is;
// every operation has a default (error) response; a back-fill route
// (/v1/backfill/…) takes application/x-ndjson (and text/csv WithCSV); every
// other route's JSON request schema names exactly the fields its request
// type decodes (requests by route name), and requires only those. A
// back-fill route whose line type is in requests is checked the same way
// against its NDJSON schema. Schemas may be $refs and allOf compositions;
// request types may embed structs.
func CheckOpenAPI(t testing.TB, doc []byte, unmarshal Unmarshal, routes []servicekit.Route, requests map[string]reflect.Type, opts ...OpenAPIOption) {
	t.Helper()
	var cfg openAPIConfig
	for _, o := range opts {
		o(&cfg)
	}
	d := load(t, doc, unmarshal)
	var documented, served []string
	for path, ops := range d.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+op.OperationID)
		}
	}
	for _, r := range routes {
		served = append(served, r.Method+" "+r.Pattern+" "+r.Name)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("the OpenAPI document and Routes() differ:\n documented %q\n served     %q", documented, served)
	}
	for _, r := range routes {
		op := d.Paths[r.Pattern][strings.ToLower(r.Method)]
		if _, ok := op.Responses["default"]; !ok {
			t.Errorf("%s: no default (error) response", r.Name)
		}
		ct := "application/json"
		if strings.HasPrefix(r.Pattern, "/v1/backfill/") {
			ct = NDJSON
			if _, ok := op.RequestBody.Content[CSV]; cfg.csv && !ok {
				t.Errorf("%s: no %s request body", r.Name, CSV)
			}
		}
		body, ok := op.RequestBody.Content[ct]
		if !ok {
			t.Errorf("%s: no %s request body", r.Name, ct)
			continue
		}
		typ, ok := requests[r.Name]
		if !ok {
			if ct != NDJSON {
				t.Errorf("%s: no request type given to check its schema against", r.Name)
			}
			continue
		}
		props, required, ok := d.fields(body.Schema, 0)
		if !ok {
			t.Errorf("%s: schema %q does not resolve", r.Name, body.Schema.Ref)
			continue
		}
		if want := JSONFields(typ); !slices.Equal(props, want) {
			t.Errorf("%s: request schema %s has properties %q, the decoder accepts %q", r.Name, body.Schema.Ref, props, want)
		}
		for _, req := range required {
			if !slices.Contains(props, req) {
				t.Errorf("%s: required %q is not a property", r.Name, req)
			}
		}
	}
}

// SendExamples sends every route's example request from the OpenAPI
// document, in route order, to the service as caller, with the path
// parameters replaced from params ("{craftsmanId}" → "c-10001"): each JSON
// example must be written (201), each back-fill example accepted (200)
// with no failed line. prepare, when not nil, runs before each route's
// example and returns the path to send it to (e.g. after setting up the
// state the example needs).
func (e *Env) SendExamples(caller string, doc []byte, unmarshal Unmarshal, routes []servicekit.Route, params map[string]string,
	prepare func(r servicekit.Route, path string) string) {
	e.T.Helper()
	d := load(e.T, doc, unmarshal)
	for _, r := range routes {
		op := d.Paths[r.Pattern][strings.ToLower(r.Method)]
		path := r.Pattern
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		if prepare != nil {
			path = prepare(r, path)
		}
		if strings.Contains(path, "{") {
			e.T.Fatalf("%s: no value for a parameter of %s", r.Name, path)
		}
		if strings.HasPrefix(r.Pattern, "/v1/backfill/") {
			ex, _ := op.RequestBody.Content[NDJSON].Example.(string)
			if ex == "" {
				e.T.Fatalf("%s: no example", r.Name)
			}
			code, lines, sum := e.Backfill(caller, path, NDJSON, ex)
			if code != 200 || sum.Summary.Lines == 0 || sum.Summary.Failed != 0 {
				e.T.Errorf("%s example: %d %+v %+v", r.Name, code, sum, lines)
			}
			continue
		}
		ex := op.RequestBody.Content["application/json"].Example
		if ex == nil {
			e.T.Fatalf("%s: no example", r.Name)
		}
		body, err := json.Marshal(ex)
		if err != nil {
			e.T.Fatalf("%s example: %v", r.Name, err)
		}
		if code, eb := e.Do(caller, r.Method, path, string(body), nil); code != 201 {
			e.T.Errorf("%s example %s: %d %+v", r.Name, body, code, eb)
		}
	}
}

// Example is the JSON example request body of one operation.
func Example(t testing.TB, doc []byte, unmarshal Unmarshal, method, pattern string) string {
	t.Helper()
	ex := load(t, doc, unmarshal).Paths[pattern][strings.ToLower(method)].RequestBody.Content["application/json"].Example
	if ex == nil {
		t.Fatalf("%s %s: no example", method, pattern)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
