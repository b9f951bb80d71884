package servicekit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func TestEndpointRefusesAWrongRequestType(t *testing.T) {
	e := servicekit.Endpoint(func(_ context.Context, s string) (int, error) { return len(s), nil })
	if got, err := e(context.Background(), "four"); err != nil || got != 4 {
		t.Errorf("right type: %v %v", got, err)
	}
	if _, err := e(context.Background(), 4); !errors.Is(err, errs.Internal) {
		t.Errorf("wrong type: %v, want errs.Internal", err)
	}
}
