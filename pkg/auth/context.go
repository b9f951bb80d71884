package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-kit/kit/endpoint"

	"github.com/craftledger/craftledger/pkg/errs"
)

type claimsKey struct{}
type tokenKey struct{}

// WithClaims returns ctx carrying the caller's verified claims.
func WithClaims(ctx context.Context, c Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the verified claims in ctx, if any.
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// Require returns the claims in ctx or errs.Unauthenticated.
func Require(ctx context.Context) (Claims, error) {
	c, ok := FromContext(ctx)
	if !ok {
		return Claims{}, errNoCredentials()
	}
	return c, nil
}

// errNoCredentials is the refusal of a request without a token.
func errNoCredentials() error {
	return errs.E(errs.Unauthenticated, "no credentials: send Authorization: Bearer <token>")
}

// WithToken returns ctx carrying a raw, not yet verified bearer token.
func WithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// TokenFromContext returns the raw bearer token stored by WithToken or
// HTTPToContext.
func TokenFromContext(ctx context.Context) (string, bool) {
	t, ok := ctx.Value(tokenKey{}).(string)
	return t, ok && t != ""
}

// BearerToken extracts the token of an "Authorization: Bearer <token>"
// header; ok is false when there is none.
func BearerToken(r *http.Request) (token string, ok bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// FromRequest verifies the request's bearer token. A missing token is
// errs.Unauthenticated too.
func FromRequest(key Key, r *http.Request) (Claims, error) {
	tok, err := bearer(r)
	if err != nil {
		return Claims{}, err
	}
	return Verify(key, tok)
}

// bearer is the request's bearer token, or the refusal of a request
// without one.
func bearer(r *http.Request) (string, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return "", errNoCredentials()
	}
	return tok, nil
}

// HTTPToContext is a go-kit http RequestFunc (httptransport.ServerBefore)
// that moves the raw bearer token into the context for EndpointMiddleware.
func HTTPToContext(ctx context.Context, r *http.Request) context.Context {
	if tok, ok := BearerToken(r); ok {
		return WithToken(ctx, tok)
	}
	return ctx
}

// ErrorEncoder writes err as an HTTP response; kit.EncodeError fits.
type ErrorEncoder func(ctx context.Context, err error, w http.ResponseWriter)

// HTTPMiddleware requires a valid bearer token on every request, stores
// its claims in the request context (WithClaims) and answers failures
// through encode (errs.Unauthenticated, 401). Tokens are verified by one
// Verifier per middleware.
func HTTPMiddleware(key Key, encode ErrorEncoder) func(http.Handler) http.Handler {
	v := NewVerifier(key)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := bearer(r)
			var c Claims
			if err == nil {
				c, err = v.Verify(tok)
			}
			if err != nil {
				encode(r.Context(), err, w)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
		})
	}
}

// OptionalHTTPMiddleware stores the claims of a valid bearer token in the
// request context and lets requests without a token through unchanged (the
// handler decides, e.g. per GraphQL field); an invalid token is refused.
func OptionalHTTPMiddleware(key Key, encode ErrorEncoder) func(http.Handler) http.Handler {
	v := NewVerifier(key)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := BearerToken(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			c, err := v.Verify(tok)
			if err != nil {
				encode(r.Context(), err, w)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
		})
	}
}

// EndpointMiddleware is a go-kit endpoint middleware requiring a caller:
// it accepts claims already in the context (HTTPMiddleware ran) or verifies
// the raw token HTTPToContext stored, and otherwise fails with
// errs.Unauthenticated. Tokens are verified by one Verifier per
// middleware (a service's endpoints share it).
func EndpointMiddleware(key Key) endpoint.Middleware {
	v := NewVerifier(key)
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			if _, ok := FromContext(ctx); ok {
				return next(ctx, req)
			}
			tok, ok := TokenFromContext(ctx)
			if !ok {
				return nil, errNoCredentials()
			}
			c, err := v.Verify(tok)
			if err != nil {
				return nil, err
			}
			return next(WithClaims(ctx, c), req)
		}
	}
}

// RequireRoles is a go-kit endpoint middleware admitting only callers with
// one of roles (after EndpointMiddleware); others get errs.PermissionDenied.
func RequireRoles(roles ...Role) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req any) (any, error) {
			c, err := Require(ctx)
			if err != nil {
				return nil, err
			}
			if err := c.RequireRole(roles...); err != nil {
				return nil, err
			}
			return next(ctx, req)
		}
	}
}
