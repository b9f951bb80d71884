package servicekit

import (
	"context"
	"log/slog"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
)

// CommandLog is how every service's logging middleware logs a command's
// outcome: a success at debug level, a rejection (a business error, see
// errs.IsBusiness) at info, any other failure at error, each with the
// service, the method, what the command was about and how long it took.
type CommandLog struct {
	Logger  *slog.Logger
	Service string // "registry", "training", …
	Subject string // the attribute naming what a command is about ("subject", "craftsman")
}

// Done logs one command. ok returns a success's own attributes; it is
// called only when debug logging is on, so a service at info level does not
// box a success's attributes on every command.
func (l CommandLog) Done(ctx context.Context, method, subject string, begin time.Time, err error, ok func() []any) {
	switch {
	case err == nil:
		if !l.Logger.Enabled(ctx, slog.LevelDebug) {
			return
		}
		attrs := append([]any{"service", l.Service, "method", method, l.Subject, subject}, ok()...)
		l.Logger.DebugContext(ctx, "command", append(attrs, "took", time.Since(begin))...)
	case errs.IsBusiness(err):
		l.Logger.InfoContext(ctx, "command rejected", "service", l.Service, "method", method, l.Subject, subject,
			"code", errs.Code(err), "err", err, "took", time.Since(begin))
	default:
		l.Logger.ErrorContext(ctx, "command failed", "service", l.Service, "method", method, l.Subject, subject,
			"code", errs.Code(err), "err", err, "took", time.Since(begin))
	}
}

// ResultAttrs are the log attributes of a command's result.
func ResultAttrs(res command.Result) []any {
	return []any{"stream", res.Stream, "revision", res.Revision, "replayed", res.Replayed}
}
