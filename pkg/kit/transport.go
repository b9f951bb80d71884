package kit

import (
	"log/slog"

	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/craftledger/craftledger/pkg/auth"
)

// ServerOptions are the go-kit httptransport.Server options every service
// uses: EncodeError as the error encoder, transport errors logged through
// logger, and the bearer token moved into the context for
// auth.EndpointMiddleware. Extra options are appended.
func ServerOptions(logger *slog.Logger, extra ...httptransport.ServerOption) []httptransport.ServerOption {
	opts := []httptransport.ServerOption{
		httptransport.ServerErrorEncoder(EncodeError),
		httptransport.ServerErrorHandler(ErrorHandler{Logger: logger}),
		httptransport.ServerBefore(auth.HTTPToContext),
	}
	return append(opts, extra...)
}
