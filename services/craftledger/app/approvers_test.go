package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/services/craftledger/app"
	"github.com/craftledger/craftledger/services/craftledger/generate"
	"github.com/craftledger/craftledger/services/registry"
)

// TestDefaultApproversApproveTheDemo: with no Approvers configured the
// all-in-one restricts entitlement approval to DefaultApprovers, and the
// demo generator's approvals all come from those authorities — loading
// the demo (which approves through the real service, failing on a
// refusal) succeeds, and every approval written names one of them.
func TestDefaultApproversApproveTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a demo population")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", StoreAddr: "127.0.0.1:0", Key: auth.DevKey(),
		NationalIDKey: []byte(registry.DevNationalIDKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, _, err := a.LoadDemo(ctx, generate.Config{Craftsmen: 300, Seed: 1, Concurrency: 4}, nil); err != nil {
		t.Fatalf("demo under the default approvers: %v", err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	recs, err := a.Store().ReadAll(rctx, eventstore.ReadAllOptions{Max: 1 << 20,
		Filter: &eventstore.Filter{OnEventType: true, Prefixes: []string{events.TypePromotionEntitlementApproved}}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		if r.Type != events.TypePromotionEntitlementApproved {
			continue
		}
		m, err := events.DecodeMetadata(r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		seen[m.IssuerOrgID]++
	}
	if len(seen) == 0 {
		t.Fatal("the demo approved no entitlement; the test checks nothing")
	}
	for org, n := range seen {
		if !slices.Contains(app.DefaultApprovers(), org) {
			t.Errorf("%d approvals by %s, which is not a default approver", n, org)
		}
	}
	t.Logf("approvals by authority: %v", seen)
}
