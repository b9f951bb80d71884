package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// KindStore: an event of a file verified against the store (VerifyFeedInStore)
// is not in the store as the file says — no event at its position, or one
// with another stream, revision, id, record time, type, data or metadata.
// The hash chain covers only an event's prevHash, type, data and metadata;
// this check covers the rest of a line.
const KindStore = "store"

// anchorPage is how many events of $all one read for the store check
// fetches: a file in $all order (a replay, an export) is checked with one
// read per anchorPage events.
const anchorPage = 512

// VerifyFeedInStore is VerifyFeed (st answering the issuer rule's look-ups)
// and also checks each event of the feed within opts.Scope against st: the
// store must hold, at the event's position in $all, the same stream,
// revision, event id, record time, type, data and metadata. A difference is
// a KindStore finding, listed with the others (sorted, within MaxFindings).
// So a line whose id, position, record time or stream name was edited —
// fields the hash chain does not cover — fails, and so does a file whose
// chain was re-sealed from scratch. Events are looked up by position: a
// file in $all or stream order (what replay and export write) costs one
// read of anchorPage events per anchorPage lines; a sparse one (an
// academy's export) about one read per line.
func VerifyFeedInStore(ctx context.Context, st eventstore.Store, opts VerifyOptions, feed Feed) (*Report, error) {
	if st == nil {
		return nil, fmt.Errorf("verify against the store: no store")
	}
	c := &storeCheck{ctx: ctx, st: st}
	prefix := opts.Scope.Category + "-"
	checked := func(yield func(*eventstore.RecordedEvent) error) error {
		return feed(func(e *eventstore.RecordedEvent) error {
			if opts.Scope.Stream != "" && e.Stream != opts.Scope.Stream || opts.Scope.Category != "" && !strings.HasPrefix(e.Stream, prefix) {
				return yield(e) // VerifyFeed leaves it out
			}
			if err := c.check(e); err != nil {
				return fmt.Errorf("verify against the store: %w", err)
			}
			return yield(e)
		})
	}
	rep, err := VerifyFeed(ctx, st, opts, checked)
	if err != nil {
		return nil, err
	}
	if len(c.findings) == 0 {
		return rep, nil
	}
	maxFindings := opts.MaxFindings
	if maxFindings <= 0 {
		maxFindings = DefaultMaxFindings
	}
	rep.Findings = append(rep.Findings, c.findings...)
	slices.SortFunc(rep.Findings, compareFindings)
	if len(rep.Findings) > maxFindings {
		rep.Omitted += len(rep.Findings) - maxFindings
		rep.Findings = rep.Findings[:maxFindings]
	}
	rep.OK = false
	return rep, nil
}

// storeCheck compares events with the store's, reading $all a page at a
// time from the position of the first event the page in hand lacks.
type storeCheck struct {
	ctx      context.Context
	st       eventstore.Store
	page     []eventstore.RecordedEvent // in $all order
	findings []Finding
}

func (c *storeCheck) check(e *eventstore.RecordedEvent) error {
	var got *eventstore.RecordedEvent
	var err error
	if e.Position.IsStart() {
		// No position (a store whose stream reads give none), or the log's
		// very first event: looked up by stream and revision instead.
		got, err = c.byRevision(e)
	} else {
		got, err = c.at(e.Position)
	}
	if err != nil {
		return err
	}
	f := Finding{Kind: KindStore, Stream: e.Stream, Revision: e.Revision, EventID: e.ID, Type: e.Type, Issuer: metaFields(e.Metadata).IssuerOrgID}
	pos := fmt.Sprintf("%d/%d", e.Position.Commit, e.Position.Prepare)
	switch {
	case got == nil && e.Position.IsStart():
		f.Reason = fmt.Sprintf("the store has no event %s@%d", e.Stream, e.Revision)
	case got == nil:
		f.Reason = "the store has no event at position " + pos + " (a position edited, or another store's file)"
	}
	if got == nil {
		c.findings = append(c.findings, f)
		return nil
	}
	var diff []string
	if got.Position != e.Position { // looked up by revision: the line's position was erased
		diff = append(diff, fmt.Sprintf("it is at position %d/%d, not %s", got.Position.Commit, got.Position.Prepare, pos))
	}
	if got.Stream != e.Stream || got.Revision != e.Revision {
		diff = append(diff, fmt.Sprintf("it is %s@%d, not %s@%d", got.Stream, got.Revision, e.Stream, e.Revision))
	}
	if got.ID != e.ID {
		diff = append(diff, fmt.Sprintf("its id is %s, not %s", got.ID, e.ID))
	}
	if !got.Created.Equal(e.Created) {
		diff = append(diff, fmt.Sprintf("it was recorded %s, not %s", got.Created.UTC().Format(time.RFC3339Nano), e.Created.UTC().Format(time.RFC3339Nano)))
	}
	if got.Type != e.Type {
		diff = append(diff, fmt.Sprintf("its type is %s, not %s", got.Type, e.Type))
	}
	if !bytes.Equal(got.Data, e.Data) {
		diff = append(diff, "its data differ")
	}
	if !bytes.Equal(got.Metadata, e.Metadata) {
		diff = append(diff, "its metadata differ")
	}
	if len(diff) > 0 {
		f.Reason = "the store's event differs from the line (at position " + pos + "): " + strings.Join(diff, "; ")
		c.findings = append(c.findings, f)
	}
	return nil
}

// byRevision returns the store's event at e's stream and revision, nil
// when there is none; its position is taken as e's (not compared).
func (c *storeCheck) byRevision(e *eventstore.RecordedEvent) (*eventstore.RecordedEvent, error) {
	evs, err := c.st.ReadStream(c.ctx, e.Stream, eventstore.ReadOptions{From: e.Revision, Max: 1})
	if errors.Is(err, errs.NotFound) || err == nil && (len(evs) == 0 || evs[0].Revision != e.Revision) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &evs[0], nil
}

// at returns the store's event at p, nil when there is none.
func (c *storeCheck) at(p eventstore.Position) (*eventstore.RecordedEvent, error) {
	if n := len(c.page); n > 0 && !p.Less(c.page[0].Position) && !c.page[n-1].Position.Less(p) {
		i, ok := slices.BinarySearchFunc(c.page, p, func(e eventstore.RecordedEvent, p eventstore.Position) int {
			switch {
			case e.Position.Less(p):
				return -1
			case p.Less(e.Position):
				return 1
			}
			return 0
		})
		if !ok {
			return nil, nil
		}
		return &c.page[i], nil
	}
	evs, err := c.st.ReadAll(c.ctx, eventstore.ReadAllOptions{From: p, Max: anchorPage})
	if err != nil {
		return nil, err
	}
	c.page = evs
	if len(evs) == 0 || evs[0].Position != p {
		return nil, nil
	}
	return &c.page[0], nil
}
