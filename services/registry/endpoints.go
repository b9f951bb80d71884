package registry

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/command"
)

// Set holds one go-kit endpoint per Service method.
type Set struct {
	RegisterCraftsman endpoint.Endpoint
	UpdateProfile     endpoint.Endpoint
	EnterTrade        endpoint.Endpoint
	StartEmployment   endpoint.Endpoint
	EndEmployment     endpoint.Endpoint
	RegisterAcademy   endpoint.Endpoint
	AddCourse         endpoint.Endpoint
	RegisterIssuer    endpoint.Endpoint
	AddIssuerUser     endpoint.Endpoint
	ForgetCraftsman   endpoint.Endpoint
	Correct           endpoint.Endpoint
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
		RegisterCraftsman: wrap(makeEndpoint(svc.RegisterCraftsman)),
		UpdateProfile:     wrap(makeEndpoint(svc.UpdateProfile)),
		EnterTrade:        wrap(makeEndpoint(svc.EnterTrade)),
		StartEmployment:   wrap(makeEndpoint(svc.StartEmployment)),
		EndEmployment:     wrap(makeEndpoint(svc.EndEmployment)),
		RegisterAcademy:   wrap(makeEndpoint(svc.RegisterAcademy)),
		AddCourse:         wrap(makeEndpoint(svc.AddCourse)),
		RegisterIssuer:    wrap(makeEndpoint(svc.RegisterIssuer)),
		AddIssuerUser:     wrap(makeEndpoint(svc.AddIssuerUser)),
		ForgetCraftsman:   wrap(makeEndpoint(svc.ForgetCraftsman)),
		Correct:           wrap(makeEndpoint(svc.Correct)),
	}
}

func makeEndpoint[Req any](f func(context.Context, Req) (command.Result, error)) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return f(ctx, request.(Req))
	}
}
