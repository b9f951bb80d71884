package kit

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Metrics holds one server's Prometheus registry (no global registry) with
// the request metrics every server exposes:
//
//	craftledger_requests_total{service,endpoint,code}            counter
//	craftledger_request_duration_seconds{service,endpoint,code}  histogram
//	craftledger_backfill_lines_total{service,code}               counter
//
// code is "OK" or the errs.Code of the failure. Go runtime and process
// collectors are registered too. Servers add their own collectors with
// Registry().MustRegister.
type Metrics struct {
	service  string
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	backfill *prometheus.CounterVec
	// ok holds each endpoint's series for code "OK" (endpoint -> *series),
	// the outcome of nearly every request: looked up once, not per request.
	ok sync.Map
}

// series is one endpoint and code's counter and histogram.
type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// NewMetrics creates the registry for service (the "service" label).
func NewMetrics(service string) *Metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"service": service}
	m := &Metrics{
		service: service,
		reg:     reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "craftledger", Name: "requests_total",
			Help:        "Requests handled, by endpoint and outcome code.",
			ConstLabels: labels,
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "craftledger", Name: "request_duration_seconds",
			Help:        "Request latency, by endpoint and outcome code.",
			ConstLabels: labels,
			Buckets:     []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint", "code"}),
		backfill: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "craftledger", Name: "backfill_lines_total",
			Help:        "Back-filled lines finished, by outcome code (OK, replays included, or the line's error kind).",
			ConstLabels: labels,
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.latency, m.backfill,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the server's registry, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format (/metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// WatchBreaker exports a circuit breaker's state as
// craftledger_breaker_state{service,breaker} (0 closed, 1 half-open, 2 open),
// read from state at scrape time (e.g. eventstore.Client.BreakerState).
func (m *Metrics) WatchBreaker(name string, state func() string) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "craftledger", Name: "breaker_state",
		Help:        "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		ConstLabels: prometheus.Labels{"service": m.service, "breaker": name},
	}, func() float64 {
		switch state() {
		case "closed":
			return 0
		case "half-open":
			return 1
		}
		return 2
	}))
}

// Observe records one request of endpoint name that took d and ended in
// err (nil for success).
func (m *Metrics) Observe(name string, d time.Duration, err error) {
	code := "OK"
	if err != nil {
		code = errs.Code(err)
	}
	m.observe(name, code, d)
}

// observe counts one request of endpoint name that ended with code after d.
func (m *Metrics) observe(name, code string, d time.Duration) {
	if code != "OK" {
		m.requests.WithLabelValues(name, code).Inc()
		m.latency.WithLabelValues(name, code).Observe(d.Seconds())
		return
	}
	v, ok := m.ok.Load(name)
	if !ok {
		v, _ = m.ok.LoadOrStore(name, &series{requests: m.requests.WithLabelValues(name, code), latency: m.latency.WithLabelValues(name, code)})
	}
	s := v.(*series)
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}

// BackfillLine counts one back-filled line that finished with code ("OK"
// or the errs.Code of its failure).
func (m *Metrics) BackfillLine(code string) {
	m.backfill.WithLabelValues(code).Inc()
}

// Endpoint is go-kit's instrumenting middleware for endpoint name.
func (m *Metrics) Endpoint(name string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (resp any, err error) {
			defer func(begin time.Time) { m.Observe(name, time.Since(begin), err) }(time.Now())
			return next(ctx, req)
		}
	}
}

// HTTP instruments a plain handler (e.g. GraphQL) as endpoint name; the
// outcome code is derived from the response status.
func (m *Metrics) HTTP(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		code := "OK"
		if sw.status >= 400 {
			code = statusCode(sw.status)
		}
		m.observe(name, code, time.Since(begin))
	})
}

// statusCode maps an HTTP status back to the errs code it stands for.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return errs.InvalidArgument.Error()
	case http.StatusUnauthorized:
		return errs.Unauthenticated.Error()
	case http.StatusForbidden:
		return errs.PermissionDenied.Error()
	case http.StatusNotFound:
		return errs.NotFound.Error()
	case http.StatusConflict:
		return errs.Conflict.Error()
	case http.StatusUnprocessableEntity:
		return errs.FailedPrecondition.Error()
	case http.StatusTooManyRequests:
		return errs.ResourceExhausted.Error()
	case http.StatusServiceUnavailable:
		return errs.Unavailable.Error()
	case http.StatusGatewayTimeout:
		return errs.DeadlineExceeded.Error()
	}
	return errs.Internal.Error()
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
