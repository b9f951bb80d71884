package mentorship_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/mentorship"
)

// FuzzHTTPDecoders sends arbitrary bodies to every route of the mentorship
// service's HTTP handler over the embedded store (servicetest.FuzzHTTPDecoders
// says what must hold). The seed corpus is in testdata/fuzz/FuzzHTTPDecoders;
// `go test -fuzz FuzzHTTPDecoders` explores further.
func FuzzHTTPDecoders(f *testing.F) {
	servicetest.FuzzHTTPDecoders(f, mentorship.Routes(), func(st eventstore.Store) (http.Handler, error) {
		svc, err := mentorship.New(st, time.Now, mentorship.Options{})
		if err != nil {
			return nil, err
		}
		return mentorship.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), mentorship.HTTPOptions{}), nil
	})
}
