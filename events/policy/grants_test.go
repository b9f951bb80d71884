package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

// Results recorded out of order: a competition entitlement dated September
// is already on the stream when results dated March are recorded. The
// worker's levels are those of March, but the cap counts September's
// entitlement too, so the cap of one is not granted twice.
func TestCompetitionGrantCapSeesLaterEntitlements(t *testing.T) {
	def := events.CompetitionDefined{CompetitionID: "c-march", Rules: events.CompetitionRules{
		Grants:               []events.GrantRule{{ID: "r1", Band: events.Band{FromRank: 1, ToRank: 3}, Level: 3, RaiseIfHeld: true}},
		MaxPromotionsPerYear: 1,
	}}
	pl := events.CompetitionPlaced{CraftsmanID: "w", CompetitionID: "c-march", PlacementID: "p-march",
		Trade: events.Trade{Code: "6-31-01-03"}, Rank: 1}
	march := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	september := career.Entitlement{ID: "ent-sep", Trade: "6-31-01-03", Level: 3, Granted: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		Origin: events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: "c-sep", PlacementID: "p-sep"}}
	asOfMarch := &career.State{CraftsmanID: "w", Trades: map[string]*career.Trade{}}

	tests := []struct {
		name      string
		known     []career.Entitlement
		wantGrant bool
		reason    string
	}{
		{name: "none known", wantGrant: true, reason: "rule r1"},
		{name: "later entitlement of the same year", known: []career.Entitlement{september}, reason: "yearly cap reached"},
		{name: "entitlement of another year", known: []career.Entitlement{func() career.Entitlement {
			e := september
			e.Granted = e.Granted.AddDate(1, 0, 0)
			return e
		}()}, wantGrant: true, reason: "rule r1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.CompetitionGrant(policy.GrantInput{Competition: def, Placement: pl, AsOf: asOfMarch, Entitlements: tc.known, At: march})
			if got := d.Entitlement != nil; got != tc.wantGrant {
				t.Errorf("granted = %v, want %v (%s)", got, tc.wantGrant, d.Reason)
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tc.reason)
			}
		})
	}
}
