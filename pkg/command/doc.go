// Package command is the write-side machinery every craftledger service
// uses to turn one command into events on one stream.
//
// A Handler loads the stream's history through eventstore.Store, runs the
// command's decide function (history + command -> new events or a business
// error), and appends the new events at the expected revision it read,
// retrying on errs.Conflict a bounded number of times when the command
// allows it.
//
// Idempotency: a client-supplied key becomes deterministic event ids
// (UUIDv5 of stream, key and index, see EventID). Before deciding, the
// handler looks for those ids in the stream it loaded; if they are there the
// command already happened and the original Result is returned (Replayed is
// set), so a retried request is a no-op. Two concurrent requests with the
// same key race on the expected revision; the loser reloads, finds the ids
// and answers with the winner's result.
//
// Every event's metadata (Metadata: schemaVersion from the type's ".vN",
// occurredAt, issuer organisation, acting user, $correlationId and
// $causationId — defaulting to the idempotency key —, source and, with a
// Seal, the tamper-evidence hash chain prevHash/hash) is filled here, in one
// place.
//
// Backfill runs a bulk file (JSON Lines or CSV) through the same machinery
// with per-line results, per-line idempotency keys, ordering per shard and
// progress callbacks.
package command
