package competition

import (
	"context"
	"log/slog"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Middleware decorates a Service.
type Middleware func(Service) Service

// LoggingMiddleware logs one line per command: Debug on success, Info for
// business rejections, Error for infrastructure failures.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return logging{next: next, cl: servicekit.CommandLog{Logger: logger, Service: "competition", Subject: "subject"}}
	}
}

type logging struct {
	next Service
	cl   servicekit.CommandLog
}

// Unwrap returns the decorated service.
func (mw logging) Unwrap() Service { return mw.next }

func (mw logging) log(ctx context.Context, method, subject string, begin time.Time, res command.Result, err error, extra ...any) {
	mw.cl.Done(ctx, method, subject, begin, err, func() []any { return append(servicekit.ResultAttrs(res), extra...) })
}

func (mw logging) DefineCompetition(ctx context.Context, req DefineCompetitionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "DefineCompetition", req.CompetitionID, b, res, err) }(time.Now())
	return mw.next.DefineCompetition(ctx, req)
}

func (mw logging) PublishResults(ctx context.Context, req PublishResultsRequest) (res PublishResultsResponse, err error) {
	defer func(b time.Time) {
		mw.log(ctx, "PublishResults", req.CompetitionID, b, res.Publication, err, "placements", len(res.Placements), "allReplayed", res.Replayed)
	}(time.Now())
	return mw.next.PublishResults(ctx, req)
}

func (mw logging) ApproveEntitlement(ctx context.Context, req ApproveEntitlementRequest) (res command.Result, err error) {
	defer func(b time.Time) {
		mw.log(ctx, "ApproveEntitlement", req.CraftsmanID+"/"+req.EntitlementID, b, res, err)
	}(time.Now())
	return mw.next.ApproveEntitlement(ctx, req)
}

func (mw logging) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res CorrectionResult, err error) {
	defer func(b time.Time) { mw.log(ctx, "Correct", req.CraftsmanID, b, res.Result, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}

// InstrumentingMiddleware counts commands and their latency by method and
// outcome code in m (craftledger_requests_total and
// craftledger_request_duration_seconds, endpoint label
// "competition.<Method>").
func InstrumentingMiddleware(m *kit.Metrics) Middleware {
	return func(next Service) Service { return instrumenting{next: next, m: m} }
}

type instrumenting struct {
	next Service
	m    *kit.Metrics
}

// Unwrap returns the decorated service.
func (mw instrumenting) Unwrap() Service { return mw.next }

// observe records a command of endpoint name ("competition.<Method>", a constant:
// nothing is built per command).
func (mw instrumenting) observe(name string, begin time.Time, err error) {
	mw.m.Observe(name, time.Since(begin), err)
}

func (mw instrumenting) DefineCompetition(ctx context.Context, req DefineCompetitionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("competition.DefineCompetition", b, err) }(time.Now())
	return mw.next.DefineCompetition(ctx, req)
}

func (mw instrumenting) PublishResults(ctx context.Context, req PublishResultsRequest) (res PublishResultsResponse, err error) {
	defer func(b time.Time) { mw.observe("competition.PublishResults", b, err) }(time.Now())
	return mw.next.PublishResults(ctx, req)
}

func (mw instrumenting) ApproveEntitlement(ctx context.Context, req ApproveEntitlementRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("competition.ApproveEntitlement", b, err) }(time.Now())
	return mw.next.ApproveEntitlement(ctx, req)
}

func (mw instrumenting) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res CorrectionResult, err error) {
	defer func(b time.Time) { mw.observe("competition.Correct", b, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}
