// Package badinput holds craftledger's bad-input proofs, as tests: a table
// of malformed requests for every command route of the five services and
// the GraphQL endpoint, sent over real HTTP to the all-in-one on the
// embedded store, each answered with its exact 4xx status, stable code and
// field, and leaving the store's $all exactly as it was.
package badinput
