package mentorship

import (
	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/servicekit"
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
		StartMentorship:    wrap(servicekit.Endpoint(svc.StartMentorship)),
		LogSession:         wrap(servicekit.Endpoint(svc.LogSession)),
		CompleteMentorship: wrap(servicekit.Endpoint(svc.CompleteMentorship)),
		EndMentorship:      wrap(servicekit.Endpoint(svc.EndMentorship)),
		Correct:            wrap(servicekit.Endpoint(svc.Correct)),
	}
}
