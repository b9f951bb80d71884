package honour_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
)

// The organisations and callers of the tests.
const (
	// orgAcademy records most of the tests' honours: every worker register
	// seeds is enrolled at it (linked), and it is set up to act as every
	// conferring body of the catalogue (testBodies).
	orgAcademy  = "academy-1"
	orgOther    = "org-other" // no link to any worker, confers nothing
	orgEmployer = "employer-1"
	trade       = "6-31-01-03"
)

// testBodies lets orgAcademy act as every conferring body of the
// catalogue, so the tests of other rules need no body of their own.
func testBodies() map[string][]string {
	var bodies []string
	for _, k := range events.HonourCatalogue() {
		bodies = append(bodies, k.ConferringBody)
	}
	return map[string][]string{orgAcademy: bodies}
}

var now = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)

// env is the honour service over HTTP on the embedded store
// (servicetest.Env: Do, Seed, Types, Count, VerifyChain, Backfill...).
type env struct{ *servicetest.Env }

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, honour.Options{CheckWriters: true, ConferringBodies: testBodies()})
}

// newEnvWith is newEnv with the service's options.
func newEnvWith(t testing.TB, opts honour.Options) *env {
	t.Helper()
	return newEnvBackfill(t, opts, command.Backfill{Workers: 4})
}

// newEnvBackfill is newEnvWith with the back-fill runner's settings.
func newEnvBackfill(t testing.TB, opts honour.Options, bf command.Backfill) *env {
	t.Helper()
	return &env{servicetest.Start(t, servicetest.Config{Now: now, Seal: servicekit.Seal,
		Callers: callers, Handler: handler(opts, bf)})}
}

// callers are the tests' callers by name.
var callers = map[string]auth.Claims{
	"admin":       {Subject: "u-admin", Role: auth.RoleAdmin},
	"issuer":      {Subject: "u-academy", Role: auth.RoleIssuer, OrgID: orgAcademy},
	"otherIssuer": {Subject: "u-other", Role: auth.RoleIssuer, OrgID: orgOther},
	"employer":    {Subject: "u-emp", Role: auth.RoleIssuer, OrgID: orgEmployer},
	"registrar":   {Subject: "u-seed", Role: auth.RoleIssuer, OrgID: "seed"},
	"mohrss":      {Subject: "u-mohrss", Role: auth.RoleIssuer, OrgID: "mohrss"},
	"hr":          {Subject: "u-hr", Role: auth.RoleHR, OrgID: orgOther},
	"auditor":     {Subject: "u-aud", Role: auth.RoleAuditor},
	"worker":      {Subject: "u-w", Role: auth.RoleWorker, CraftsmanID: "w1"},
}

// handler builds the service's HTTP handler over a store (a replica:
// several may share one).
func handler(opts honour.Options, bf command.Backfill) func(st eventstore.Store) (http.Handler, error) {
	return func(st eventstore.Store) (http.Handler, error) {
		svc, err := honour.New(st, func() time.Time { return now }, opts)
		if err != nil {
			return nil, err
		}
		logger := slog.New(slog.DiscardHandler)
		m := kit.NewMetrics("honour")
		svc = honour.LoggingMiddleware(logger)(honour.InstrumentingMiddleware(m)(svc))
		return honour.NewHTTPHandler(svc, logger, auth.DevKey(), honour.HTTPOptions{Metrics: m, Backfill: bf}), nil
	}
}

// register registers craftsman id (registrar "seed"), holding level (when
// > 0) in the trade, and enrols them at orgAcademy.
func (e *env) register(id string, level events.Level) {
	e.T.Helper()
	e.Register(id, trade, level)
	e.Seed(events.CraftsmanStream(id), e.Now.AddDate(-2, 0, 0), events.TrainingEnrolled{CraftsmanID: id, EnrolmentID: "en-" + id,
		AcademyID: orgAcademy, CourseID: "course-1", Trade: events.Trade{Code: trade}, Mode: events.ModeClassroom})
}
