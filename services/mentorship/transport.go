package mentorship

import (
	"log/slog"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
)

// Route is one HTTP route of the service (method and Go ServeMux pattern).
type Route struct {
	Method, Pattern, Name string
}

// Routes lists the service's API routes; the OpenAPI file describes
// exactly these (tested).
func Routes() []Route {
	return []Route{
		{"POST", "/v1/mentorships", "StartMentorship"},
		{"POST", "/v1/mentorships/{mentorshipId}/sessions", "LogSession"},
		{"POST", "/v1/mentorships/{mentorshipId}/complete", "CompleteMentorship"},
		{"POST", "/v1/mentorships/{mentorshipId}/end", "EndMentorship"},
	}
}

// HTTPOptions tune NewHTTPHandler.
type HTTPOptions struct {
	// Metrics, when set, instruments every route (kit.Metrics.HTTP).
	Metrics *kit.Metrics
	// Limiter, when set, rate-limits callers (429 + Retry-After).
	Limiter *kit.RateLimiter
}

// NewHTTPHandler serves the mentorship service's JSON API (Routes) for
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
		"StartMentorship": httptransport.NewServer(set.StartMentorship, command.DecodeRequest[StartRequest](false, nil), kit.EncodeJSON, opts...),
		"LogSession": httptransport.NewServer(set.LogSession, command.DecodeRequest(false, func(q *LogSessionRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
		"CompleteMentorship": httptransport.NewServer(set.CompleteMentorship, command.DecodeRequest(false, func(q *CompleteRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
		"EndMentorship": httptransport.NewServer(set.EndMentorship, command.DecodeRequest(false, func(q *EndRequest, r *http.Request) {
			q.MentorshipID = r.PathValue("mentorshipId")
		}), kit.EncodeJSON, opts...),
	}
	mux := http.NewServeMux()
	for _, rt := range Routes() {
		h := byName[rt.Name]
		if o.Metrics != nil {
			h = o.Metrics.HTTP("mentorship."+rt.Name, h)
		}
		mux.Handle(rt.Method+" "+rt.Pattern, h)
	}
	mux.Handle("/", command.NotFoundHandler())
	return mux
}
