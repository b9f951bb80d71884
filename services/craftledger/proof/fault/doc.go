// Package fault holds craftledger's automated fault tests: the real
// bin/eventstore process killed with SIGKILL and restarted under load, the
// GraphQL projector killed and resumed, a service killed in the middle of a
// back-fill, a full or unwritable data directory for the store, and a slow
// store behind a latency-injecting TCP proxy. Each test drives the real HTTP
// services over loopback and checks, afterwards, the store's own content:
// no acknowledged command lost, nothing written twice. docs/reliability.md
// lists them with their results. The tests build the binaries they kill
// with `go build` into a temporary directory and are skipped with -short.
package fault
