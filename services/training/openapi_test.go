package training_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
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
	"BackfillEnrolments":   reflect.TypeFor[training.EnrolmentLine](),
	"BackfillAssessments":  reflect.TypeFor[training.AssessmentLine](),
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	servicetest.CheckOpenAPI(t, b, yaml.Unmarshal, training.Routes(), requestTypes, servicetest.WithCSV())
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
