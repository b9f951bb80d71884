// Package servicetest is the test harness the write-side services share:
// a service served over the embedded store (Env), reading and folding a
// craftsman's stream from the real store, posting back-fill files, fuzzing
// the HTTP decoders, running a binary in-process and checking its start-up
// refusals and --help, and checking a service's OpenAPI file against its
// routes.
package servicetest
