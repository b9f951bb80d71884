// Package events is craftledger's event catalogue: what can happen in a
// craftsman's career, as explicit, versioned, self-validating payloads.
// It imports only the standard library.
package events
