package registry

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
// business rejections, Error for infrastructure failures. National ID
// numbers and personal data are never logged.
func LoggingMiddleware(logger *slog.Logger) Middleware {
	return func(next Service) Service {
		return logging{next: next, cl: servicekit.CommandLog{Logger: logger, Service: "registry", Subject: "subject"}}
	}
}

type logging struct {
	next Service
	cl   servicekit.CommandLog
}

func (mw logging) log(ctx context.Context, method, subject string, begin time.Time, res command.Result, err error) {
	mw.cl.Done(ctx, method, subject, begin, err, func() []any { return servicekit.ResultAttrs(res) })
}

// Unwrap returns the decorated service.
func (mw logging) Unwrap() Service { return mw.next }

func (mw logging) RegisterCraftsman(ctx context.Context, req RegisterCraftsmanRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RegisterCraftsman", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.RegisterCraftsman(ctx, req)
}

func (mw logging) UpdateProfile(ctx context.Context, req UpdateProfileRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "UpdateProfile", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.UpdateProfile(ctx, req)
}

func (mw logging) EnterTrade(ctx context.Context, req EnterTradeRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "EnterTrade", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.EnterTrade(ctx, req)
}

func (mw logging) StartEmployment(ctx context.Context, req StartEmploymentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "StartEmployment", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.StartEmployment(ctx, req)
}

func (mw logging) EndEmployment(ctx context.Context, req EndEmploymentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "EndEmployment", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.EndEmployment(ctx, req)
}

func (mw logging) RegisterAcademy(ctx context.Context, req RegisterAcademyRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RegisterAcademy", req.AcademyID, b, res, err) }(time.Now())
	return mw.next.RegisterAcademy(ctx, req)
}

func (mw logging) AddCourse(ctx context.Context, req AddCourseRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "AddCourse", req.AcademyID, b, res, err) }(time.Now())
	return mw.next.AddCourse(ctx, req)
}

func (mw logging) RegisterIssuer(ctx context.Context, req RegisterIssuerRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "RegisterIssuer", req.IssuerID, b, res, err) }(time.Now())
	return mw.next.RegisterIssuer(ctx, req)
}

func (mw logging) AddIssuerUser(ctx context.Context, req AddIssuerUserRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "AddIssuerUser", req.IssuerID, b, res, err) }(time.Now())
	return mw.next.AddIssuerUser(ctx, req)
}

func (mw logging) ForgetCraftsman(ctx context.Context, req ForgetCraftsmanRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "ForgetCraftsman", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.ForgetCraftsman(ctx, req)
}

// InstrumentingMiddleware counts commands and their latency by method and
// outcome code in m (craftledger_requests_total and
// craftledger_request_duration_seconds, endpoint label "registry.<Method>").
func InstrumentingMiddleware(m *kit.Metrics) Middleware {
	return func(next Service) Service { return instrumenting{next: next, m: m} }
}

type instrumenting struct {
	next Service
	m    *kit.Metrics
}

// observe records a command of endpoint name ("registry.<Method>", a constant:
// nothing is built per command).
func (mw instrumenting) observe(name string, begin time.Time, err error) {
	mw.m.Observe(name, time.Since(begin), err)
}

// Unwrap returns the decorated service.
func (mw instrumenting) Unwrap() Service { return mw.next }

func (mw instrumenting) RegisterCraftsman(ctx context.Context, req RegisterCraftsmanRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.RegisterCraftsman", b, err) }(time.Now())
	return mw.next.RegisterCraftsman(ctx, req)
}

func (mw instrumenting) UpdateProfile(ctx context.Context, req UpdateProfileRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.UpdateProfile", b, err) }(time.Now())
	return mw.next.UpdateProfile(ctx, req)
}

func (mw instrumenting) EnterTrade(ctx context.Context, req EnterTradeRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.EnterTrade", b, err) }(time.Now())
	return mw.next.EnterTrade(ctx, req)
}

func (mw instrumenting) StartEmployment(ctx context.Context, req StartEmploymentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.StartEmployment", b, err) }(time.Now())
	return mw.next.StartEmployment(ctx, req)
}

func (mw instrumenting) EndEmployment(ctx context.Context, req EndEmploymentRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.EndEmployment", b, err) }(time.Now())
	return mw.next.EndEmployment(ctx, req)
}

func (mw instrumenting) RegisterAcademy(ctx context.Context, req RegisterAcademyRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.RegisterAcademy", b, err) }(time.Now())
	return mw.next.RegisterAcademy(ctx, req)
}

func (mw instrumenting) AddCourse(ctx context.Context, req AddCourseRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.AddCourse", b, err) }(time.Now())
	return mw.next.AddCourse(ctx, req)
}

func (mw instrumenting) RegisterIssuer(ctx context.Context, req RegisterIssuerRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.RegisterIssuer", b, err) }(time.Now())
	return mw.next.RegisterIssuer(ctx, req)
}

func (mw instrumenting) AddIssuerUser(ctx context.Context, req AddIssuerUserRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.AddIssuerUser", b, err) }(time.Now())
	return mw.next.AddIssuerUser(ctx, req)
}

func (mw instrumenting) ForgetCraftsman(ctx context.Context, req ForgetCraftsmanRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.ForgetCraftsman", b, err) }(time.Now())
	return mw.next.ForgetCraftsman(ctx, req)
}

func (mw logging) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.log(ctx, "Correct", req.CraftsmanID, b, res, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}

func (mw instrumenting) Correct(ctx context.Context, req servicekit.CorrectionRequest) (res command.Result, err error) {
	defer func(b time.Time) { mw.observe("registry.Correct", b, err) }(time.Now())
	return mw.next.Correct(ctx, req)
}
