// Package security holds craftledger's security proofs, as tests: the
// authorization matrix (every caller against every command route of the
// five services and every top-level GraphQL field), the store's own
// authentication and ACLs, TLS to the store, secrets kept out of logs, and
// per-caller rate limiting. The harness is in package sectest.
package security
