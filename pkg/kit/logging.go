package kit

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/errs"
)

// LoggingMiddleware is a go-kit endpoint middleware logging one line per
// call of endpoint name: Debug on success, Info for business rejections
// (errs.IsBusiness), Error for infrastructure failures.
func LoggingMiddleware(logger *slog.Logger, name string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (resp any, err error) {
			defer func(begin time.Time) {
				logResult(ctx, logger, "endpoint", name, time.Since(begin), err)
			}(time.Now())
			return next(ctx, req)
		}
	}
}

func logResult(ctx context.Context, logger *slog.Logger, what, name string, took time.Duration, err error) {
	switch {
	case err == nil:
		logger.DebugContext(ctx, "request", what, name, "took", took)
	case errs.IsBusiness(err):
		logger.InfoContext(ctx, "request rejected", what, name, "took", took, "code", errs.Code(err), "err", err)
	default:
		logger.ErrorContext(ctx, "request failed", what, name, "took", took, "code", errs.Code(err), "err", err)
	}
}

// AccessLog logs one line per HTTP request: method, path, status, duration
// (Info for 5xx-free answers at Debug level, Warn for 5xx).
func AccessLog(logger *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		logger.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "took", time.Since(begin))
	})
}

// ErrorHandler adapts slog to go-kit's transport.ErrorHandler
// (httptransport.ServerErrorHandler). go-kit calls it for every failed
// request, decoding and endpoint errors alike; LoggingMiddleware already
// logs endpoint outcomes, so business rejections are logged here at Debug
// only and infrastructure failures at Warn.
type ErrorHandler struct{ Logger *slog.Logger }

// Handle logs err.
func (h ErrorHandler) Handle(ctx context.Context, err error) {
	if errs.IsBusiness(err) {
		h.Logger.DebugContext(ctx, "request rejected", "code", errs.Code(err), "err", err)
		return
	}
	h.Logger.WarnContext(ctx, "request failed", "code", errs.Code(err), "err", err)
}
