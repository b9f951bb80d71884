package servicekit

import (
	"context"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// AdmitImport admits a back-fill request: issuers and admins (each line is
// then authorized like its command).
func AdmitImport(ctx context.Context) error {
	c, err := auth.Require(ctx)
	if err != nil {
		return err
	}
	return c.RequireRole(auth.RoleIssuer, auth.RoleAdmin)
}

// LinePreparer turns one back-filled line into the worker it concerns (the
// shard: one worker's lines run in order), its idempotency key ("" = derived
// from the line) and the commands to run; an error refuses the line.
type LinePreparer func(rec command.Record) (craftsmanID, key string, run func(context.Context) (command.Result, error), err error)

// BackfillPrepare authorizes a whole back-fill request (issuers and admins
// only; JSON Lines only; what names the records in the refusal), then
// turns each line into a Job whose commands carry the line's key, source
// "import" and one correlation id for the file.
func BackfillPrepare(what string, prep LinePreparer) func(ctx context.Context, format string) (command.PrepareFunc, error) {
	return BackfillLines(what, func(rec command.Record) (command.Line, error) {
		craftsman, key, run, err := prep(rec)
		return command.Line{Shard: craftsman, Key: key, Run: run}, err
	})
}

// BackfillLines is BackfillPrepare for lines that may also offer their
// command unrun (command.Line's Build and Handler), so that the runner
// appends consecutive lines of one craftsman together.
func BackfillLines(what string, line func(rec command.Record) (command.Line, error)) func(ctx context.Context, format string) (command.PrepareFunc, error) {
	prepare := command.PrepareImport(AdmitImport, line)
	return func(ctx context.Context, format string) (command.PrepareFunc, error) {
		if format != command.FormatJSONLines {
			if err := AdmitImport(ctx); err != nil {
				return nil, err
			}
			return nil, errs.E(errs.InvalidArgument, "%s are back-filled as JSON Lines (application/x-ndjson)", what)
		}
		return prepare(ctx, format)
	}
}

// Batcher is a service's own implementation (under its middlewares) as
// back-fill sees it: the handler its commands run on.
type Batcher interface{ Handler() *command.Handler }

// ImportPrepare is the Prepare of a bulk endpoint taking JSON Lines and
// CSV whose lines prep makes (usually with ImportLine): it finds the
// service's own implementation B under svc's middlewares (B's zero value
// when there is none) and hands it to prep with each record;
// command.PrepareImport authorizes the request once and gives each line
// its key, source "import" and the file's correlation id.
func ImportPrepare[B Batcher, S any](svc S, prep func(S, B, command.Record) (command.Line, error)) func(ctx context.Context, format string) (command.PrepareFunc, error) {
	b, _ := Find[B](svc) // under the middlewares
	return command.PrepareImport(AdmitImport, func(rec command.Record) (command.Line, error) { return prep(svc, b, rec) })
}

// ImportLine is a back-filled line of one craftsman that runs req: alone
// through run (the service under its middlewares, as its route does) and,
// when b is set, as b's command unrun (build), so that the runner appends
// it together with the craftsman's neighbouring lines.
func ImportLine[B Batcher, R any](craftsman, key string, req R, run func(context.Context, R) (command.Result, error),
	b B, build func(B, context.Context, R) (command.Command, error)) command.Line {
	l := command.Line{Shard: craftsman, Key: key, Run: func(ctx context.Context) (command.Result, error) { return run(ctx, req) }}
	if any(b) != nil && build != nil {
		l.Handler = b.Handler()
		l.Build = func(ctx context.Context) (command.Command, error) { return build(b, ctx, req) }
	}
	return l
}
