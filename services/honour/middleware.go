package honour

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
		return logging{next: next, cl: servicekit.CommandLog{Logger: logger, Service: "honour", Subject: "subject"}}
	}
}

type logging struct {
	next Service
	cl   servicekit.CommandLog
}

// Unwrap returns the decorated service.
func (mw logging) Unwrap() Service { return mw.next }

func (mw logging) log(ctx context.Context, method, subject string, begin time.Time, res command.Result, err error) {
	mw.cl.Done(ctx, method, subject, begin, err, func() []any { return servicekit.ResultAttrs(res) })
}

func (mw logging) ConferHonour(ctx context.Context, req ConferRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "ConferHonour", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.ConferHonour(ctx, req)
}

func (mw logging) WithdrawHonour(ctx context.Context, req WithdrawRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "WithdrawHonour", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.WithdrawHonour(ctx, req)
}

func (mw logging) RecogniseInnovation(ctx context.Context, req InnovationRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RecogniseInnovation", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.RecogniseInnovation(ctx, req)
}

func (mw logging) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "Correct", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}

// InstrumentingMiddleware counts commands and their latency by method and
// outcome code in m (endpoint label "honour.<Method>").
func InstrumentingMiddleware(m *kit.Metrics) Middleware {
	return func(next Service) Service { return instrumenting{next: next, m: m} }
}

type instrumenting struct {
	next Service
	m    *kit.Metrics
}

// Unwrap returns the decorated service.
func (mw instrumenting) Unwrap() Service { return mw.next }

// observe records a command of endpoint name ("honour.<Method>", a constant:
// nothing is built per command).
func (mw instrumenting) observe(name string, begin time.Time, err error) {
	mw.m.Observe(name, time.Since(begin), err)
}

func (mw instrumenting) ConferHonour(ctx context.Context, req ConferRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("honour.ConferHonour", b, err) }(time.Now())
	return mw.next.ConferHonour(ctx, req)
}

func (mw instrumenting) WithdrawHonour(ctx context.Context, req WithdrawRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("honour.WithdrawHonour", b, err) }(time.Now())
	return mw.next.WithdrawHonour(ctx, req)
}

func (mw instrumenting) RecogniseInnovation(ctx context.Context, req InnovationRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("honour.RecogniseInnovation", b, err) }(time.Now())
	return mw.next.RecogniseInnovation(ctx, req)
}

func (mw instrumenting) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("honour.Correct", b, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}
