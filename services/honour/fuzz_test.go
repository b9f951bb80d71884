package honour_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/honour"
)

// FuzzHTTPDecoders sends arbitrary bodies to every route of the honour
// service's HTTP handler over the embedded store (servicetest.FuzzHTTPDecoders
// says what must hold). The seed corpus is in testdata/fuzz/FuzzHTTPDecoders;
// `go test -fuzz FuzzHTTPDecoders` explores further.
func FuzzHTTPDecoders(f *testing.F) {
	servicetest.FuzzHTTPDecoders(f, honour.Routes(), func(st eventstore.Store) (http.Handler, error) {
		svc, err := honour.New(st, time.Now, honour.Options{})
		if err != nil {
			return nil, err
		}
		return honour.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), honour.HTTPOptions{}), nil
	})
}
