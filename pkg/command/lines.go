package command

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/craftledger/craftledger/pkg/kit"
)

// DecodeLine decodes one back-filled JSON Lines record into v exactly as
// the single-record route decodes a request body (kit.DecodeJSON): an
// unknown field, a key that matches a field only case-insensitively, a key
// given twice, a wrong type or trailing data is errs.InvalidArgument naming
// the field. One decoder for both, so a line is refused for the same
// reasons, with the same message, as the request it stands for.
func DecodeLine(rec Record, v any) error {
	r := &http.Request{Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(rec.Raw))}
	return kit.DecodeJSON(r, v, int64(len(rec.Raw))+1)
}

// Line is what a service makes of one back-filled record.
type Line struct {
	// Shard orders the lines (the craftsman's stream or id); Key is the
	// line's own idempotency key ("" = derived from its content).
	Shard, Key string
	// Run performs the line's command through the service.
	Run func(ctx context.Context) (Result, error)
	// Build, when set with Handler, returns the line's validated,
	// authorized command without running it, so consecutive lines of one
	// shard are appended together (Handler.ExecuteBatch).
	Build   func(ctx context.Context) (Command, error)
	Handler *Handler
	// Group, when set, runs the line with its shard's neighbouring lines
	// of the same Group (Job.Group), given Value (what the service made
	// of the record).
	Group *Group
	Value any
}

// PrepareImport is a BackfillHandler's Prepare: it authorizes the request
// as a whole once (authorize), then makes each record into a Job with line;
// each line's command runs with the line's key as its idempotency key and
// causation id (the first event id for a key that is no ValidRequestID),
// source "import", and one correlation id for the file ("backfill-<uuid>").
func PrepareImport(authorize func(ctx context.Context) error, line func(Record) (Line, error)) func(ctx context.Context, format string) (PrepareFunc, error) {
	return func(ctx context.Context, _ string) (PrepareFunc, error) {
		if err := authorize(ctx); err != nil {
			return nil, err
		}
		correlation := "backfill-" + NewID()
		lineCtx := func(ctx context.Context, key string) context.Context {
			// The causation id defaults to the key (when it is a
			// ValidRequestID; a file's key may hold anything).
			return WithSource(WithRequest(ctx, key, correlation, ""), "import")
		}
		return func(rec Record) (Job, error) {
			l, err := line(rec)
			if err != nil {
				return Job{}, err
			}
			job := Job{Shard: l.Shard, Key: l.Key, Run: func(ctx context.Context, key string) (Result, error) {
				return l.Run(lineCtx(ctx, key))
			}}
			if l.Build != nil && l.Handler != nil {
				job.Handler = l.Handler
				job.Command = func(ctx context.Context, key string) (Command, error) { return l.Build(lineCtx(ctx, key)) }
			}
			if l.Group != nil {
				job.Group = l.Group
				job.Part = func(ctx context.Context, key string) GroupLine {
					return GroupLine{Ctx: lineCtx(ctx, key), Value: l.Value}
				}
			}
			return job, nil
		}, nil
	}
}
