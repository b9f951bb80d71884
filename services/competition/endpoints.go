package competition

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/servicekit"
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
		DefineCompetition:  wrap(servicekit.Endpoint(svc.DefineCompetition)),
		PublishResults:     wrap(servicekit.Endpoint(svc.PublishResults)),
		ApproveEntitlement: wrap(servicekit.Endpoint(svc.ApproveEntitlement)),
		Correct:            wrap(servicekit.Endpoint(svc.Correct)),
	}
}
