// Package pkg holds craftledger's shared machinery: the event-store port and
// its adapter over the official KurrentDB client, the embedded KurrentDB-
// compatible server, the error-kind table, circuit breakers and auth.
package pkg
