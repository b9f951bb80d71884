package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// TestCallerDeadlineDoesNotTripBreaker: calls that end because the caller's
// own (shorter) deadline passed are the caller giving up, not the store
// failing, so they never open the breaker that guards every other call.
// A read-your-writes wait that times out must leave the write side alone.
func TestCallerDeadlineDoesNotTripBreaker(t *testing.T) {
	c := open(t, eventstore.Config{
		URL:     "esdb://" + silentStore(t) + "?tls=false",
		Timeout: 300 * time.Millisecond,
		Breaker: eventstore.BreakerConfig{Failures: 2, OpenFor: time.Minute},
	})
	data := eventstore.EventData{Type: "Thing.v1", Data: []byte(`{}`)}
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.Append(ctx, "slow-1", eventstore.Any(), data)
		cancel()
		if !errors.Is(err, errs.DeadlineExceeded) {
			t.Fatalf("append %d with the caller's short deadline = %v, want errs.DeadlineExceeded", i, err)
		}
		if errors.Is(err, eventstore.ErrBreakerOpen) {
			t.Fatalf("append %d: breaker opened by the caller's own deadlines: %v", i, err)
		}
	}
	if got := c.BreakerState(); got != "closed" {
		t.Fatalf("after 5 caller deadlines the breaker is %q, want closed", got)
	}
	// The adapter's own timeout still counts: two of them open it.
	for i := 0; i < 2; i++ {
		if _, err := c.Append(context.Background(), "slow-1", eventstore.Any(), data); !errors.Is(err, errs.DeadlineExceeded) {
			t.Fatalf("append with the adapter's timeout = %v, want errs.DeadlineExceeded", err)
		}
	}
	if got := c.BreakerState(); got != "open" {
		t.Errorf("after two adapter timeouts the breaker is %q, want open", got)
	}
}
