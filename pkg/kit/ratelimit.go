package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"golang.org/x/time/rate"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// RateLimiter limits requests per caller with one token bucket
// (golang.org/x/time/rate) per key. The key is the token's subject when
// claims are in the context, else a hash of the raw bearer token, else the
// client's IP. Refused requests are errs.ResourceExhausted carrying a
// Retry-After hint (429 through EncodeError). Buckets idle for longer than
// the idle period are dropped.
type RateLimiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewRateLimiter allows perSecond requests per caller on average with
// bursts of burst (at least 1).
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	return NewRateLimiterClock(perSecond, burst, time.Now)
}

// NewRateLimiterClock is NewRateLimiter with an injected clock.
func NewRateLimiterClock(perSecond float64, burst int, now func() time.Time) *RateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &RateLimiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		idle:    10 * time.Minute,
		now:     now,
		buckets: make(map[string]*bucket),
	}
}

// Allow takes one request from key's bucket. When refused, retryAfter says
// when the next request would be allowed.
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	if now.After(l.sweepAt) {
		for k, v := range l.buckets {
			if now.Sub(v.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.sweepAt = now.Add(l.idle)
	}
	l.mu.Unlock()

	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *RateLimiter) refuse(key string) error {
	ok, after := l.Allow(key)
	if ok {
		return nil
	}
	return WithRetryAfter(errs.E(errs.ResourceExhausted, "rate limit exceeded; retry in %s", after.Round(time.Millisecond)), after)
}

// CallerKey is the rate-limit key of a request context (see RateLimiter).
func CallerKey(ctx context.Context, r *http.Request) string {
	if c, ok := auth.FromContext(ctx); ok {
		return "sub:" + c.Subject
	}
	tok, ok := auth.TokenFromContext(ctx)
	if !ok && r != nil {
		tok, ok = auth.BearerToken(r)
	}
	if ok {
		sum := sha256.Sum256([]byte(tok))
		return "tok:" + hex.EncodeToString(sum[:8])
	}
	if r != nil {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return "ip:" + host
	}
	return "anonymous"
}

// HTTP wraps h, answering 429 with Retry-After when the caller is over its
// limit. Place it after auth.HTTPMiddleware to key by subject.
func (l *RateLimiter) HTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := l.refuse(CallerKey(r.Context(), r)); err != nil {
			EncodeError(r.Context(), err, w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// LimitHTTP is l.HTTP as a middleware that leaves handlers as they are
// when l is nil (rate limiting off).
func LimitHTTP(l *RateLimiter) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		if l != nil {
			return l.HTTP(h)
		}
		return h
	}
}

// Endpoint is the go-kit endpoint middleware form of HTTP (place it after
// auth.EndpointMiddleware to key by subject).
func (l *RateLimiter) Endpoint() endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			if err := l.refuse(CallerKey(ctx, nil)); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}
	}
}
