package mentorship_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// The organisations and callers of the tests.
const (
	orgAcademy = "academy-1" // the academy recording the pairings
	orgOther   = "org-other"
	trade      = "6-31-01-03"
)

var now = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)

// env is the mentorship service over HTTP on the embedded store
// (servicetest.Env: Do, Seed, Types, Count, VerifyChain, Backfill...).
type env struct{ *servicetest.Env }

func newEnv(t testing.TB, opts mentorship.Options) *env {
	t.Helper()
	return newEnvWrapped(t, opts, nil, nil)
}

// newEnvWrapped is newEnv with the service's store and the service itself
// wrapped (nil: not wrapped), e.g. to time them.
func newEnvWrapped(t testing.TB, opts mentorship.Options, wrapStore func(eventstore.Store) eventstore.Store, wrapSvc mentorship.Middleware) *env {
	t.Helper()
	return &env{servicetest.Start(t, servicetest.Config{Now: now, Seal: servicekit.Seal,
		Callers: map[string]auth.Claims{
			"admin":       {Subject: "u-admin", Role: auth.RoleAdmin},
			"orgAdmin":    {Subject: "u-oadmin", Role: auth.RoleAdmin, OrgID: orgOther},
			"issuer":      {Subject: "u-academy", Role: auth.RoleIssuer, OrgID: orgAcademy},
			"otherIssuer": {Subject: "u-other", Role: auth.RoleIssuer, OrgID: orgOther},
			"hr":          {Subject: "u-hr", Role: auth.RoleHR, OrgID: orgOther},
			"auditor":     {Subject: "u-aud", Role: auth.RoleAuditor},
			"worker":      {Subject: "u-w", Role: auth.RoleWorker, CraftsmanID: "w1"},
		},
		Handler: func(st eventstore.Store) (http.Handler, error) {
			if wrapStore != nil {
				st = wrapStore(st)
			}
			svc, err := mentorship.New(st, func() time.Time { return now }, opts)
			if err != nil {
				return nil, err
			}
			if wrapSvc != nil {
				svc = wrapSvc(svc)
			}
			logger := slog.New(slog.DiscardHandler)
			m := kit.NewMetrics("mentorship")
			svc = mentorship.LoggingMiddleware(logger)(mentorship.InstrumentingMiddleware(m)(svc))
			return mentorship.NewHTTPHandler(svc, logger, auth.DevKey(), mentorship.HTTPOptions{Metrics: m}), nil
		},
	})}
}

// register registers craftsman id, holding level (when > 0) in the trade.
func (e *env) register(id string, level events.Level) {
	e.T.Helper()
	e.Register(id, trade, level)
}
