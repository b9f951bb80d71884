// Package auth issues and checks craftledger's signed bearer tokens.
//
// A token is a JWT signed with HMAC-SHA256 (github.com/golang-jwt/jwt/v5)
// under one shared secret Key. Its claims name the caller (subject), its role
// (worker, hr, issuer, auditor, admin), the organisation it acts for (an
// academy or an employer) and, for workers, the craftsman they are. The same
// tokens are accepted by every go-kit service and by the GraphQL server.
//
// Verification failures (missing, malformed, tampered, wrong key, expired)
// are errs.Unauthenticated; permission helpers answer errs.PermissionDenied.
// Keys are never logged: Key's String, GoString and LogValue are redacted.
package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Issuer is the "iss" claim of every craftledger token.
const Issuer = "craftledger"

// MinKeyLen is the shortest accepted HMAC key, in bytes (RFC 7518 §3.2:
// a key at least as long as the hash output).
const MinKeyLen = 32

// Role is what a caller may do.
type Role string

// The roles.
const (
	// RoleWorker is a craftsman reading their own record.
	RoleWorker Role = "worker"
	// RoleHR is an employer's or authority's human-resources user: reads the
	// workers of its organisation and approves promotion entitlements.
	RoleHR Role = "hr"
	// RoleIssuer is an academy's, enterprise's or union's user recording
	// facts for its own organisation.
	RoleIssuer Role = "issuer"
	// RoleAuditor reads everything, including raw audit history; writes nothing.
	RoleAuditor Role = "auditor"
	// RoleAdmin may do everything, including admin operations.
	RoleAdmin Role = "admin"
)

// Roles lists every role in a stable order.
func Roles() []Role { return []Role{RoleWorker, RoleHR, RoleIssuer, RoleAuditor, RoleAdmin} }

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	switch r {
	case RoleWorker, RoleHR, RoleIssuer, RoleAuditor, RoleAdmin:
		return true
	}
	return false
}

// ParseRole parses a role name; an unknown name is errs.InvalidArgument.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", errs.E(errs.InvalidArgument, "unknown role %q (want worker, hr, issuer, auditor or admin)", s)
	}
	return r, nil
}

// Claims is who a token speaks for.
type Claims struct {
	Subject     string    // user id ("sub"); required
	Role        Role      // required
	OrgID       string    // academy or employer id; required for hr and issuer
	CraftsmanID string    // required for workers: the craftsman they are
	IssuedAt    time.Time // set by Mint
	ExpiresAt   time.Time // set by Mint
}

// Validate checks that the claims are complete for their role.
func (c Claims) Validate() error {
	if c.Subject == "" {
		return errs.E(errs.InvalidArgument, "claims: subject is required")
	}
	if !c.Role.Valid() {
		return errs.E(errs.InvalidArgument, "claims: unknown role %q", c.Role)
	}
	switch c.Role {
	case RoleWorker:
		if c.CraftsmanID == "" {
			return errs.E(errs.InvalidArgument, "claims: a worker token needs a craftsman id")
		}
	case RoleHR, RoleIssuer:
		if c.OrgID == "" {
			return errs.E(errs.InvalidArgument, "claims: a %s token needs an organisation id", c.Role)
		}
	}
	return nil
}

// Key is an HMAC-SHA256 signing key. It never prints its bytes.
type Key []byte

// String redacts the key.
func (k Key) String() string { return "auth.Key(redacted)" }

// GoString redacts the key for %#v.
func (k Key) GoString() string { return k.String() }

// LogValue redacts the key in slog output.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Format redacts the key for every fmt verb (%x, %s, %v ...).
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

func (k Key) check() error {
	if len(k) < MinKeyLen {
		return errs.E(errs.InvalidArgument, "auth key must be at least %d bytes, got %d", MinKeyLen, len(k))
	}
	return nil
}

// NewKey checks and wraps raw key bytes.
func NewKey(b []byte) (Key, error) {
	k := Key(append([]byte(nil), b...))
	return k, k.check()
}

