package command

import (
	"bytes"
	"context"
	"fmt"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// An append whose events all carry ids the stream already holds at the
// revisions after the expected one is answered by the store — KurrentDB
// and the embedded server alike — as an idempotent success: the ids are
// compared, the events are not. With random ids (NewID) that cannot
// happen, but a command's ids may be fixed — derived from its idempotency
// key (EventID) or from the fact (Event.ID: an honour, a pairing, a
// placement) — and another writer may already have appended events with
// those ids at that revision: another body under the same key, or the same
// request with other metadata (its correlation id, its occurredAt default,
// and so its hash). That writer may be another replica of the service; or,
// with one instance of each service, another service's handler on a
// craftsman's stream (five services write it, each with its own cache and
// locks, in the all-in-one's one process too; EventID is over stream and
// key, so one key sent to two services gives the same ids); or this
// handler's own earlier attempt, whose answer was lost (a timeout) but
// whose append the store committed only after the retry read the stream.
// Taking that success for its own write, the handler would answer 201 for
// events never stored, cache them, decide later commands on them and chain
// its next event off their hash. So an append carrying a fixed id is read
// back (ownAppend) and, when the store holds other events there, the
// command is decided again on a fresh read — however many instances of
// the service run.

// fixedIDs reports whether the events decided for c may carry an id that
// is not random: the command has an idempotency key, or an event an
// explicit id.
func fixedIDs(c Command, evs []Event) bool {
	if c.Meta.IdempotencyKey != "" {
		return true
	}
	for _, e := range evs {
		if e.ID != "" {
			return true
		}
	}
	return false
}

// ownAppend reports whether the store holds, at the revisions an append
// of data to stream was answered with (ar), exactly the events it carried:
// ids, types, data and metadata, every one of them. The last event alone
// would not do: without a hash chain (Options.Seal nil) two requests under
// one key may differ in an earlier event only, and one read returns them
// all anyway.
func (h *Handler) ownAppend(ctx context.Context, stream string, ar eventstore.AppendResult, data []eventstore.EventData) (bool, error) {
	n := uint64(len(data))
	if ar.NextRevision+1 < n {
		return false, nil
	}
	first := ar.NextRevision + 1 - n
	evs, err := h.store.ReadStream(ctx, stream, eventstore.ReadOptions{From: first, Max: len(data)})
	if err != nil {
		return false, err
	}
	if len(evs) != len(data) {
		return false, nil
	}
	for i, e := range evs {
		d := data[i]
		if e.Revision != first+uint64(i) || e.ID != d.ID || e.Type != d.Type || !bytes.Equal(e.Data, d.Data) || !bytes.Equal(e.Metadata, d.Metadata) {
			return false, nil
		}
	}
	return true, nil
}

// errNotOwn is a command's error when, decided again on a fresh read, its
// fixed-id append was still answered with another writer's events.
func errNotOwn(name, stream string) error {
	return errs.E(errs.Conflict, "%s: %s: the store holds another writer's events with this command's ids; retry", name, stream)
}

// errReadBack is a command's error when its fixed-id append succeeded but
// could not be read back: whether its events or another writer's were
// stored is unknown (a keyed retry finds out).
func errReadBack(name, stream string, err error) error {
	return fmt.Errorf("%s: read back append to %s: %w", name, stream, err)
}
