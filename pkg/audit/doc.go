// Package audit is the auditors' engine. It works straight from the event
// store through the store port (pkg/eventstore), independent of the running
// services and of the GraphQL projection:
//
//   - Replay reads one stream, one category or everything, bounded by
//     revision, by $all position and by record time, and writes it as JSON
//     Lines (byte-exact data and metadata) or as a readable table;
//   - Verify checks the tamper-evidence hash chain (events/chain) of every
//     stream in scope, reports the first break per stream, gaps in
//     revisions, and events whose issuer was not allowed to record them
//     (the rule is IssuerRules, documented in docs/audit.md);
//   - State rebuilds a craftsman's career state, pathways and eligibility
//     as of a date from the raw events with the domain's own fold
//     (events/career) and policy engine (events/policy);
//   - Diff compares that rebuild with what the GraphQL API answers for the
//     same craftsman and date;
//   - Export writes a craftsman's or an academy's history as JSON Lines or
//     CSV.
//
// Long work reports Progress through a callback; the command line
// (ledgerctl) draws it as a progress bar.
package audit
