// Package pgcompare benchmarks the embedded store side by side with
// PostgreSQL used as an event store the way a Go team would: an events table
// with a unique (stream, revision) key, one transaction per append, LISTEN/
// NOTIFY for live delivery. It is a separate module (pgx is needed only
// here); run it with ./run.sh, which starts a throwaway PostgreSQL cluster
// from Debian's packages and runs the benchmarks against both.
package pgcompare
