package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// DefaultPolicies are the policy names eligibility is answered under when
// none are given, in order of preference (the GraphQL API's default too).
func DefaultPolicies() []string { return []string{policy.TemplateA, policy.UpperGrades} }

// StateOptions say whose state to rebuild and as of when.
type StateOptions struct {
	CraftsmanID string
	// AsOf is the moment to rebuild for (zero: now).
	AsOf time.Time
	// Mode: career.AsRecorded (default) sees the events recorded by AsOf;
	// career.AsOccurred sees everything recorded now about facts that had
	// occurred by AsOf.
	Mode career.Mode
	// Policies are the policy names, in order of preference
	// (DefaultPolicies when empty).
	Policies []string
	// Set is the policy versions to evaluate under; nil loads them with
	// LoadPolicies (recorded by AsOf).
	Set *policy.Set
}

// Career is a craftsman's rebuilt state, pathway per trade and the
// eligibility for each level above the current one (Pathway.Next).
type Career struct {
	CraftsmanID string           `json:"craftsmanId"`
	AsOf        time.Time        `json:"asOf"`
	Mode        career.Mode      `json:"mode"`
	Policies    []string         `json:"policies"`
	Stream      string           `json:"stream"`
	Events      int              `json:"eventsRead"`
	Skipped     []string         `json:"skipped,omitempty"` // events that did not decode
	State       *career.State    `json:"state"`
	Pathways    []policy.Pathway `json:"pathways"`
}

// LoadPolicies returns the default policy templates plus every policy
// version published on the ledger (policy-* streams) and recorded by
// recordedBy (zero: all), as the GraphQL API builds its set.
func LoadPolicies(ctx context.Context, st eventstore.Store, recordedBy time.Time) (*policy.Set, error) {
	defs, err := policy.Defaults()
	if err != nil {
		return nil, errs.E(errs.Internal, "default policies: %v", err)
	}
	set, err := policy.NewSet(defs...)
	if err != nil {
		return nil, errs.E(errs.Internal, "default policies: %v", err)
	}
	reg := events.NewRegistry()
	_, err = scan(ctx, st, Scope{Category: events.CategoryPolicy}, Range{RecordedBy: recordedBy}, nil, func(e *eventstore.RecordedEvent) error {
		if e.Type != events.TypePolicyPublished {
			return nil
		}
		p, err := reg.Decode(e.Type, e.Data)
		if err != nil {
			return nil // a projection skips what it cannot read; so does the rebuild
		}
		pp, ok := p.(events.PolicyPublished)
		if !ok {
			return nil // not the payload the type names: skipped, as a projection would
		}
		if pol, err := policy.FromEvent(pp); err == nil {
			_ = set.Add(pol) // a version that repeats a default is ignored, as in GraphQL
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	return set, nil
}

// ReadCraftsman reads and decodes a craftsman's stream; events that do not
// decode are skipped and named.
func ReadCraftsman(ctx context.Context, st eventstore.Store, id string) ([]events.Recorded, []string, error) {
	stream := events.CraftsmanStream(id)
	reg := events.NewRegistry()
	var recs []events.Recorded
	var skipped []string
	_, err := scan(ctx, st, Scope{Stream: stream}, Range{}, nil, func(e *eventstore.RecordedEvent) error {
		r, err := reg.DecodeRecorded(raw(e))
		if err != nil {
			skipped = append(skipped, err.Error())
			return nil
		}
		recs = append(recs, r)
		return nil
	})
	if errors.Is(err, errs.NotFound) {
		return nil, nil, errs.E(errs.NotFound, "craftsman %s: stream %s not found", id, stream)
	}
	return recs, skipped, err
}

// State rebuilds a craftsman's career as of a moment from the raw events
// of their stream with the domain's fold (events/career) and policy engine
// (events/policy), the same functions the GraphQL API applies to its
// projection — so a difference (Diff) points at the projection or at the
// data, not at two implementations of the rules.
func State(ctx context.Context, st eventstore.Store, opts StateOptions) (*Career, error) {
	if err := events.ValidID("craftsmanId", opts.CraftsmanID); err != nil {
		return nil, errs.E(errs.InvalidArgument, "%v", err)
	}
	at := opts.AsOf.UTC()
	if at.IsZero() {
		at = time.Now().UTC()
	}
	names := opts.Policies
	if len(names) == 0 {
		names = DefaultPolicies()
	}
	set := opts.Set
	if set == nil {
		var err error
		if set, err = LoadPolicies(ctx, st, policyCut(opts, at)); err != nil {
			return nil, err
		}
	}
	if err := KnownPolicies(set, names); err != nil {
		return nil, err
	}
	recs, skipped, err := ReadCraftsman(ctx, st, opts.CraftsmanID)
	if err != nil {
		return nil, err
	}
	s := career.Fold(recs, at, opts.Mode)
	return &Career{CraftsmanID: opts.CraftsmanID, AsOf: at, Mode: opts.Mode, Policies: names,
		Stream: events.CraftsmanStream(opts.CraftsmanID), Events: len(recs) + len(skipped), Skipped: skipped,
		State: s, Pathways: policy.Pathways(s, set, names, at)}, nil
}

// KnownPolicies refuses (errs.InvalidArgument) a policy name the set has
// no version of — a mistyped name would otherwise answer every pathway
// with no next level, silently. GraphQL's policies arguments refuse it
// alike.
func KnownPolicies(set *policy.Set, names []string) error {
	known := set.Names()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return errs.E(errs.InvalidArgument, "unknown policy %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// policyCut is the record time the policy set is cut at: as recorded, the
// versions recorded by AsOf; as occurred, every version recorded now
// (policy.Set picks the version in force at AsOf by effective date).
func policyCut(opts StateOptions, at time.Time) time.Time {
	if opts.Mode == career.AsOccurred {
		return time.Time{}
	}
	return at
}

// Craftsmen lists the ids of every craftsman stream in the store, in the
// order their streams began.
func Craftsmen(ctx context.Context, st eventstore.Store) ([]string, error) {
	var ids []string
	_, err := scan(ctx, st, Scope{Category: events.CategoryCraftsman}, Range{}, nil, func(e *eventstore.RecordedEvent) error {
		if e.Revision == 0 {
			ids = append(ids, e.Stream[len(events.CategoryCraftsman)+1:])
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list craftsmen: %w", err)
	}
	return ids, nil
}
