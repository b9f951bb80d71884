package eventstore

import (
	"context"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/errs"
)

// SubscribeAll starts a catch-up subscription to $all after opts.From (from
// the start when nil): stored events first, then a CaughtUp message, then
// live events; checkpoints arrive as the server scans. System events are
// delivered only with opts.WithSystem. opts.Filter is applied by the
// server. The subscription
// lives until Close or until ctx ends; opening it goes through the breaker
// and is bounded by the call timeout.
func (c *Client) SubscribeAll(ctx context.Context, opts SubscribeOptions) (Subscription, error) {
	so := esdb.SubscribeToAllOptions{From: esdb.Start{}}
	if opts.From != nil {
		so.From = esdb.Position{Commit: opts.From.Commit, Prepare: opts.From.Prepare}
	}
	skipSystem := false
	if f := opts.Filter; f != nil {
		if err := f.validate(); err != nil {
			return nil, err
		}
		typ := esdb.StreamFilterType
		if f.OnEventType {
			typ = esdb.EventFilterType
		}
		so.Filter = &esdb.SubscriptionFilter{Type: typ, Prefixes: f.Prefixes, Regex: f.Regex}
		// One server-side filter only: the server delivers the selected
		// streams' system events, and they are dropped here.
		skipSystem = !opts.WithSystem
	} else if !opts.WithSystem {
		so.Filter = esdb.ExcludeSystemEventsFilter()
	}
	if opts.CheckpointEvery > 0 {
		// KurrentDB checkpoints every window × multiplier scanned events.
		so.MaxSearchWindow = int(opts.CheckpointEvery)
		so.CheckpointInterval = 1
	}

	subCtx, cancel := context.WithCancel(ctx)
	sub, err := call(c, ctx, opName{verb: "subscribe to $all"}, func(_ context.Context, db *esdb.Client) (*esdb.Subscription, error) {
		return db.SubscribeToAll(subCtx, so)
	})
	if err != nil {
		cancel()
		return nil, err
	}
	s := &subscription{
		sub: sub, ctx: subCtx, cancel: cancel, skipSystem: skipSystem,
		msgs: make(chan Message, 256), ended: make(chan struct{}), closed: make(chan struct{}),
	}
	go s.pump()
	return s, nil
}

type subscription struct {
	sub        *esdb.Subscription
	ctx        context.Context
	cancel     context.CancelFunc
	skipSystem bool

	msgs   chan Message  // buffered: the pump reads ahead while the caller works
	ended  chan struct{} // closed when pump stops; err says why
	err    error
	closed chan struct{}
	once   sync.Once
}

func (s *subscription) pump() {
	defer close(s.ended)
	var ids idArena
	for {
		ev := s.sub.Recv()
		var m Message
		switch {
		case ev.SubscriptionDropped != nil:
			s.err = classify(s.ctx, opName{verb: "subscription to $all"}, ev.SubscriptionDropped.Error)
			return
		case ev.EventAppeared != nil:
			r := ev.EventAppeared.Event
			if r == nil || (s.skipSystem && isSystem(r.EventType)) {
				continue
			}
			rec := fromRecorded(r, &ids)
			m.Event = &rec
		case ev.CheckPointReached != nil:
			m.Checkpoint = &Position{Commit: ev.CheckPointReached.Commit, Prepare: ev.CheckPointReached.Prepare}
		case ev.CaughtUp != nil:
			m.CaughtUp = true
		default: // FellBehind and unknown messages carry nothing for us
			continue
		}
		select {
		case s.msgs <- m:
		case <-s.closed:
			return
		}
	}
}

// Recv returns the next message. When ctx ends first it returns ctx's error
// (classified) and the subscription stays usable.
func (s *subscription) Recv(ctx context.Context) (Message, error) {
	select {
	case m := <-s.msgs:
		return m, nil
	case <-s.closed:
		return Message{}, errs.E(errs.Unavailable, "subscription to $all is closed")
	case <-s.ended:
		select { // deliver what was received before the drop first
		case m := <-s.msgs:
			return m, nil
		default:
			return Message{}, s.err
		}
	case <-ctx.Done():
		return Message{}, classify(ctx, opName{verb: "receive from $all"}, ctx.Err())
	}
}

// Close ends the subscription.
func (s *subscription) Close() error {
	s.once.Do(func() {
		close(s.closed)
		s.cancel()
		_ = s.sub.Close()
	})
	return nil
}
