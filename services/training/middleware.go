package training

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
		return logging{next: next, cl: servicekit.CommandLog{Logger: logger, Service: "training", Subject: "craftsman"}}
	}
}

type logging struct {
	next Service
	cl   servicekit.CommandLog
}

func (mw logging) log(ctx context.Context, method, craftsman string, begin time.Time, res command.Result, err error) {
	mw.cl.Done(ctx, method, craftsman, begin, err, func() []any { return servicekit.ResultAttrs(res) })
}

// Unwrap returns the decorated service.
func (mw logging) Unwrap() Service { return mw.next }

func (mw logging) Enrol(ctx context.Context, req EnrolRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "Enrol", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.Enrol(ctx, req)
}

func (mw logging) CompleteTraining(ctx context.Context, req CompleteTrainingRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "CompleteTraining", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.CompleteTraining(ctx, req)
}

func (mw logging) RecordGraduation(ctx context.Context, req GraduationRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RecordGraduation", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.RecordGraduation(ctx, req)
}

func (mw logging) RecordTitle(ctx context.Context, req TitleRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RecordTitle", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.RecordTitle(ctx, req)
}

func (mw logging) RecordAssessment(ctx context.Context, req AssessmentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RecordAssessment", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.RecordAssessment(ctx, req)
}

func (mw logging) CertifySkillLevel(ctx context.Context, req CertifyRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "CertifySkillLevel", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.CertifySkillLevel(ctx, req)
}

// InstrumentingMiddleware counts commands and their latency by method and
// outcome code in m (endpoint label "training.<Method>").
func InstrumentingMiddleware(m *kit.Metrics) Middleware {
	return func(next Service) Service { return instrumenting{next: next, m: m} }
}

type instrumenting struct {
	next Service
	m    *kit.Metrics
}

// observe records a command of endpoint name ("training.<Method>", a constant:
// nothing is built per command).
func (mw instrumenting) observe(name string, begin time.Time, err error) {
	mw.m.Observe(name, time.Since(begin), err)
}

// Unwrap returns the decorated service.
func (mw instrumenting) Unwrap() Service { return mw.next }

func (mw instrumenting) Enrol(ctx context.Context, req EnrolRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.Enrol", b, err) }(time.Now())
	return mw.next.Enrol(ctx, req)
}

func (mw instrumenting) CompleteTraining(ctx context.Context, req CompleteTrainingRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.CompleteTraining", b, err) }(time.Now())
	return mw.next.CompleteTraining(ctx, req)
}

func (mw instrumenting) RecordGraduation(ctx context.Context, req GraduationRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.RecordGraduation", b, err) }(time.Now())
	return mw.next.RecordGraduation(ctx, req)
}

func (mw instrumenting) RecordTitle(ctx context.Context, req TitleRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.RecordTitle", b, err) }(time.Now())
	return mw.next.RecordTitle(ctx, req)
}

func (mw instrumenting) RecordAssessment(ctx context.Context, req AssessmentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.RecordAssessment", b, err) }(time.Now())
	return mw.next.RecordAssessment(ctx, req)
}

func (mw instrumenting) CertifySkillLevel(ctx context.Context, req CertifyRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.CertifySkillLevel", b, err) }(time.Now())
	return mw.next.CertifySkillLevel(ctx, req)
}

func (mw logging) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "Correct", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}

func (mw instrumenting) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("training.Correct", b, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}
