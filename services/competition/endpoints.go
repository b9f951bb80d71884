package competition

import (
	"context"

	"github.com/go-kit/kit/endpoint"
)

// Set holds one go-kit endpoint per Service method.
type Set struct {
	DefineCompetition  endpoint.Endpoint
	PublishResults     endpoint.Endpoint
	ApproveEntitlement endpoint.Endpoint
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
		DefineCompetition:  wrap(makeEndpoint(svc.DefineCompetition)),
		PublishResults:     wrap(makeEndpoint(svc.PublishResults)),
		ApproveEntitlement: wrap(makeEndpoint(svc.ApproveEntitlement)),
		Correct:            wrap(makeEndpoint(svc.Correct)),
	}
}

func makeEndpoint[Req, Resp any](f func(context.Context, Req) (Resp, error)) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return f(ctx, request.(Req))
	}
}
