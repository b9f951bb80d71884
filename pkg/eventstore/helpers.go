package eventstore

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/craftledger/craftledger/pkg/errs"
)

// IsTombstone reports whether e is a stream's tombstone: the
// "$streamDeleted" event a hard delete writes in the stream itself, at
// revision math.MaxInt64 (KurrentDB's EventNumber.DeletedStream), which
// reads of $all and subscriptions with system events deliver.
func IsTombstone(e *RecordedEvent) bool {
	return e.Type == "$streamDeleted" && e.Revision == math.MaxInt64
}

// ReadWholeStream reads every event of stream, oldest first; a missing
// stream is errs.NotFound.
func ReadWholeStream(ctx context.Context, s Store, stream string) ([]RecordedEvent, error) {
	return s.ReadStream(ctx, stream, ReadOptions{})
}

// CurrentRevision is the revision of stream's last event; a stream that
// does not exist (or was deleted) is errs.NotFound.
func CurrentRevision(ctx context.Context, s Store, stream string) (uint64, error) {
	evs, err := s.ReadStream(ctx, stream, ReadOptions{Direction: Backwards, FromEnd: true, Max: 1})
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, errs.E(errs.NotFound, "stream %s has no events", stream)
	}
	return evs[0].Revision, nil
}

// ExpectedFor is the expectation that the stream is exactly as a reader
// left it: At(CurrentRevision) or NoStream when it does not exist.
func ExpectedFor(ctx context.Context, s Store, stream string) (Expected, error) {
	rev, err := CurrentRevision(ctx, s, stream)
	if errors.Is(err, errs.NotFound) {
		return NoStream(), nil
	}
	if err != nil {
		return Expected{}, err
	}
	return At(rev), nil
}

// ErrStop, returned by a ForEachAll callback, ends the walk without error.
var ErrStop = errors.New("stop")

// ForEachAll walks $all forwards in pages of pageSize (500 when <= 0),
// strictly after *after (from the start when nil), with an optional filter,
// calling fn for each event (system events skipped). It stops at the end of
// the log, at the first error of fn (returned, except ErrStop) or of the
// store.
func ForEachAll(ctx context.Context, s Store, after *Position, pageSize int, filter *Filter, fn func(RecordedEvent) error) error {
	if pageSize <= 0 {
		pageSize = 500
	}
	opts := ReadAllOptions{Max: pageSize + 1, Filter: filter}
	skip := false
	if after != nil {
		opts.From, skip = *after, true
	}
	for {
		page, err := s.ReadAll(ctx, opts)
		if err != nil {
			return err
		}
		n := 0
		for _, ev := range page {
			if skip && !opts.From.Less(ev.Position) {
				continue // ReadAll's From is inclusive
			}
			n++
			if err := fn(ev); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(page) < opts.Max || n == 0 {
			return nil
		}
		opts.From, skip = page[len(page)-1].Position, true
	}
}

// StreamName joins a category and an id the KurrentDB way: "craftsman-42".
func StreamName(category, id string) string { return category + "-" + id }

// Category is the part of a stream name before the first '-' ("craftsman"
// for "craftsman-42"), or the whole name when it has none.
func Category(stream string) string {
	c, _, _ := strings.Cut(stream, "-")
	return c
}
