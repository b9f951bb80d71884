// Package servicekit is the wiring the write-side services share: the
// steps every command starts with (Writer: who may write and for which
// issuer; When and Check: occurredAt and payload validation; Invalid: the
// events module's field errors as 400s; Seal: the hash chain), the
// correction command (EventCorrected on a craftsman's stream, for the facts
// a service owns), the JSON Lines back-fill plumbing (BackfillPrepare;
// lines decode with command.DecodeLine), and the binaries' configuration (flags with an
// environment variable each, read after parsing and checked, so a bad value
// stops start-up instead of silently meaning a default; JWT key loading
// with a length check; credentials never printed).
//
// Test helpers shared by the services live in servicekit/servicetest.
package servicekit
