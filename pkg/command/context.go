package command

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// HTTP headers a command request may carry.
const (
	// HeaderIdempotencyKey makes a command safe to retry (IETF
	// draft-ietf-httpapi-idempotency-key-header).
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderCorrelationID and HeaderCausationID become $correlationId and
	// $causationId of the events written.
	HeaderCorrelationID = "X-Correlation-ID"
	HeaderCausationID   = "X-Causation-ID"
)

// MaxKeyLen bounds an idempotency key.
const MaxKeyLen = 200

type requestKey struct{}

type request struct {
	key, correlation, causation string
	// fromHeaders marks ids a client sent (HTTPToContext): their
	// characters are checked (ValidRequestID).
	fromHeaders bool
}

type sourceKey struct{}

// WithSource returns ctx whose commands record source (Meta.Source):
// "import" for back-filled records, "system" for generated ones.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// WithRequest returns ctx carrying a command's idempotency key and
// correlation/causation ids (what HTTPToContext takes from headers).
func WithRequest(ctx context.Context, key, correlationID, causationID string) context.Context {
	return context.WithValue(ctx, requestKey{}, request{key: key, correlation: correlationID, causation: causationID})
}

// HTTPToContext is a go-kit http RequestFunc (httptransport.ServerBefore)
// moving Idempotency-Key, X-Correlation-ID and X-Causation-ID into the
// context for MetaFrom.
func HTTPToContext(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, requestKey{}, request{
		key:         strings.TrimSpace(r.Header.Get(HeaderIdempotencyKey)),
		correlation: strings.TrimSpace(r.Header.Get(HeaderCorrelationID)),
		causation:   strings.TrimSpace(r.Header.Get(HeaderCausationID)),
		fromHeaders: true,
	})
}

// ValidRequestID reports whether id may be a correlation or causation id
// sent as a header: letters, digits and _ . : - (the characters of an
// events.ValidID), at most MaxKeyLen of them. The ids are stored in the
// events' metadata as sent and exported to CSV and shown in audits, so
// nothing else gets in: no spreadsheet formula (=HYPERLINK(…)), no markup,
// no control characters.
func ValidRequestID(id string) error {
	if len(id) > MaxKeyLen {
		return fmt.Errorf("longer than %d characters", MaxKeyLen)
	}
	for _, c := range id {
		if !events.IDChar(c) {
			return fmt.Errorf("has character %q (use letters, digits, _ . : -)", c)
		}
	}
	return nil
}

// KeyFrom returns the idempotency key in ctx, if any.
func KeyFrom(ctx context.Context) string {
	r, _ := ctx.Value(requestKey{}).(request)
	return r.key
}

// MetaFrom builds a command's Meta from the verified caller (auth claims)
// and the request ids in ctx. The issuer organisation is the caller's
// organisation; callers acting for another (admins) set Issuer themselves.
// A missing caller is errs.Unauthenticated; an over-long key, or a
// correlation or causation header that is not a ValidRequestID, is
// errs.InvalidArgument.
func MetaFrom(ctx context.Context) (Meta, auth.Claims, error) {
	c, err := auth.Require(ctx)
	if err != nil {
		return Meta{}, c, err
	}
	r, _ := ctx.Value(requestKey{}).(request)
	for _, h := range [...]struct{ name, v string }{{HeaderIdempotencyKey, r.key}, {HeaderCorrelationID, r.correlation}, {HeaderCausationID, r.causation}} {
		if len(h.v) > MaxKeyLen {
			return Meta{}, c, errs.E(errs.InvalidArgument, "header %s: longer than %d characters", h.name, MaxKeyLen)
		}
		// Ids a caller sent name no spreadsheet formula; keys may be anything.
		if r.fromHeaders && h.name != HeaderIdempotencyKey {
			if err := ValidRequestID(h.v); err != nil {
				return Meta{}, c, errs.E(errs.InvalidArgument, "header %s: %v", h.name, err)
			}
		}
	}
	source, _ := ctx.Value(sourceKey{}).(string)
	return Meta{
		IdempotencyKey: r.key,
		Issuer:         c.OrgID,
		Actor:          c.Subject,
		CorrelationID:  r.correlation,
		CausationID:    r.causation,
		Source:         source,
	}, c, nil
}
