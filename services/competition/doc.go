// Package competition is the go-kit service that records labour skill
// competitions (以赛促学) in the career ledger: their definitions with their
// own promotion and honour rules, their published results, and the
// human-resources department's approval (核准) of the promotion
// entitlements those results grant.
//
// Streams and events:
//   - competition-<id>: CompetitionDefined.v1 (tier, trades, tracks, dates,
//     rules), then one CompetitionResultsPublished.v1 per publication that
//     added placements.
//   - craftsman-<id>: for each placement CompetitionPlaced.v1 and, when the
//     competition's rules grant one (respecting the yearly cap),
//     PromotionEntitlementGranted.v1, appended together; later
//     PromotionEntitlementApproved.v1.
//
// Exactly once: a placement's id is events.PlacementID(competition,
// craftsman, trade, track) and its events' ids are derived from it
// (events.DeterministicID), and a worker's stream that already records the
// placement is left alone, so a retried or repeated publication never
// double-counts a placement, an entitlement or the yearly cap; one a
// correction retracted is not recorded again. Results cannot be dated
// before their competition (their date decides the year of the cap).
//
// Two events, not one (POLICY.md): rules that grant levels must require
// approval, and a level is certified (training service) only through an
// approved entitlement. A retracted placement's entitlement goes with it
// (career.Fold): it cannot be approved or used and does not count toward
// the cap. A placement corrected to what the rules decide otherwise (rank,
// award, team, date) has its entitlement decided again in the correction's
// append (Correct): the one it no longer earns is retracted by an
// EventCorrected, the one it now earns granted under a new id; a used
// entitlement refuses the correction. A correction is checked as
// publication is: not dated before the competition, and its trade and
// track stay the placement's (its id names them).
//
// Who may do what: competitions are defined and their results published by
// an issuer of the organising organisation (or an admin); entitlements are
// approved by an hr user (the human-resources authority; Options.Approvers
// may restrict which organisations) or an admin.
package competition
