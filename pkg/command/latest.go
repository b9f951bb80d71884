package command

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Latest returns stream's history as the store holds it now, like Load,
// for a check a command makes on a stream other than the one it decides
// on. When the handler has the stream cached it reads only the events
// after the cached copy (a read that is usually empty) instead of the
// whole stream; otherwise it reads the whole stream. Either way it asks
// the store, so the answer is as fresh as Load's, and the result is
// cached for the commands that follow (an Execute on the stream then
// decides without reading it again).
//
// The cached part is trusted as the store's prefix, as Execute trusts it:
// event streams only grow (craftledger never deletes one). Events this
// handler appended carry its clock as their record time (Created) and,
// when several were appended together, the position of the last. A caller
// that refuses a command on what Latest shows can confirm with Load.
func (h *Handler) Latest(ctx context.Context, stream string) (History, error) {
	cached, ok := h.cache.get(stream)
	if !ok {
		return h.loadAndCache(ctx, stream)
	}
	next := cached.Revision() + 1
	evs, err := h.store.ReadStream(ctx, stream, eventstore.ReadOptions{From: next})
	if err != nil {
		h.cache.drop(stream)
		if errors.Is(err, errs.NotFound) {
			return History{Stream: stream}, nil
		}
		return History{}, fmt.Errorf("read %s: %w", stream, err)
	}
	if len(evs) == 0 {
		return cached, nil
	}
	if evs[0].Revision != next {
		// Not the continuation of the cached copy: read it all.
		h.cache.drop(stream)
		return h.loadAndCache(ctx, stream)
	}
	n := len(cached.Events)
	all := make([]eventstore.RecordedEvent, n, grow(n, len(evs)))
	copy(all, cached.Events)
	hist := History{Stream: stream, Exists: true, Events: append(all, evs...)}
	h.cache.put(hist)
	return hist, nil
}

// Prefetch starts reading stream into the handler's cache when the
// handler keeps a cache and does not hold the stream, for a command the
// caller will run on it after other reads: the command then decides
// without a read of its own, and the stream's read overlaps the caller's
// other reads instead of following them. A held stream is not read (the
// command's append verifies the held copy, as always). wait returns once
// the read is done, with its error (the command reads again and reports
// its own); when nothing is read it returns nil at once. wait may be
// called more than once, or not at all.
func (h *Handler) Prefetch(ctx context.Context, stream string) (wait func() error) {
	if h.cache == nil || h.cache.holds(stream) {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.loadAndCache(ctx, stream)
		done <- err
	}()
	return sync.OnceValue(func() error { return <-done })
}

// loadAndCache reads the whole stream and caches what it read.
func (h *Handler) loadAndCache(ctx context.Context, stream string) (History, error) {
	hist, err := Load(ctx, h.store, stream)
	if err == nil {
		h.cache.put(hist)
	}
	return hist, err
}
