// Package schema is craftledger's GraphQL schema over the read models,
// built by New from injected dependencies (no package-level schema, no
// global state). Every resolver is explicit, reads the read model only,
// checks its arguments with typed helpers and returns *Error values with a
// stable extensions.code (pkg/errs). Authorization is per field: a worker
// reads only their own record, HR and issuers the craftsmen linked to
// their organisation, auditors and admins everything including the raw
// audit history; a refused field is an error, never a silent empty answer.
package schema

import (
	"context"
	"crypto/ed25519"
	"strings"
	"sync"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/graphql/projector"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/keyring"
)

// Waiter waits until the projection has applied a $all position.
type Waiter interface {
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// Deps are what the schema reads.
type Deps struct {
	Model       readmodel.Reader        // required
	Waiter      Waiter                  // required: read-your-writes
	Status      func() projector.Status // optional: the projection field
	MaxPageSize int                     // largest "first" (0 = 100)
	MaxWait     time.Duration           // longest minPosition wait (0 = 5 s)
	Now         func() time.Time        // clock (nil = time.Now)
	// CredentialKey is the deployment's Ed25519 public key, against which
	// verifyCredential checks credentials; nil: the field answers
	// FAILED_PRECONDITION.
	CredentialKey ed25519.PublicKey
	// Elig are eligibility entries built ahead over Model
	// (NewEligEntries), read by eligibleFor scans; nil: none.
	Elig *EligEntries
	// AsOf is an as-of index over Model (NewAsOfIndex), read by asOf
	// population queries; nil: none.
	AsOf *AsOfIndex
	// Personal opens names sealed under craftsmen's keys (the registry's
	// keyring directory); nil: sealed names are not shown (null, "sealed").
	Personal keyring.Opener
}

type builder struct {
	d  Deps
	ct *connectionTypes
	// eligibility is the Eligibility object type, shared by Craftsman and
	// the population answers.
	eligibility *graphql.Object
	pol         *policies
	elig        *eligIndex
	pop         *popTable // compact rows for population scans
}

// NewSchema builds the schema (the name the style guide uses; New is the same).
func NewSchema(d Deps) (graphql.Schema, error) { return New(d) }

// New builds the schema.
func New(d Deps) (graphql.Schema, error) {
	if d.Model == nil || d.Waiter == nil {
		return graphql.Schema{}, errs.E(errs.InvalidArgument, "schema: model and waiter are required")
	}
	if d.MaxPageSize <= 0 {
		d.MaxPageSize = 100
	}
	if d.MaxWait <= 0 {
		d.MaxWait = 5 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	pol, err := newPolicies()
	if err != nil {
		return graphql.Schema{}, err
	}
	b := &builder{d: d, ct: newConnectionTypes(), pol: pol, elig: newEligIndex(), pop: &popTable{}}
	fields := graphql.Fields{}
	for _, add := range []func(graphql.Fields){b.metaFields, b.auditFields, b.domainFields, b.credentialFields} {
		add(fields)
	}
	// Every top-level field is nullable: a refused or failed field answers
	// null with its error while the others are still answered.
	for _, fld := range fields {
		if nn, ok := fld.Type.(*graphql.NonNull); ok {
			fld.Type = nn.OfType
		}
	}
	sc, err := graphql.NewSchema(graphql.SchemaConfig{
		Query: graphql.NewObject(graphql.ObjectConfig{
			Name:        "Query",
			Description: "craftledger's read API. Every view takes asOf (a date or RFC 3339 time: rebuilt from the events recorded by then) and minPosition (read-your-writes).",
			Fields:      fields,
		}),
	})
	if err != nil {
		return graphql.Schema{}, err
	}
	stopWhenDone(sc)
	return sc, nil
}

// stopWhenDone makes every field of sc's object types (introspection's
// included) answer DEADLINE_EXCEEDED, without resolving, once the
// request's context has ended. graphql-go v0.8.1 answers a request whose
// context ends at once but leaves its executor running to the end in a
// goroutine: a timed-out query kept a CPU busy for seconds after its
// answer. Each field then costs one check.
//
// The types New builds are new with each schema and are wrapped with it;
// introspection's (__Schema, __Type, __Field, ...) are graphql-go's
// package-level values shared by every schema, so they are wrapped once
// per process: wrapping them with each New stacked one more check per
// schema on every introspection field, and two News at once raced on
// their resolvers.
func stopWhenDone(sc graphql.Schema) {
	introspectionOnce.Do(func() {
		for _, obj := range objects(sc, true) {
			stopFields(obj)
		}
	})
	for _, obj := range objects(sc, false) {
		stopFields(obj)
	}
}

var introspectionOnce sync.Once

// objects are sc's object types: introspection's (named "__...") or the
// others.
func objects(sc graphql.Schema, introspection bool) []*graphql.Object {
	var out []*graphql.Object
	for name, t := range sc.TypeMap() {
		if obj, ok := t.(*graphql.Object); ok && strings.HasPrefix(name, "__") == introspection {
			out = append(out, obj)
		}
	}
	return out
}

// stopFields wraps the resolvers of obj's fields (see stopWhenDone).
func stopFields(obj *graphql.Object) {
	for _, f := range obj.Fields() {
		resolve := f.Resolve
		if resolve == nil {
			resolve = graphql.DefaultResolveFn
		}
		f.Resolve = func(p graphql.ResolveParams) (any, error) {
			if p.Context != nil {
				if err := p.Context.Err(); err != nil {
					return nil, Wrap(errs.E(errs.DeadlineExceeded, "request ended: %v", err))
				}
			}
			return resolve(p)
		}
	}
}

// viewArgs are the arguments every top-level view takes.
func viewArgs(extra graphql.FieldConfigArgument) graphql.FieldConfigArgument {
	args := graphql.FieldConfigArgument{
		"minPosition": {Type: graphql.String, Description: "Wait until the projection has applied this $all position (\"commit\" or \"commit/prepare\", from a command's answer); DEADLINE_EXCEEDED if it does not in time."},
	}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

// resolver wraps a top-level resolver: it honours minPosition and turns
// every error into a coded *Error.
func (b *builder) resolver(f func(p graphql.ResolveParams) (any, error)) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		if s, ok, err := argString(p, "minPosition"); err != nil {
			return nil, Wrap(err)
		} else if ok && s != "" {
			pos, err := ParsePosition(s)
			if err != nil {
				return nil, Wrap(err)
			}
			ctx, cancel := context.WithTimeout(p.Context, b.d.MaxWait)
			err = b.d.Waiter.WaitFor(ctx, pos)
			cancel()
			if err != nil {
				return nil, Wrap(err)
			}
		}
		v, err := f(p)
		if err != nil {
			return nil, Wrap(err)
		}
		return v, nil
	}
}

// caller returns the verified claims or errs.Unauthenticated.
func caller(ctx context.Context) (auth.Claims, error) {
	if ctx == nil {
		return auth.Claims{}, errs.E(errs.Unauthenticated, "no credentials: send Authorization: Bearer <token>")
	}
	return auth.Require(ctx)
}

func (b *builder) metaFields(f graphql.Fields) {
	viewer := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Viewer",
		Description: "The caller, as its token says.",
		Fields: graphql.Fields{
			"subject":        fieldOf(graphql.NewNonNull(graphql.String), "", func(c auth.Claims) any { return c.Subject }),
			"role":           fieldOf(graphql.NewNonNull(graphql.String), "worker, hr, issuer, auditor or admin.", func(c auth.Claims) any { return string(c.Role) }),
			"organisationId": fieldOf(graphql.String, "", func(c auth.Claims) any { return nilIfEmpty(c.OrgID) }),
			"craftsmanId":    fieldOf(graphql.String, "", func(c auth.Claims) any { return nilIfEmpty(c.CraftsmanID) }),
			"canAudit":       fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c auth.Claims) any { return auth.CanAudit(c) }),
		},
	})
	f["viewer"] = &graphql.Field{
		Type:        graphql.NewNonNull(viewer),
		Description: "Who the token says the caller is (UNAUTHENTICATED without one).",
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			return caller(p.Context)
		}),
	}
	proj := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Projection",
		Description: "Progress of the projection feeding this API.",
		Fields: graphql.Fields{
			"position":      fieldOf(graphql.String, "Last $all position applied (commit/prepare).", func(s projector.Status) any { return positionOrNil(s.Position, s.HasPosition) }),
			"caughtUp":      fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(s projector.Status) any { return s.CaughtUp }),
			"eventsApplied": fieldOf(graphql.NewNonNull(graphql.Float), "Events applied since the server started.", func(s projector.Status) any { return float64(s.Applied) }),
			"lastEventRecordedAt": fieldOf(graphql.DateTime, "", func(s projector.Status) any {
				if s.LastEventTime.IsZero() {
					return nil
				}
				return s.LastEventTime
			}),
		},
	})
	f["projection"] = &graphql.Field{
		Type:        graphql.NewNonNull(proj),
		Description: "Where the projection is in the log (public).",
		Args:        viewArgs(nil),
		Resolve: b.resolver(func(p graphql.ResolveParams) (any, error) {
			if b.d.Status == nil {
				return projector.Status{}, nil
			}
			return b.d.Status(), nil
		}),
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func positionOrNil(p eventstore.Position, ok bool) any {
	if !ok {
		return nil
	}
	return FormatPosition(p)
}
