package training_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/training"
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
	AllOf      []schema          `yaml:"allOf"`
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

// properties resolves a schema's property names through $ref and allOf.
func (doc openAPI) properties(s schema) []string {
	if s.Ref != "" {
		return doc.properties(doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])
	}
	var out []string
	for p := range s.Properties {
		out = append(out, p)
	}
	for _, sub := range s.AllOf {
		out = append(out, doc.properties(sub)...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// jsonFields lists the JSON names a request type decodes, flattening
// embedded structs as encoding/json does (outer fields win).
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
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

var requestTypes = map[string]reflect.Type{
	"Correct":              reflect.TypeFor[servicekit.CorrectionRequest](),
	"Enrol":                reflect.TypeFor[training.EnrolRequest](),
	"CompleteTraining":     reflect.TypeFor[training.CompleteTrainingRequest](),
	"RecordGraduation":     reflect.TypeFor[training.GraduationRequest](),
	"RecordTitle":          reflect.TypeFor[training.TitleRequest](),
	"RecordAssessment":     reflect.TypeFor[training.AssessmentRequest](),
	"CertifySkillLevel":    reflect.TypeFor[training.CertifyRequest](),
	"BackfillCompletions":  reflect.TypeFor[training.CompletionLine](),
	"BackfillCertificates": reflect.TypeFor[training.CertificateLine](),
	"BackfillGraduations":  reflect.TypeFor[training.GraduationLine](),
	"BackfillTitles":       reflect.TypeFor[training.TitleLine](),
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented, served []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path+" "+op.OperationID)
		}
	}
	for _, r := range training.Routes() {
		served = append(served, r.Method+" "+r.Pattern+" "+r.Name)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("openapi.yaml and Routes() differ:\n documented %q\n served     %q", documented, served)
	}
	for _, r := range training.Routes() {
		op := doc.Paths[r.Pattern][strings.ToLower(r.Method)]
		ct := "application/json"
		if strings.HasPrefix(r.Name, "Backfill") {
			ct = "application/x-ndjson"
			if _, ok := op.RequestBody.Content["text/csv"]; !ok {
				t.Errorf("%s: no text/csv body", r.Name)
			}
		}
		body, ok := op.RequestBody.Content[ct]
		if !ok {
			t.Fatalf("%s: no %s request body", r.Name, ct)
		}
		if got, want := doc.properties(body.Schema), jsonFields(requestTypes[r.Name]); !slices.Equal(got, want) {
			t.Errorf("%s: schema has properties %q, the decoder accepts %q", r.Name, got, want)
		}
		if _, ok := op.Responses["default"]; !ok {
			t.Errorf("%s: no default (error) response", r.Name)
		}
	}
}

// TestOpenAPIExamplesDecode sends every example, in route order, to the real
// handler and store as an admin: each must be accepted (every back-fill
// line too).
func TestOpenAPIExamplesDecode(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newEnv(t)
	e.craftsman(t, "c-10001")
	admin := commandtest.Token(t, auth.RoleAdmin, "", "")
	for _, r := range training.Routes() {
		op := doc.Paths[r.Pattern][strings.ToLower(r.Method)]
		path := strings.ReplaceAll(r.Pattern, "{craftsmanId}", "c-10001")
		for ct, c := range op.RequestBody.Content {
			if c.Example == nil {
				t.Fatalf("%s %s: no example", r.Name, ct)
			}
			if ct == "application/json" {
				body, _ := json.Marshal(c.Example)
				resp := e.do(t, path, admin, body)
				if _, field := resp.Error(t); r.Name == "Correct" && resp.Status == http.StatusNotFound && field == "supersedesEventId" {
					continue // decoded and checked; the example's event is not on this stream
				}
				if resp.Status != http.StatusCreated {
					t.Errorf("%s example %s: %d %s", r.Name, body, resp.Status, resp.Body)
				}
				continue
			}
			lines, sum := e.backfillAs(t, admin, path, ct, c.Example.(string))
			if sum.Failed != 0 || sum.OK == 0 {
				t.Errorf("%s %s example: %+v %+v", r.Name, ct, sum, lines)
			}
		}
	}
}
