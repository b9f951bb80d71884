package competition_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
)

type openAPI struct {
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas"`
	} `yaml:"components"`
}

type operation struct {
	OperationID string `yaml:"operationId"`
	RequestBody struct {
		Content map[string]struct {
			Schema  schema `yaml:"schema"`
			Example any    `yaml:"example"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]any `yaml:"responses"`
}

type schema struct {
	Ref        string            `yaml:"$ref"`
	Required   []string          `yaml:"required"`
	Properties map[string]schema `yaml:"properties"`
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

// jsonFields lists the JSON names of a request type's body fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

var requestTypes = map[string]reflect.Type{
	"DefineCompetition":  reflect.TypeFor[competition.DefineCompetitionRequest](),
	"PublishResults":     reflect.TypeFor[competition.PublishResultsRequest](),
	"ApproveEntitlement": reflect.TypeFor[competition.ApproveEntitlementRequest](),
	"Correct":            reflect.TypeFor[servicekit.CorrectionRequest](),
}

// TestOpenAPIMatchesRoutes: every route of the handler is in openapi.yaml
// under its operationId, and nothing else is; each request schema names
// exactly the fields the decoder accepts.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var documented, served []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+op.OperationID)
		}
	}
	for _, r := range competition.Routes() {
		served = append(served, r.Method+" "+r.Pattern+" "+r.Name)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("openapi.yaml and Routes() differ:\n documented %q\n served     %q", documented, served)
	}
	for _, r := range competition.Routes() {
		op := doc.Paths[r.Pattern][strings.ToLower(r.Method)]
		if strings.HasPrefix(r.Pattern, "/v1/backfill/") {
			if _, ok := op.RequestBody.Content["application/x-ndjson"]; !ok {
				t.Errorf("%s: no application/x-ndjson request body", r.Name)
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s: no default (error) response", r.Name)
			}
			continue
		}
		body, ok := op.RequestBody.Content["application/json"]
		if !ok {
			t.Fatalf("%s: no application/json request body", r.Name)
		}
		name := strings.TrimPrefix(body.Schema.Ref, "#/components/schemas/")
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("%s: schema %q missing", r.Name, body.Schema.Ref)
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if want := jsonFields(requestTypes[r.Name]); !slices.Equal(props, want) {
			t.Errorf("%s: schema %s has properties %q, the decoder accepts %q", r.Name, name, props, want)
		}
		for _, req := range s.Required {
			if !slices.Contains(props, req) {
				t.Errorf("%s: required %q is not a property", r.Name, req)
			}
		}
		if _, ok := op.Responses["default"]; !ok {
			t.Errorf("%s: no default (error) response", r.Name)
		}
	}
}

// TestOpenAPIExamplesDecode sends every example request, in route order,
// to the real handler and store as an admin: each must be accepted.
func TestOpenAPIExamplesDecode(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	e := newEnv(t)
	for _, w := range []string{"c-10001", "c-10002", "c-10003", "c-10004", "c-10005"} {
		e.register(w, events.Technician)
	}
	compID := "nc1-elec-2025"
	params := map[string]string{"{competitionId}": compID, "{craftsmanId}": "c-10001",
		"{entitlementId}": policy.EntitlementID(events.PlacementID(compID, "c-10001", trade, events.TrackEmployees))}
	for _, r := range competition.Routes() {
		if strings.HasPrefix(r.Pattern, "/v1/backfill/") {
			ex, _ := doc.Paths[r.Pattern]["post"].RequestBody.Content["application/x-ndjson"].Example.(string)
			if ex == "" {
				t.Fatalf("%s: no example", r.Name)
			}
			code, lines, sum := e.backfill("admin", r.Pattern, "application/x-ndjson", ex)
			if code != 200 || sum.Summary.Lines == 0 || sum.Summary.Failed != 0 {
				t.Errorf("%s example: %d %+v %+v", r.Name, code, sum, lines)
			}
			continue
		}
		ex := doc.Paths[r.Pattern][strings.ToLower(r.Method)].RequestBody.Content["application/json"].Example
		if ex == nil {
			t.Fatalf("%s: no example", r.Name)
		}
		body, err := json.Marshal(ex)
		if err != nil {
			t.Fatal(err)
		}
		path := r.Pattern
		for k, v := range params {
			path = strings.ReplaceAll(path, k, v)
		}
		if code, eb := e.do("admin", r.Method, path, string(body), nil); code != 201 {
			t.Errorf("%s example %s: %d %+v", r.Name, body, code, eb)
		}
	}
}
