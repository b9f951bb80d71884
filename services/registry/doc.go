// Package registry is the go-kit service that records who is who in the
// career ledger: craftsmen (registration with a keyed hash of the national ID
// number, profile changes, trades entered, employment started and ended),
// academies (kind, region, courses) and issuers with their users.
//
// Layout, as in go-kit's addsvc: Service (the interface) and New (the
// implementation over pkg/command), LoggingMiddleware and
// InstrumentingMiddleware, the endpoint Set, and NewHTTPHandler (the JSON
// transport). cmd/registry wires it from flags; the all-in-one binary mounts
// NewHTTPHandler in-process. The HTTP API is described in openapi.yaml and
// docs/services.md.
package registry
