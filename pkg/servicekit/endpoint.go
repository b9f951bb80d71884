package servicekit

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Endpoint adapts a service method to a go-kit endpoint. A request of the
// wrong type (a wiring mistake) is an Internal error, never a panic on the
// request path.
func Endpoint[Req, Resp any](f func(context.Context, Req) (Resp, error)) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req, ok := request.(Req)
		if !ok {
			var want Req
			return nil, errs.E(errs.Internal, "endpoint got a %T request, want %T", request, want)
		}
		return f(ctx, req)
	}
}
