package servicekit

import (
	"context"
	"errors"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/kit"
)

// PlatformOrg is the issuer organisation recorded for admins (and system
// work): the one an auditor's verify lets record anything.
const PlatformOrg = "craftledger"

// Seal chains every event a service appends (events/chain), so that an
// auditor can prove a stream was not altered. Every service writing
// craftsman streams seals with it, so the chains of shared streams hold.
func Seal(prev, typ string, data []byte, m command.Metadata) ([]byte, string, error) {
	sm, b, err := chain.Seal(prev, typ, data, events.Metadata(m))
	return b, sm.Hash, err
}

// Writer returns a command's metadata and caller (command.MetaFrom). The
// caller must be an issuer or an admin; an admin's command is recorded as
// issued by PlatformOrg, whatever organisation their token names (as
// Corrector records an admin's correction): recorded under that
// organisation, a fact of another organisation (an admin recording a
// training for an academy) would fail the issuer rule of an auditor's
// verify. The caller's organisation stays in the claims returned.
func Writer(ctx context.Context) (command.Meta, auth.Claims, error) {
	meta, c, err := command.MetaFrom(ctx)
	if err != nil {
		return meta, c, err
	}
	if err := c.RequireRole(auth.RoleIssuer, auth.RoleAdmin); err != nil {
		return meta, c, err
	}
	if meta.Issuer == "" || c.IsAdmin() {
		meta.Issuer = PlatformOrg
	}
	return meta, c, nil
}

// Invalid maps an events.FieldError to a kit field error (400
// INVALID_ARGUMENT naming the field); any other error is returned as it is.
func Invalid(err error) error {
	var fe *events.FieldError
	if errors.As(err, &fe) {
		return kit.Invalid(fe.Field, "%s", fe.Message)
	}
	return err
}

// When reads a request's occurredAt against now (command.ParseWhen, at
// most events.FutureSkew ahead); empty means now, in UTC.
func When(v string, now time.Time) (time.Time, error) {
	at, err := parseWhen(v, now)
	if err != nil {
		return at, err
	}
	if at.IsZero() {
		at = now.UTC()
	}
	return at, nil
}

// Check validates a payload and the occurredAt it is recorded at, against
// now: the time as ParseWhen reads it (zero when empty: the handler then
// stamps the command's time), the payload's own rules, and for a
// events.Datable payload the rules that depend on now.
func Check(p events.Payload, v string, now time.Time) (time.Time, error) {
	at, err := parseWhen(v, now)
	if err != nil {
		return at, err
	}
	if err := p.Validate(); err != nil {
		return at, Invalid(err)
	}
	if d, ok := p.(events.Datable); ok {
		if err := d.ValidateAt(now); err != nil {
			return at, Invalid(err)
		}
	}
	return at, nil
}

// parseWhen is command.ParseWhen with the services' future skew, its error
// about the field occurredAt.
func parseWhen(v string, now time.Time) (time.Time, error) {
	at, err := command.ParseWhen(v, now, events.FutureSkew)
	if err != nil {
		return at, kit.FieldErr("occurredAt", err)
	}
	return at, nil
}
