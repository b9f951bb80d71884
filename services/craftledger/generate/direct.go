package generate

import (
	"context"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit"
	"github.com/craftledger/craftledger/services/competition"
	"github.com/craftledger/craftledger/services/honour"
	"github.com/craftledger/craftledger/services/mentorship"
	"github.com/craftledger/craftledger/services/registry"
	"github.com/craftledger/craftledger/services/training"
)

// NewServices builds the five services in-process over st, with the hash
// chain on every event, as the all-in-one and ledgerctl run them; the
// registry with reg (the national-ID key, and the keyring that seals
// personal data: nil stores it in clear). Over builds the same services
// over another store, so the direct mode's stages record exactly what
// these services would.
func NewServices(st eventstore.Store, reg registry.Options) (Services, error) {
	s := Services{Store: st, Over: func(other eventstore.Store) (Services, error) { return NewServices(other, reg) }}
	var err error
	if s.Registry, err = registry.New(st, time.Now, reg); err != nil {
		return s, err
	}
	if s.Training, err = training.New(st, time.Now, training.Options{}); err != nil {
		return s, err
	}
	if s.Competition, err = competition.New(st, time.Now, competition.Options{Seal: servicekit.Seal}); err != nil {
		return s, err
	}
	if s.Mentorship, err = mentorship.New(st, time.Now, mentorship.Options{Seal: servicekit.Seal}); err != nil {
		return s, err
	}
	if s.Honour, err = honour.New(st, time.Now, honour.Options{Seal: servicekit.Seal, CheckWriters: true, ConferringBodies: ConferringBodies()}); err != nil {
		return s, err
	}
	return s, nil
}

// stage is the direct mode's write buffer for one craftsman at a time: the
// services run unchanged over it, appends to the staged stream stay in
// memory (with the revisions and expectations of a real store, so every
// decision and the hash chain are what they would be), and everything else
// — reads of academies, courses — goes to the real store. When the
// craftsman's history is complete it is appended to the real store in one
// atomic append: one round trip instead of one per command.
type stage struct {
	real   eventstore.Store
	stream string
	events []eventstore.RecordedEvent
}

func (s *stage) reset(stream string) { s.stream, s.events = stream, s.events[:0] }

// take returns the staged events as one append's data.
func (s *stage) take() []eventstore.EventData {
	out := make([]eventstore.EventData, len(s.events))
	for i, e := range s.events {
		out[i] = eventstore.EventData{ID: e.ID, Type: e.Type, ContentType: "application/json", Data: e.Data, Metadata: e.Metadata}
	}
	return out
}

func (s *stage) Append(ctx context.Context, stream string, exp eventstore.Expected, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream != s.stream {
		return s.real.Append(ctx, stream, exp, evs...)
	}
	n := uint64(len(s.events))
	ok := true
	switch exp.Kind {
	case eventstore.ExpectNoStream:
		ok = n == 0
	case eventstore.ExpectStreamExists:
		ok = n > 0
	case eventstore.ExpectRevision:
		ok = n > 0 && exp.Revision == n-1
	}
	if !ok {
		return eventstore.AppendResult{}, &eventstore.WrongRevisionError{Stream: stream, Expected: exp, ActualNoStream: n == 0, Actual: max(n, 1) - 1, Known: true}
	}
	now := time.Now().UTC()
	for _, e := range evs {
		rev := uint64(len(s.events))
		s.events = append(s.events, eventstore.RecordedEvent{Stream: stream, ID: e.ID, Type: e.Type, Revision: rev,
			Position: eventstore.Position{Commit: rev + 1, Prepare: rev + 1}, Data: e.Data, Metadata: e.Metadata, Created: now})
	}
	last := s.events[len(s.events)-1]
	return eventstore.AppendResult{NextRevision: last.Revision, Position: last.Position}, nil
}

func (s *stage) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.RecordedEvent, error) {
	if stream != s.stream {
		return s.real.ReadStream(ctx, stream, opts)
	}
	if len(s.events) == 0 {
		return nil, errs.E(errs.NotFound, "stream %s", stream)
	}
	var out []eventstore.RecordedEvent
	if opts.Direction == eventstore.Backwards {
		from := len(s.events) - 1
		if !opts.FromEnd && int(opts.From) < from {
			from = int(opts.From)
		}
		for i := from; i >= 0 && (opts.Max <= 0 || len(out) < opts.Max); i-- {
			out = append(out, s.events[i])
		}
		return out, nil
	}
	if opts.FromEnd {
		return nil, nil
	}
	for i := int(opts.From); i < len(s.events) && (opts.Max <= 0 || len(out) < opts.Max); i++ {
		out = append(out, s.events[i])
	}
	return out, nil
}

func (s *stage) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	return s.real.ReadAll(ctx, opts)
}

func (s *stage) SubscribeAll(ctx context.Context, opts eventstore.SubscribeOptions) (eventstore.Subscription, error) {
	return s.real.SubscribeAll(ctx, opts)
}

// Close does nothing: the real store belongs to the caller.
func (s *stage) Close() error { return nil }
