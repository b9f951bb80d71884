package mentorship

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Set holds one go-kit endpoint per Service method.
type Set struct {
	StartMentorship    endpoint.Endpoint
	LogSession         endpoint.Endpoint
	CompleteMentorship endpoint.Endpoint
	EndMentorship      endpoint.Endpoint
	Correct            endpoint.Endpoint
}

// NewSet builds the endpoints of svc, each wrapped in mw (outermost first).
func NewSet(svc Service, mw ...endpoint.Middleware) Set {
	wrap := func(e endpoint.Endpoint) endpoint.Endpoint {
		for i := len(mw) - 1; i >= 0; i-- {
			e = mw[i](e)
		}
		return e
	}
	return Set{
		StartMentorship:    wrap(makeEndpoint(svc.StartMentorship)),
		LogSession:         wrap(makeEndpoint(svc.LogSession)),
		CompleteMentorship: wrap(makeEndpoint(svc.CompleteMentorship)),
		EndMentorship:      wrap(makeEndpoint(svc.EndMentorship)),
		Correct:            wrap(makeEndpoint(svc.Correct)),
	}
}

func makeEndpoint[Req, Resp any](f func(context.Context, Req) (Resp, error)) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return f(ctx, request.(Req))
	}
}
