// Package command is the write-side machinery every craftledger service
// uses to turn one command into events on one stream.
//
// A Handler loads the stream's history through eventstore.Store, runs the
// command's decide function (history + command -> new events or a business
// error), and appends the new events at the expected revision it read,
// retrying on errs.Conflict a bounded number of times when the command
// allows it.
//
// Within one process a Handler serializes the commands of one stream
// (Locks) and keeps recent histories in an optimistic cache, so a command
// usually decides without reading: a stale copy cannot slip through, since
// its append fails on the expected revision and the stream is reloaded,
// and refusals and no-ops are always re-decided on the store's state. An
// append with fixed ids (a key's, or Event.ID) may instead be answered by
// the store as an idempotent success for another writer's events with
// those ids, so it is read back and, when not the handler's own, decided
// again on a fresh read (readback.go).
// ExpectNew extends the same idea to commands that create their stream.
// ExecuteBatch appends several commands of one stream at once.
//
// Idempotency: a client-supplied key becomes deterministic event ids
// (UUIDv5 of stream, key and index, see EventID). Before deciding, the
// handler looks for those ids in the stream it loaded; if they are there the
// command already happened and the original Result is returned (Replayed is
// set), so a retried request is a no-op. Two concurrent requests with the
// same key race on the expected revision; the loser reloads (after a wrong
// expected revision, or a read-back that found the winner's events), finds
// the ids and answers with the winner's result, or refuses another body.
//
// Every event's metadata (Metadata: schemaVersion from the type's ".vN",
// occurredAt, issuer organisation, acting user, $correlationId and
// $causationId — defaulting to the idempotency key —, source and, with a
// Seal, the tamper-evidence hash chain prevHash/hash) is filled here, in one
// place.
//
// Backfill runs a bulk file (JSON Lines or CSV) through the same machinery
// with per-line results, per-line idempotency keys, ordering per shard,
// batching of a shard's queued lines and progress callbacks;
// BackfillHandler serves it over HTTP. Package commandtest is the harness
// the services' tests share.
package command
