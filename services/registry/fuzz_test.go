package registry_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/registry"
)

// FuzzHTTPDecoders sends arbitrary bodies to every route of the registry
// service's HTTP handler over the embedded store (servicetest.FuzzHTTPDecoders
// says what must hold). The seed corpus is in testdata/fuzz/FuzzHTTPDecoders;
// `go test -fuzz FuzzHTTPDecoders` explores further.
func FuzzHTTPDecoders(f *testing.F) {
	servicetest.FuzzHTTPDecoders(f, registry.Routes(), func(st eventstore.Store) (http.Handler, error) {
		svc, err := registry.New(st, time.Now, registry.Options{NationalIDKey: []byte(registry.DevNationalIDKey)})
		if err != nil {
			return nil, err
		}
		return registry.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), registry.HTTPOptions{}), nil
	})
}
