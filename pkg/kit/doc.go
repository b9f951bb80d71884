// Package kit is the operational machinery every craftledger HTTP server
// shares, so that the go-kit services and the GraphQL server behave alike:
//
//   - errors: one JSON error body and one mapping of pkg/errs kinds to HTTP
//     status (EncodeError), with the offending field named (FieldError) and
//     Retry-After on 503 and 429 answers;
//   - requests: strict JSON decoding (DecodeJSON, DecodeRequest) that refuses
//     unknown fields, trailing data and oversize bodies;
//   - operations: /healthz, /readyz and Prometheus /metrics (Metrics), an
//     instrumenting and a logging go-kit endpoint middleware, per-caller rate
//     limiting (RateLimiter);
//   - lifecycle: Run starts HTTP servers in an oklog/run group and shuts them
//     down gracefully on SIGINT/SIGTERM or context cancellation.
//
// The error body, documented in docs/platform.md:
//
//	{"error":{"code":"INVALID_ARGUMENT","message":"field \"hours\": must be positive","field":"hours"}}
package kit
