package command

import (
	"strconv"

	"github.com/google/uuid"
)

// Namespace is the UUIDv5 namespace of craftledger's deterministic event ids.
// It never changes: changing it would make retried commands write twice.
var namespace = uuid.MustParse("6f1d3c2e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")

// EventID is the deterministic id of the index-th event (from 0) that a
// command with idempotency key key appends to stream: UUIDv5 over
// "stream\nkey\nindex". The stream is part of the name so one key may be used
// across several streams (a published result list writes to many workers).
func EventID(stream, key string, index int) string {
	return uuid.NewSHA1(namespace, []byte(stream+"\n"+key+"\n"+strconv.Itoa(index))).String()
}

// NewID is a random (v4) UUID for events of commands without a key.
func NewID() string { return uuid.NewString() }
