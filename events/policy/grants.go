package policy

import (
	"fmt"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
)

// GrantDecision is what a placement earns under its competition's rules:
// at most one promotion entitlement (nil when none, with Reason saying
// why) and the honours its bands trigger, ready to append (deterministic
// ids, so a retried publication appends nothing new).
type GrantDecision struct {
	Entitlement *events.PromotionEntitlementGranted `json:"entitlement,omitempty"`
	RuleID      string                              `json:"ruleId,omitempty"`
	Reason      string                              `json:"reason"`
	Honours     []events.HonourConferred            `json:"honours,omitempty"`
}

// EntitlementID is the deterministic id of the entitlement of a placement.
func EntitlementID(placementID string) string {
	return "ent-" + events.DeterministicID("entitlement", placementID)
}

// HonourID is the deterministic id of an honour triggered by a placement.
func HonourID(placementID, code string) string {
	return "hon-" + events.DeterministicID("honour", placementID, code)
}

// GrantInput is what CompetitionGrant decides on. The worker's levels and
// the worker's entitlements are separate inputs on purpose: the levels are
// those held on the results' date, but the yearly cap must count every
// competition entitlement of that year the stream records, including ones
// dated later (results published or back-filled out of order). A single
// state folded as of the date could not see those, and the cap could be
// granted twice.
type GrantInput struct {
	// Competition is the competition's definition and rule set.
	Competition events.CompetitionDefined
	// Placement is the placement to decide on.
	Placement events.CompetitionPlaced
	// AsOf is the worker's career folded as of the results' date At; only
	// the levels held are read from it (its Entitlements are ignored).
	AsOf *career.State
	// Entitlements is every entitlement the worker's stream records, whatever
	// its date (e.g. career.Fold of the whole stream, .Entitlements).
	Entitlements []career.Entitlement
	// At is the results' date.
	At time.Time
}

// CompetitionGrant applies a competition's rule set to one placement. The
// first grant rule whose band matches applies: level X, or X+1 when X is
// already held on in.At and the rule raises; nothing when the worker
// already holds the level. The yearly cap counts the competition
// entitlements in in.Entitlements granted in At's calendar year, whenever
// they were recorded. A placement that already has its entitlement gets
// none again.
func CompetitionGrant(in GrantInput) GrantDecision {
	def, pl, at := in.Competition, in.Placement, in.At
	var d GrantDecision
	rules := def.Rules
	for _, h := range rules.Honours {
		if h.Band.Matches(pl.Track, pl.TeamSize, pl.Rank, pl.Award) {
			tr := pl.Trade
			d.Honours = append(d.Honours, events.HonourConferred{CraftsmanID: pl.CraftsmanID, HonourID: HonourID(pl.PlacementID, h.HonourCode),
				Code: h.HonourCode, Name: h.HonourName, Level: h.Level, ConferringBody: h.ConferringBody, Trade: &tr, PlacementID: pl.PlacementID})
		}
	}
	var rule *events.GrantRule
	for i := range rules.Grants {
		if rules.Grants[i].Band.Matches(pl.Track, pl.TeamSize, pl.Rank, pl.Award) {
			rule = &rules.Grants[i]
			break
		}
	}
	if rule == nil {
		d.Reason = fmt.Sprintf("no grant rule of %s matches rank %d (%s, %s, team of %d)", def.CompetitionID, pl.Rank, pl.Award, pl.Track, pl.TeamSize)
		return d
	}
	d.RuleID = rule.ID
	id := EntitlementID(pl.PlacementID)
	thisYear, year := 0, career.CivilDate(at).Year() // calendar years in China, as every date of the rules
	for _, en := range in.Entitlements {
		if en.ID == id || (en.Origin.Kind == events.SourceCompetition && en.Origin.PlacementID == pl.PlacementID) {
			d.Reason = fmt.Sprintf("placement %s already has entitlement %s", pl.PlacementID, en.ID)
			return d
		}
		if en.Origin.Kind == events.SourceCompetition && career.CivilDate(en.Granted).Year() == year {
			thisYear++
		}
	}
	var held events.Level
	if in.AsOf != nil {
		held = in.AsOf.Level(pl.Trade.Code)
	}
	level := rule.Level
	switch {
	case held < rule.Level:
	case held == rule.Level && rule.RaiseIfHeld && (held + 1).Certifiable():
		level = held + 1
	default:
		d.Reason = fmt.Sprintf("rule %s grants %s but %s is already held", rule.ID, rule.Level, held)
		return d
	}
	if rules.MaxPromotionsPerYear > 0 && thisYear >= rules.MaxPromotionsPerYear {
		d.Reason = fmt.Sprintf("yearly cap reached: %d competition promotion(s) already granted in %d (max %d)", thisYear, year, rules.MaxPromotionsPerYear)
		return d
	}
	d.Entitlement = &events.PromotionEntitlementGranted{CraftsmanID: pl.CraftsmanID, EntitlementID: id, Trade: pl.Trade, Level: level,
		Source:           events.EntitlementSource{Kind: events.SourceCompetition, CompetitionID: def.CompetitionID, PlacementID: pl.PlacementID, RuleID: rule.ID},
		RequiresApproval: rules.RequiresApproval}
	d.Reason = fmt.Sprintf("rule %s: %s", rule.ID, level)
	return d
}
