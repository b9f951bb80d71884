package mentorship_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

func openAPIDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requestTypes are the request types the handler decodes, by route name.
var requestTypes = map[string]reflect.Type{
	"StartMentorship":    reflect.TypeFor[mentorship.StartRequest](),
	"LogSession":         reflect.TypeFor[mentorship.LogSessionRequest](),
	"CompleteMentorship": reflect.TypeFor[mentorship.CompleteRequest](),
	"EndMentorship":      reflect.TypeFor[mentorship.EndRequest](),
	"Correct":            reflect.TypeFor[servicekit.CorrectionRequest](),
}

// TestOpenAPIMatchesRoutes: every route of the handler is in openapi.yaml
// under its operationId, and nothing else is; each request schema names
// exactly the fields the decoder accepts.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	servicetest.CheckOpenAPI(t, openAPIDoc(t), yaml.Unmarshal, mentorship.Routes(), requestTypes)
}

// TestOpenAPIExamplesDecode sends every example request, in route order,
// to the real handler and store as an admin: each must be accepted.
func TestOpenAPIExamplesDecode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mentorship.Options{})
	e.register("c-10001", events.Technician)
	e.register("c-20001", 0)
	e.register("c-20002", 0)
	e.register("c-20003", 0)
	params := map[string]string{"{mentorshipId}": "ms-2025-001", "{craftsmanId}": "c-10001"}
	doc := openAPIDoc(t)
	e.SendExamples("admin", doc, yaml.Unmarshal, mentorship.Routes(), params, func(r servicekit.Route, path string) string {
		if r.Name != "EndMentorship" {
			return path
		}
		// A completed pairing cannot end early: end a second one.
		start := strings.Replace(servicetest.Example(t, doc, yaml.Unmarshal, "POST", "/v1/mentorships"), "ms-2025-001", "ms-2025-002", 1)
		if code, eb := e.Do("admin", "POST", "/v1/mentorships", start, nil); code != 201 {
			t.Fatalf("second pairing: %d %+v", code, eb)
		}
		return strings.Replace(path, "ms-2025-001", "ms-2025-002", 1)
	})
}
