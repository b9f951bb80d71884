package command

import (
	"strconv"

	"github.com/google/uuid"
)

// Namespace is the UUIDv5 namespace of craftledger's deterministic event ids.
// It never changes: changing it would make retried commands write twice.
var namespace = uuid.MustParse("6f1d3c2e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")

// EventID is the deterministic id of the index-th event (from 0) that a
// command with idempotency key key appends to stream when it is the first
// to use key on stream: UUIDv5 over "stream\nkey\nindex". The stream is part
// of the name so one key may be used across several streams (a published
// result list writes to many workers). Another organisation reusing the key
// on the same stream gets ScopedEventID instead, so it never collides with,
// nor replays, the first user's events.
func EventID(stream, key string, index int) string {
	return uuid.NewSHA1(namespace, []byte(stream+"\n"+key+"\n"+strconv.Itoa(index))).String()
}

// ScopedEventID is the deterministic id of the index-th event of a command
// keyed key on stream, issued by organisation org, when another organisation
// already used key on stream: UUIDv5 over "stream\norg\nkey\nindex" (with a
// distinct prefix, so it never equals an EventID).
func ScopedEventID(stream, org, key string, index int) string {
	return uuid.NewSHA1(namespace, []byte("org\n"+stream+"\n"+org+"\n"+key+"\n"+strconv.Itoa(index))).String()
}

// keyedID is the id of the index-th event of a keyed command: EventID when
// scope is "", else ScopedEventID for organisation scope.
func keyedID(stream, scope, key string, index int) string {
	if scope == "" {
		return EventID(stream, key, index)
	}
	return ScopedEventID(stream, scope, key, index)
}

// NewID is a random (v4) UUID for events of commands without a key.
func NewID() string { return uuid.NewString() }
