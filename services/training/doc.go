// Package training is the go-kit service that records what a craftsman
// learns and proves: enrolments and course completions at academies (hours,
// mode), school graduations, professional titles, skill assessments and
// skill-level certificates — by the regular route, or by the exceptional
// route, which must cite an approved promotion entitlement on the worker's
// stream and is refused otherwise. Academies back-fill years of paper
// records through the bulk endpoints (JSON Lines or CSV, per-line results).
//
// Layout, as in go-kit's addsvc: Service and New, LoggingMiddleware and
// InstrumentingMiddleware, the endpoint Set, NewHTTPHandler (JSON transport
// and the back-fill handlers). cmd/training wires it from flags; the
// all-in-one binary mounts NewHTTPHandler in-process. The HTTP API is in
// openapi.yaml and docs/services.md.
package training
