package competition

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Route is one HTTP route of the service (method, Go ServeMux pattern and
// operation name).
type Route = servicekit.Route

// Routes lists the service's API routes; the OpenAPI file describes
// exactly these (tested).
func Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/competitions", Name: "DefineCompetition"},
		{Method: "POST", Pattern: "/v1/competitions/{competitionId}/results", Name: "PublishResults"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/entitlements/{entitlementId}/approve", Name: "ApproveEntitlement"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/corrections", Name: "Correct"},
		{Method: "POST", Pattern: "/v1/backfill/results", Name: "BackfillResults"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Metrics, when set, instruments every route (kit.Metrics.HTTP).
	Metrics *kit.Metrics
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
	// Backfill configures the bulk endpoint (workers, progress callback).
	Backfill command.Backfill
}

// NewHTTPHandler serves the competition service's JSON API (Routes) for
// svc. Every route needs a bearer token signed with key; errors use
// kit.EncodeError's body. /healthz, /readyz and /metrics are mounted by the
// binary (or the all-in-one) beside it.
func NewHTTPHandler(svc Service, logger *slog.Logger, key auth.Key, o HTTPOptions) http.Handler {
	mw := []endpoint.Middleware{auth.EndpointMiddleware(key)}
	if o.Limiter != nil {
		mw = append(mw, o.Limiter.Endpoint())
	}
	set := NewSet(svc, mw...)
	opts := kit.ServerOptions(logger, httptransport.ServerBefore(command.HTTPToContext))
	byName := map[string]http.Handler{
		"DefineCompetition": httptransport.NewServer(set.DefineCompetition,
			command.DecodeRequest[DefineCompetitionRequest](false, nil), command.EncodeResponse, opts...),
		"PublishResults": httptransport.NewServer(set.PublishResults, command.DecodeRequest(false, func(q *PublishResultsRequest, r *http.Request) {
			q.CompetitionID = r.PathValue("competitionId")
		}), kit.EncodeJSON, opts...),
		"ApproveEntitlement": httptransport.NewServer(set.ApproveEntitlement, command.DecodeRequest(false, func(q *ApproveEntitlementRequest, r *http.Request) {
			q.CraftsmanID, q.EntitlementID = r.PathValue("craftsmanId"), r.PathValue("entitlementId")
		}), command.EncodeResponse, opts...),
	}
	byName["Correct"] = httptransport.NewServer(set.Correct, command.DecodeRequest(false, func(q *servicekit.CorrectionRequest, r *http.Request) {
		q.CraftsmanID = r.PathValue("craftsmanId")
	}), command.EncodeResponse, opts...)
	authed := auth.HTTPMiddleware(key, kit.EncodeError)
	limit := kit.LimitHTTP(o.Limiter)
	own, _ := servicekit.Find[*service](svc) // under the middlewares
	byName["BackfillResults"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.BackfillLines("results", func(rec command.Record) (command.Line, error) {
			return prepareResult(svc, own, rec)
		})}))
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		h := byName[rt.Name]
		if o.Metrics != nil {
			h = o.Metrics.HTTP("competition."+rt.Name, h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}

// ResultLine is one back-filled placement (a JSON Lines object): the
// competition, the results' date (required) and the fields of
// PlacementInput, with an optional idempotency key (default: derived from
// the line's content). Each line publishes that one placement.
type ResultLine struct {
	CompetitionID string `json:"competitionId"`
	Key           string `json:"key,omitempty"`
	OccurredAt    string `json:"occurredAt"`
	PlacementInput
}

// prepareResult makes a line of one placement. With own (the service
// under svc's middlewares) set, the line runs in own's group (command.
// Group): a craftsman's neighbouring lines are published one by one and
// their placements appended to the craftsman's stream together
// (backfillResults); else through svc.PublishResults.
func prepareResult(svc Service, own *service, rec command.Record) (command.Line, error) {
	var l ResultLine
	if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("competitionId", l.CompetitionID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	if l.OccurredAt == "" {
		return command.Line{}, kit.Invalid("occurredAt", "is required for a back-filled record")
	}
	// The yearly cap is decided on the worker's stream: one worker's lines
	// run in file order.
	line := command.Line{Shard: l.CraftsmanID, Key: l.Key, Run: func(ctx context.Context) (command.Result, error) {
		r, err := svc.PublishResults(ctx, l.request())
		if err != nil {
			return command.Result{}, err
		}
		if len(r.Placements) != 1 {
			return command.Result{}, errs.E(errs.Internal, "publication of one placement answered %d", len(r.Placements))
		}
		return r.Placements[0].Result, nil
	}}
	if own != nil {
		line.Group, line.Value = own.results, l
	}
	return line, nil
}

// request is the publication of the line's one placement.
func (l ResultLine) request() PublishResultsRequest {
	return PublishResultsRequest{CompetitionID: l.CompetitionID, Placements: []PlacementInput{l.PlacementInput}, OccurredAt: l.OccurredAt}
}
