package competition_test

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
	"github.com/craftledger/craftledger/services/competition"
)

// The organisations and callers of the tests.
const (
	orgFed   = "org-federation" // organises the competitions
	orgOther = "org-other"
	orgHR    = "hr-authority" // the HR department that approves
	trade    = "6-31-01-03"
)

var now = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)

// env is the competition service over HTTP on the embedded store
// (servicetest.Env: Do, Seed, Types, Count, VerifyChain, Backfill...).
type env struct{ *servicetest.Env }

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{servicetest.Start(t, servicetest.Config{Now: now, Seal: servicekit.Seal,
		Callers: map[string]auth.Claims{
			"admin":       {Subject: "u-admin", Role: auth.RoleAdmin},
			"issuer":      {Subject: "u-fed", Role: auth.RoleIssuer, OrgID: orgFed},
			"otherIssuer": {Subject: "u-other", Role: auth.RoleIssuer, OrgID: orgOther},
			"hr":          {Subject: "u-hr", Role: auth.RoleHR, OrgID: orgHR},
			"otherHR":     {Subject: "u-hr2", Role: auth.RoleHR, OrgID: orgOther},
			"worker":      {Subject: "u-w", Role: auth.RoleWorker, CraftsmanID: "w1"},
		},
		Handler: func(st eventstore.Store) (http.Handler, error) {
			svc, err := competition.New(st, func() time.Time { return now }, competition.Options{Approvers: []string{orgHR}})
			if err != nil {
				return nil, err
			}
			logger := slog.New(slog.DiscardHandler)
			m := kit.NewMetrics("competition")
			svc = competition.LoggingMiddleware(logger)(competition.InstrumentingMiddleware(m)(svc))
			return competition.NewHTTPHandler(svc, logger, auth.DevKey(), competition.HTTPOptions{Metrics: m}), nil
		},
	})}
}

// register registers craftsman id, holding level (when > 0) in the trade.
func (e *env) register(id string, level events.Level) {
	e.T.Helper()
	e.Register(id, trade, level)
}
