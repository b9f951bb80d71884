// Package mentorship is the go-kit service that records master–apprentice
// pairings (名师带徒, 企业新型学徒制) in the career ledger: a pairing
// started, progress sessions logged, completed with the level the
// apprentice reached, or ended early.
//
// Both workers' histories show it. Every fact is appended to three
// streams, with the same payload and ids derived from the pairing:
//   - mentorship-<id>: the pairing's own lifecycle; its state machine
//     (active → completed | ended early) is decided here.
//   - craftsman-<master>: the master's ledger. The start is appended here
//     first, at the revision the decision read, so the limit on a master's
//     active apprentices holds under concurrent starts.
//   - craftsman-<apprentice>: the apprentice's ledger.
//
// Copies rather than links: the career fold, the projections and an
// auditor replaying one craftsman's stream see the mentorship without
// resolving another stream, and a worker's exported record is
// self-contained. The three appends are not one transaction; each event's
// id is deterministic (events.DeterministicID of the pairing, the fact and
// the stream) and every append first looks for its id, so repeating a
// request completes whatever a failure left half-written and never
// duplicates.
//
// Corrections are recorded on the workers' streams only, where every view
// and audit reads the facts; the pairing's decisions fold them from there:
// a start, completion or early end whose copy a correction retracted on
// either worker's stream no longer counts (a completion retracted reopens
// the pairing). A fact retracted and sent again is recorded again, under
// the next id of its chain (servicekit.FactOnStream); a start retracted
// is not: the pairing is started under a new id.
//
// Rules applied (Options): a master must hold at least senior (高级工,
// level 3) in the pairing's trade on the start date, and more than the
// apprentice holds in it; a master has at most 8 active apprentices, and
// one active pairing with the same apprentice in a trade; a worker cannot
// mentor themselves; a planned length is 12–36 months.
package mentorship
