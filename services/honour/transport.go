package honour

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/craftledger/craftledger/events/career"

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
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/honours", Name: "ConferHonour"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/honours/{honourId}/withdraw", Name: "WithdrawHonour"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/innovations", Name: "RecogniseInnovation"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/corrections", Name: "Correct"},
		{Method: "POST", Pattern: "/v1/backfill/honours", Name: "BackfillHonours"},
		{Method: "POST", Pattern: "/v1/backfill/innovations", Name: "BackfillInnovations"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Metrics, when set, instruments every route (kit.Metrics.HTTP).
	Metrics *kit.Metrics
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
	// Backfill configures the bulk endpoints (workers, progress callback).
	Backfill command.Backfill
}

// NewHTTPHandler serves the honour service's JSON API (Routes) for svc.
// Every route needs a bearer token signed with key; errors use
// kit.EncodeError's body. /healthz, /readyz and /metrics are mounted by the
// binary (or the all-in-one) beside it.
func NewHTTPHandler(svc Service, logger *slog.Logger, key auth.Key, o HTTPOptions) http.Handler {
	mw := []endpoint.Middleware{auth.EndpointMiddleware(key)}
	if o.Limiter != nil {
		mw = append(mw, o.Limiter.Endpoint())
	}
	set := NewSet(svc, mw...)
	opts := kit.ServerOptions(logger, httptransport.ServerBefore(command.HTTPToContext))
	path := func(id *string, r *http.Request) { *id = r.PathValue("craftsmanId") }
	byName := map[string]http.Handler{
		"ConferHonour": httptransport.NewServer(set.ConferHonour, command.DecodeRequest(false, func(q *ConferRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
		"WithdrawHonour": httptransport.NewServer(set.WithdrawHonour, command.DecodeRequest(false, func(q *WithdrawRequest, r *http.Request) {
			path(&q.CraftsmanID, r)
			q.HonourID = r.PathValue("honourId")
		}), command.EncodeResponse, opts...),
		"RecogniseInnovation": httptransport.NewServer(set.RecogniseInnovation, command.DecodeRequest(false, func(q *InnovationRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
			command.EncodeResponse, opts...),
	}
	byName["Correct"] = httptransport.NewServer(set.Correct, command.DecodeRequest(false, func(q *servicekit.CorrectionRequest, r *http.Request) { path(&q.CraftsmanID, r) }),
		command.EncodeResponse, opts...)
	authed := auth.HTTPMiddleware(key, kit.EncodeError)
	limit := kit.LimitHTTP(o.Limiter)
	b, _ := servicekit.Find[batcher](svc) // under the middlewares
	byName["BackfillHonours"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.BackfillLines("honours", func(rec command.Record) (command.Line, error) { return prepareHonour(svc, b, rec) })}))
	byName["BackfillInnovations"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.BackfillLines("innovations", func(rec command.Record) (command.Line, error) { return prepareInnovation(svc, b, rec) })}))
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		h := byName[rt.Name]
		if o.Metrics != nil {
			h = o.Metrics.HTTP("honour."+rt.Name, h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}

// HonourLine is one back-filled honour (a JSON Lines object): the fields
// of ConferRequest plus the worker, an optional idempotency key (default:
// derived from the line's content) and, for an honour withdrawn since, the
// withdrawal.
type HonourLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	ConferRequest
	Withdrawn *WithdrawalLine `json:"withdrawn,omitempty"`
}

// WithdrawalLine is the withdrawal of a back-filled honour.
type WithdrawalLine struct {
	Reason     string `json:"reason"`
	OccurredAt string `json:"occurredAt,omitempty"`
}

// InnovationLine is one back-filled innovation (a JSON Lines object).
type InnovationLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	InnovationRequest
}

// prepareHonour makes a back-filled honour into its line: the conferral's
// command, which the runner appends together with the craftsman's
// neighbouring lines (b, the service under its middlewares, builds it);
// an honour withdrawn since runs line by line (Run), the withdrawal after
// the conferral, as its two routes would. Everything that could refuse
// the withdrawal of an honour the line confers (no reason, a date before
// the conferral or in the future) is checked before the conferral is
// written, so a refused line writes nothing.
func prepareHonour(svc Service, b batcher, rec command.Record) (command.Line, error) {
	var l HonourLine
	if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	if l.OccurredAt == "" {
		return command.Line{}, kit.Invalid("occurredAt", "is required for a back-filled record")
	}
	if l.Withdrawn != nil && l.Withdrawn.Reason == "" {
		return command.Line{}, kit.Invalid("withdrawn.reason", "is required")
	}
	if l.Withdrawn != nil && l.Withdrawn.OccurredAt != "" {
		far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		on, err1 := command.ParseWhen(l.OccurredAt, far, 0)
		off, err2 := command.ParseWhen(l.Withdrawn.OccurredAt, far, 0)
		if err1 == nil && err2 == nil && career.BeforeDay(off, on) {
			return command.Line{}, kit.Invalid("withdrawn.occurredAt", "the withdrawal cannot precede the conferral (%s)", l.OccurredAt)
		}
		if b != nil {
			// The withdrawal's own date check (servicekit.When), made now.
			if _, err := servicekit.When(l.Withdrawn.OccurredAt, b.Handler().Now()); err != nil {
				return command.Line{}, kit.FieldErr("withdrawn.occurredAt", err)
			}
		}
	}
	req := l.ConferRequest
	req.CraftsmanID = l.CraftsmanID
	line := command.Line{Shard: l.CraftsmanID, Key: l.Key, Run: func(ctx context.Context) (command.Result, error) {
		res, err := svc.ConferHonour(ctx, req)
		if err != nil || l.Withdrawn == nil {
			return res, err
		}
		at, err := command.ParseWhen(req.OccurredAt, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0)
		if err != nil {
			return res, kit.FieldErr("occurredAt", err)
		}
		// The id the conferral derived (the line has a date, so not from
		// its key).
		id, _ := honourID(req, at, command.Meta{})
		w, err := svc.WithdrawHonour(withdrawalCtx(ctx), WithdrawRequest{CraftsmanID: req.CraftsmanID, HonourID: id, Reason: l.Withdrawn.Reason, OccurredAt: l.Withdrawn.OccurredAt})
		if was := wasHonourID(req, at, command.Meta{}); errors.Is(err, errs.NotFound) && was != "" {
			// Conferred before ids came from China days: under the UTC
			// date's id (the conferral found it, wasHonourID).
			w, err = svc.WithdrawHonour(withdrawalCtx(ctx), WithdrawRequest{CraftsmanID: req.CraftsmanID, HonourID: was, Reason: l.Withdrawn.Reason, OccurredAt: l.Withdrawn.OccurredAt})
		}
		if err != nil {
			return res, kit.FieldErr("withdrawn", err)
		}
		w.Replayed = w.Replayed && res.Replayed
		return w, nil
	}}
	if b != nil && l.Withdrawn == nil {
		line.Handler = b.Handler()
		line.Build = func(ctx context.Context) (command.Command, error) { return b.conferCommand(ctx, req) }
	}
	return line, nil
}

// withdrawalCtx is the context of a back-filled line's withdrawal: the
// line's key decides each of its commands (a key names one request), so
// the withdrawal runs under a key derived from the line's, recognised
// when the line is sent again, and keeps the causation id the line's key
// gives its conferral.
func withdrawalCtx(ctx context.Context) context.Context {
	meta, _, err := command.MetaFrom(ctx)
	if err != nil || meta.IdempotencyKey == "" {
		return ctx
	}
	causation := meta.CausationID
	if causation == "" && command.ValidRequestID(meta.IdempotencyKey) == nil {
		causation = meta.IdempotencyKey
	}
	key := "withdrawn:" + events.DeterministicID("honour line withdrawal", meta.IdempotencyKey)
	return command.WithRequest(ctx, key, meta.CorrelationID, causation)
}

// prepareInnovation makes a back-filled innovation into its line, batched
// like an honour's.
func prepareInnovation(svc Service, b batcher, rec command.Record) (command.Line, error) {
	var l InnovationLine
	if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	if l.OccurredAt == "" {
		return command.Line{}, kit.Invalid("occurredAt", "is required for a back-filled record")
	}
	req := l.InnovationRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.RecogniseInnovation, b, batcher.innovationCommand), nil
}
