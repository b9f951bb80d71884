package mentorship

import (
	"context"
	"log/slog"
	"time"

	"github.com/craftledger/craftledger/events"
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
		return logging{next: next, cl: servicekit.CommandLog{Logger: logger, Service: "mentorship", Subject: "subject"}}
	}
}

type logging struct {
	next Service
	cl   servicekit.CommandLog
}

// Unwrap returns the decorated service.
func (mw logging) Unwrap() Service { return mw.next }

func (mw logging) log(ctx context.Context, method, subject string, begin time.Time, res Response, err error) {
	mw.cl.Done(ctx, method, subject, begin, err, func() []any { return []any{"event", res.EventType, "replayed", res.Replayed} })
}

func (mw logging) StartMentorship(ctx context.Context, req StartRequest) (res Response, err error) {
	defer func(b time.Time) { mw.log(ctx, "StartMentorship", req.MentorshipID, b, res, err) }(time.Now())
	return mw.next.StartMentorship(ctx, req)
}

func (mw logging) LogSession(ctx context.Context, req LogSessionRequest) (res Response, err error) {
	defer func(b time.Time) { mw.log(ctx, "LogSession", req.MentorshipID, b, res, err) }(time.Now())
	return mw.next.LogSession(ctx, req)
}

func (mw logging) CompleteMentorship(ctx context.Context, req CompleteRequest) (res Response, err error) {
	defer func(b time.Time) { mw.log(ctx, "CompleteMentorship", req.MentorshipID, b, res, err) }(time.Now())
	return mw.next.CompleteMentorship(ctx, req)
}

func (mw logging) EndMentorship(ctx context.Context, req EndRequest) (res Response, err error) {
	defer func(b time.Time) { mw.log(ctx, "EndMentorship", req.MentorshipID, b, res, err) }(time.Now())
	return mw.next.EndMentorship(ctx, req)
}

func (mw logging) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) {
		mw.log(ctx, "Correct", req.CraftsmanID, b, Response{EventType: events.TypeEventCorrected, Replayed: res.Replayed}, err)
	}(time.Now())
	return mw.next.Correct(ctx, req)
}

// InstrumentingMiddleware counts commands and their latency by method and
// outcome code in m (endpoint label "mentorship.<Method>").
func InstrumentingMiddleware(m *kit.Metrics) Middleware {
	return func(next Service) Service { return instrumenting{next: next, m: m} }
}

type instrumenting struct {
	next Service
	m    *kit.Metrics
}

// Unwrap returns the decorated service.
func (mw instrumenting) Unwrap() Service { return mw.next }

// observe records a command of endpoint name ("mentorship.<Method>").
func (mw instrumenting) observe(name string, begin time.Time, err error) {
	mw.m.Observe(name, time.Since(begin), err)
}

func (mw instrumenting) StartMentorship(ctx context.Context, req StartRequest) (res Response, err error) {
	defer func(b time.Time) { mw.observe("mentorship.StartMentorship", b, err) }(time.Now())
	return mw.next.StartMentorship(ctx, req)
}

func (mw instrumenting) LogSession(ctx context.Context, req LogSessionRequest) (res Response, err error) {
	defer func(b time.Time) { mw.observe("mentorship.LogSession", b, err) }(time.Now())
	return mw.next.LogSession(ctx, req)
}

func (mw instrumenting) CompleteMentorship(ctx context.Context, req CompleteRequest) (res Response, err error) {
	defer func(b time.Time) { mw.observe("mentorship.CompleteMentorship", b, err) }(time.Now())
	return mw.next.CompleteMentorship(ctx, req)
}

func (mw instrumenting) EndMentorship(ctx context.Context, req EndRequest) (res Response, err error) {
	defer func(b time.Time) { mw.observe("mentorship.EndMentorship", b, err) }(time.Now())
	return mw.next.EndMentorship(ctx, req)
}

func (mw instrumenting) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("mentorship.Correct", b, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}
