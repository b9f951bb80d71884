package registry

import (
	"log/slog"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Route is one HTTP route of the service (method and Go ServeMux
// pattern), the type the other services' Routes share.
type Route = servicekit.Route

// Routes lists the service's API routes; the OpenAPI file describes
// exactly these (tested).
func Routes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/v1/craftsmen", Name: "RegisterCraftsman"},
		{Method: "PATCH", Pattern: "/v1/craftsmen/{craftsmanId}", Name: "UpdateProfile"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/trades", Name: "EnterTrade"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/employments", Name: "StartEmployment"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/employments/{employmentId}/end", Name: "EndEmployment"},
		{Method: "POST", Pattern: "/v1/academies", Name: "RegisterAcademy"},
		{Method: "POST", Pattern: "/v1/academies/{academyId}/courses", Name: "AddCourse"},
		{Method: "POST", Pattern: "/v1/issuers", Name: "RegisterIssuer"},
		{Method: "POST", Pattern: "/v1/issuers/{issuerId}/users", Name: "AddIssuerUser"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/forget", Name: "ForgetCraftsman"},
		{Method: "POST", Pattern: "/v1/craftsmen/{craftsmanId}/corrections", Name: "Correct"},
		{Method: "POST", Pattern: "/v1/backfill/craftsmen", Name: "BackfillCraftsmen"},
		{Method: "POST", Pattern: "/v1/backfill/employments", Name: "BackfillEmployments"},
		{Method: "POST", Pattern: "/v1/backfill/trades", Name: "BackfillTrades"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
	// Backfill configures the bulk endpoints (workers, progress callback).
	Backfill command.Backfill
}

// NewHTTPHandler serves the registry's JSON API (Routes) for svc. Every
// route needs a bearer token signed with key; errors use kit.EncodeError's
// body. It serves no /healthz, /readyz or /metrics: the binary (or the
// all-in-one) mounts those beside it.
func NewHTTPHandler(svc Service, logger *slog.Logger, key auth.Key, o HTTPOptions) http.Handler {
	mw := []endpoint.Middleware{auth.EndpointMiddleware(key)}
	if o.Limiter != nil {
		mw = append(mw, o.Limiter.Endpoint())
	}
	set := NewSet(svc, mw...)
	opts := kit.ServerOptions(logger, httptransport.ServerBefore(command.HTTPToContext))
	byName := map[string]http.Handler{
		"RegisterCraftsman": httptransport.NewServer(set.RegisterCraftsman, command.DecodeRequest[RegisterCraftsmanRequest](false, nil), command.EncodeResponse, opts...),
		"UpdateProfile": httptransport.NewServer(set.UpdateProfile, command.DecodeRequest(false, func(q *UpdateProfileRequest, r *http.Request) {
			q.CraftsmanID = r.PathValue("craftsmanId")
		}), command.EncodeResponse, opts...),
		"EnterTrade": httptransport.NewServer(set.EnterTrade, command.DecodeRequest(false, func(q *EnterTradeRequest, r *http.Request) {
			q.CraftsmanID = r.PathValue("craftsmanId")
		}), command.EncodeResponse, opts...),
		"StartEmployment": httptransport.NewServer(set.StartEmployment, command.DecodeRequest(false, func(q *StartEmploymentRequest, r *http.Request) {
			q.CraftsmanID = r.PathValue("craftsmanId")
		}), command.EncodeResponse, opts...),
		"EndEmployment": httptransport.NewServer(set.EndEmployment, command.DecodeRequest(true, func(q *EndEmploymentRequest, r *http.Request) {
			q.CraftsmanID, q.EmploymentID = r.PathValue("craftsmanId"), r.PathValue("employmentId")
		}), command.EncodeResponse, opts...),
		"RegisterAcademy": httptransport.NewServer(set.RegisterAcademy, command.DecodeRequest[RegisterAcademyRequest](false, nil), command.EncodeResponse, opts...),
		"AddCourse": httptransport.NewServer(set.AddCourse, command.DecodeRequest(false, func(q *AddCourseRequest, r *http.Request) {
			q.AcademyID = r.PathValue("academyId")
		}), command.EncodeResponse, opts...),
		"ForgetCraftsman": httptransport.NewServer(set.ForgetCraftsman, command.DecodeRequest(false, func(q *ForgetCraftsmanRequest, r *http.Request) {
			q.CraftsmanID = r.PathValue("craftsmanId")
		}), command.EncodeResponse, opts...),
		"Correct": httptransport.NewServer(set.Correct, command.DecodeRequest(false, func(q *servicekit.CorrectionRequest, r *http.Request) {
			q.CraftsmanID = r.PathValue("craftsmanId")
		}), command.EncodeResponse, opts...),
		"RegisterIssuer": httptransport.NewServer(set.RegisterIssuer, command.DecodeRequest[RegisterIssuerRequest](false, nil), command.EncodeResponse, opts...),
		"AddIssuerUser": httptransport.NewServer(set.AddIssuerUser, command.DecodeRequest(false, func(q *AddIssuerUserRequest, r *http.Request) {
			q.IssuerID = r.PathValue("issuerId")
		}), command.EncodeResponse, opts...),
	}
	authed := auth.HTTPMiddleware(key, kit.EncodeError)
	limit := kit.LimitHTTP(o.Limiter)
	byName["BackfillCraftsmen"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareCraftsman)}))
	byName["BackfillEmployments"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareEmployment)}))
	byName["BackfillTrades"] = authed(limit(command.BackfillHandler{Backfill: o.Backfill, Encode: kit.EncodeError,
		Prepare: servicekit.ImportPrepare(svc, prepareTrade)}))

	mux := http.NewServeMux()
	for _, rt := range Routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, byName[rt.Name])
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}
