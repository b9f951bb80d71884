package registry

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
)

// A national ID number belongs to one craftsman. Uniqueness across streams
// is kept by a reservation stream per keyed hash, "nationalid-<hash>"
// (events.NationalIDStream), written before the registration (KurrentDB
// has no multi-stream transaction).

// CategoryNationalID is the stream category of national ID reservations
// (events.CategoryNationalID).
const CategoryNationalID = events.CategoryNationalID

// ReservationGrace is how long a reservation whose craftsman does not (yet)
// hold the number still blocks other craftsmen: a registration in flight
// finishes well within it; after it, a reservation left by a registration
// that failed is taken over.
const ReservationGrace = time.Minute

// reserve claims hash for craftsmanID, or refuses with a conflict on field
// nationalId when another craftsman holds it (or is being registered with it).
func (s *service) reserve(ctx context.Context, meta command.Meta, hash, craftsmanID string) error {
	return s.reserveFor(ctx, meta, hash, craftsmanID, "")
}

// reserveFor is reserve; regID, when set, is the event id the registration
// that claims the number will append (that registration reads nothing
// first, and has no key or causation of its own): the reservation is then
// marked as that registration's (registrationReservation), its causation
// id regID.
func (s *service) reserveFor(ctx context.Context, meta command.Meta, hash, craftsmanID, regID string) error {
	stream := events.NationalIDStream(hash)
	if regID != "" {
		meta.CausationID = regID
	}
	_, err := s.h.Execute(ctx, command.Command{
		Name: "reserve national ID", Stream: stream, Meta: meta, RetryOnConflict: true, ExpectNew: true,
		Decide: func(ctx context.Context, h command.History) ([]command.Event, error) {
			holder, since := "", time.Time{}
			var last eventstore.RecordedEvent
			for _, r := range h.Events {
				if r.Type != events.TypeNationalIDReserved {
					continue
				}
				var p events.NationalIDReserved
				if err := json.Unmarshal(r.Data, &p); err != nil {
					return nil, errs.E(errs.Internal, "decode %s@%d: %v", r.Stream, r.Revision, err)
				}
				holder, since, last = p.CraftsmanID, r.Created, r
			}
			claim := one(events.NationalIDReserved{NationalIDHash: hash, CraftsmanID: craftsmanID}, time.Time{})
			if regID != "" {
				claim[0].ID = registrationReservation(stream, regID)
			}
			switch holder {
			case "":
				return claim, nil
			case craftsmanID:
				if regID == "" && registrationMarked(last) != "" {
					// Claim it afresh, unmarked: an update of this craftsman
					// must not leave the number open to a takeover while its
					// event is in flight (refusedRegistration).
					return claim, nil
				}
				return nil, nil
			}
			other, err := command.Load(ctx, s.h.Store(), events.CraftsmanStream(holder))
			if err != nil {
				return nil, err
			}
			st, err := foldCraftsman(other)
			if err != nil {
				return nil, err
			}
			if st.registered && st.nationalIDHash == hash {
				return nil, kit.FieldErr("nationalId", errs.E(errs.Conflict, "this national ID number is already registered to another craftsman"))
			}
			if refusedRegistration(last, other) {
				return claim, nil // claimed by a registration that can no longer land
			}
			if s.clock().Sub(since) < ReservationGrace {
				return nil, kit.FieldErr("nationalId", errs.E(errs.Conflict, "this national ID number is being registered to another craftsman; retry in a minute if that fails"))
			}
			return claim, nil // the holder's registration failed: take over
		},
	})
	return err
}

// registrationReservation is the id of the reservation made for the
// registration whose event id is regID: UUIDv5 over the reservation
// stream and regID (command.EventID with a key no client can reuse to the
// same effect: the check needs the causation id too).
func registrationReservation(stream, regID string) string {
	return command.EventID(stream, "registration\n"+regID, 0)
}

// refusedRegistration reports whether reservation r was made for a
// registration (registrationReservation, causation id = its event id) of
// a craftsman whose stream exists without that event: the registration
// expected a new stream, so it was refused and can never land, and the
// number is free. A reservation of an update, a keyed registration or one
// still in flight (its craftsman's stream not yet created) is not.
func refusedRegistration(r eventstore.RecordedEvent, holder command.History) bool {
	regID := registrationMarked(r)
	if regID == "" || !holder.Exists {
		return false
	}
	for _, e := range holder.Events {
		if strings.EqualFold(e.ID, regID) {
			return false
		}
	}
	return true
}

// registrationMarked returns the registration event id that reservation r
// was made for (registrationReservation), or "".
func registrationMarked(r eventstore.RecordedEvent) string {
	if r.ID == "" {
		return ""
	}
	m, err := command.DecodeMetadata(r.Metadata)
	if err != nil || m.CausationID == "" || !strings.EqualFold(r.ID, registrationReservation(r.Stream, m.CausationID)) {
		return ""
	}
	return m.CausationID
}
