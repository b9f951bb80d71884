package competition_test

import (
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
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
	servicetest.CheckOpenAPI(t, openAPIDoc(t), yaml.Unmarshal, competition.Routes(), requestTypes)
}

// TestOpenAPIExamplesDecode sends every example request, in route order,
// to the real handler and store as an admin: each must be accepted.
func TestOpenAPIExamplesDecode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, w := range []string{"c-10001", "c-10002", "c-10003", "c-10004", "c-10005"} {
		e.register(w, events.Technician)
	}
	compID := "nc1-elec-2025"
	params := map[string]string{"{competitionId}": compID, "{craftsmanId}": "c-10001",
		"{entitlementId}": policy.EntitlementID(events.PlacementID(compID, "c-10001", trade, events.TrackEmployees))}
	e.SendExamples("admin", openAPIDoc(t), yaml.Unmarshal, competition.Routes(), params, nil)
}