// LoadKey reads the key from file when file is non-empty, otherwise from the
// environment variable env. Surrounding whitespace (a trailing newline) is
// trimmed. The key must be at least MinKeyLen bytes.
func LoadKey(file, env string) (Key, error) {
	var raw string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read auth key file %s: %w", file, err)
		}
		raw = string(b)
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, errs.E(errs.InvalidArgument, "auth key: environment variable %s is not set", env)
		}
		raw = v
	default:
		return nil, errs.E(errs.InvalidArgument, "auth key: neither a key file nor an environment variable given")
	}
	return NewKey([]byte(strings.TrimSpace(raw)))
}

// DevKeyEnv is the environment variable services read their key from by
// convention (CRAFTLEDGER_AUTH_KEY).
const DevKeyEnv = "CRAFTLEDGER_AUTH_KEY"

// DevKey is the well-known development key used by `make run` and tests. It
// is public: never use it in production.
func DevKey() Key { return Key("craftledger-development-key-do-not-use-in-production") }

type jwtClaims struct {
	Role        Role   `json:"role"`
	OrgID       string `json:"org,omitempty"`
	CraftsmanID string `json:"craftsman,omitempty"`
	jwt.RegisteredClaims
}

// Mint signs claims valid for ttl from now.
func Mint(key Key, c Claims, ttl time.Duration) (string, error) {
	return MintAt(key, c, time.Now(), ttl)
}

// MintAt signs claims issued at now and valid for ttl (an injectable clock).
func MintAt(key Key, c Claims, now time.Time, ttl time.Duration) (string, error) {
	if err := key.check(); err != nil {
		return "", err
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errs.E(errs.InvalidArgument, "token ttl must be positive, got %s", ttl)
	}
	jc := jwtClaims{
		Role:        c.Role,
		OrgID:       c.OrgID,
		CraftsmanID: c.CraftsmanID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString([]byte(key))
	if err != nil {
		return "", fmt.Errorf("sign token for %s: %w", c.Subject, err)
	}
	return s, nil
}

// IssuedAtSkew is how far in the future a token's "iat" may lie and the
// token still verify: room for the clocks of the service that minted it and
// the one verifying it to differ. A token issued later than that is refused
// ("token issued in the future"): a minting clock set wrong would otherwise
// make tokens that stay valid long after their lifetime as the verifier
// counts it. Expiry and "nbf" get no such leeway.
const IssuedAtSkew = time.Minute

// Verify checks a token's signature, algorithm, issuer, issue time and
// expiry against the current time and returns its claims. Every failure is
// errs.Unauthenticated.
func Verify(key Key, token string) (Claims, error) {
	return VerifyAt(key, token, time.Now())
}

// VerifyAt is Verify with an injected clock.
func VerifyAt(key Key, token string, now time.Time) (Claims, error) {
	c, _, err := verifyAt(key, token, now)
	return c, err
}

// verifyAt is VerifyAt, also returning the first instant at which the token
// verifies — the later of its "nbf" and its "iat" less IssuedAtSkew, zero
// when it has neither: with the claims' ExpiresAt, the window in which the
// token verifies.
func verifyAt(key Key, token string, now time.Time) (Claims, time.Time, error) {
	if token == "" {
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "missing bearer token")
	}
	if len(key) == 0 {
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "no verification key configured")
	}
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc,
		func(*jwt.Token) (any, error) { return []byte(key), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token expired")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token signature invalid")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token malformed")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token not valid yet")
	default:
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token invalid")
	}
	// The issue time is checked here rather than by jwt.WithIssuedAt: the
	// library's one leeway (jwt.WithLeeway) would also stretch "exp".
	var from time.Time
	if jc.IssuedAt != nil {
		from = jc.IssuedAt.Add(-IssuedAtSkew)
		if now.Before(from) {
			return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token issued in the future")
		}
	}
	c := Claims{
		Subject:     jc.Subject,
		Role:        jc.Role,
		OrgID:       jc.OrgID,
		CraftsmanID: jc.CraftsmanID,
	}
	if jc.IssuedAt != nil {
		c.IssuedAt = jc.IssuedAt.Time
	}
	if jc.ExpiresAt != nil {
		c.ExpiresAt = jc.ExpiresAt.Time
	}
	if err := c.Validate(); err != nil {
		return Claims{}, time.Time{}, errs.E(errs.Unauthenticated, "token claims incomplete: %v", err)
	}
	if jc.NotBefore != nil && jc.NotBefore.After(from) {
		from = jc.NotBefore.Time
	}
	return c, from, nil
}
