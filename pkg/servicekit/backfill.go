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
	return func(ctx context.Context, format string) (command.PrepareFunc, error) {
		if err := AdmitImport(ctx); err != nil {
			return nil, err
		}
		if format != command.FormatJSONLines {
			return nil, errs.E(errs.InvalidArgument, "%s are back-filled as JSON Lines (application/x-ndjson)", what)
		}
		correlation := "backfill-" + command.NewID()
		return func(rec command.Record) (command.Job, error) {
			craftsman, key, run, err := prep(rec)
			if err != nil {
				return command.Job{}, err
			}
			return command.Job{Shard: craftsman, Key: key, Run: func(ctx context.Context, key string) (command.Result, error) {
				ctx = command.WithSource(command.WithRequest(ctx, key, correlation, key), "import")
				return run(ctx)
			}}, nil
		}, nil
	}
}
