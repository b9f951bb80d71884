package honour_test

import (
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
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
	"ConferHonour":        reflect.TypeFor[honour.ConferRequest](),
	"WithdrawHonour":      reflect.TypeFor[honour.WithdrawRequest](),
	"RecogniseInnovation": reflect.TypeFor[honour.InnovationRequest](),
	"Correct":             reflect.TypeFor[servicekit.CorrectionRequest](),
}

// TestOpenAPIMatchesRoutes: every route of the handler is in openapi.yaml
// under its operationId, and nothing else is; each request schema names
// exactly the fields the decoder accepts.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	servicetest.CheckOpenAPI(t, openAPIDoc(t), yaml.Unmarshal, honour.Routes(), requestTypes)
}

// TestOpenAPIExamplesDecode sends every example request, in route order,
// to the real handler and store as an admin: each must be accepted.
func TestOpenAPIExamplesDecode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("c-10001", events.Technician)
	params := map[string]string{"{craftsmanId}": "c-10001", "{honourId}": "h-2024-ntx"}
	e.SendExamples("admin", openAPIDoc(t), yaml.Unmarshal, honour.Routes(), params, nil)
}
