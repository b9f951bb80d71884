package registry

import (
	"context"
	"encoding/json"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
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
	_, err := s.h.Execute(ctx, command.Command{
		Name: "reserve national ID", Stream: events.NationalIDStream(hash), Meta: meta, RetryOnConflict: true, ExpectNew: true,
		Decide: func(ctx context.Context, h command.History) ([]command.Event, error) {
			holder, since := "", time.Time{}
			for _, r := range h.Events {
				if r.Type != events.TypeNationalIDReserved {
					continue
				}
				var p events.NationalIDReserved
				if err := json.Unmarshal(r.Data, &p); err != nil {
					return nil, errs.E(errs.Internal, "decode %s@%d: %v", r.Stream, r.Revision, err)
				}
				holder, since = p.CraftsmanID, r.Created
			}
			claim := one(events.NationalIDReserved{NationalIDHash: hash, CraftsmanID: craftsmanID}, time.Time{})
			switch holder {
			case "":
				return claim, nil
			case craftsmanID:
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
			if s.clock().Sub(since) < ReservationGrace {
				return nil, kit.FieldErr("nationalId", errs.E(errs.Conflict, "this national ID number is being registered to another craftsman; retry in a minute if that fails"))
			}
			return claim, nil // the holder's registration failed: take over
		},
	})
	return err
}
