// Package servicetest is the test harness the write-side services share:
// reading and folding a craftsman's stream from the real store, and
// checking a service's OpenAPI file against its routes.
package servicetest
