package training

import (
	"context"

	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/command"
)

// Set holds one go-kit endpoint per Service method.
type Set struct {
	Enrol             endpoint.Endpoint
	CompleteTraining  endpoint.Endpoint
	RecordGraduation  endpoint.Endpoint
	RecordTitle       endpoint.Endpoint
	RecordAssessment  endpoint.Endpoint
	CertifySkillLevel endpoint.Endpoint
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
		Enrol:             wrap(makeEndpoint(svc.Enrol)),
		CompleteTraining:  wrap(makeEndpoint(svc.CompleteTraining)),
		RecordGraduation:  wrap(makeEndpoint(svc.RecordGraduation)),
		RecordTitle:       wrap(makeEndpoint(svc.RecordTitle)),
		RecordAssessment:  wrap(makeEndpoint(svc.RecordAssessment)),
		CertifySkillLevel: wrap(makeEndpoint(svc.CertifySkillLevel)),
		Correct:           wrap(makeEndpoint(svc.Correct)),
	}
}

func makeEndpoint[Req any](f func(context.Context, Req) (command.Result, error)) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return f(ctx, request.(Req))
	}
}
