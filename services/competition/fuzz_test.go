package competition_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/competition"
)

// FuzzHTTPDecoders sends arbitrary bodies to every route of the competition
// service's HTTP handler over the embedded store (servicetest.FuzzHTTPDecoders
// says what must hold). The seed corpus is in testdata/fuzz/FuzzHTTPDecoders;
// `go test -fuzz FuzzHTTPDecoders` explores further.
func FuzzHTTPDecoders(f *testing.F) {
	servicetest.FuzzHTTPDecoders(f, competition.Routes(), func(st eventstore.Store) (http.Handler, error) {
		svc, err := competition.New(st, time.Now, competition.Options{})
		if err != nil {
			return nil, err
		}
		return competition.NewHTTPHandler(svc, slog.New(slog.DiscardHandler), auth.DevKey(), competition.HTTPOptions{}), nil
	})
}
