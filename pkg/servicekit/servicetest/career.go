package servicetest

import (
	"context"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Career reads a craftsman's stream from the store and folds it with the
// domain's fold as the read side sees it now (corrections applied).
func Career(t testing.TB, st eventstore.Store, craftsmanID string) *career.State {
	t.Helper()
	evs, err := st.ReadStream(context.Background(), events.CraftsmanStream(craftsmanID), eventstore.ReadOptions{})
	if err != nil {
		t.Fatalf("read craftsman %s: %v", craftsmanID, err)
	}
	reg := events.NewRegistry()
	recs := make([]events.Recorded, 0, len(evs))
	for _, r := range evs {
		rec, err := reg.DecodeRecorded(events.Raw{Stream: r.Stream, Revision: r.Revision, ID: r.ID, Type: r.Type, Data: r.Data, Metadata: r.Metadata, Created: r.Created})
		if err != nil {
			t.Fatalf("decode %s@%d: %v", r.Stream, r.Revision, err)
		}
		recs = append(recs, rec)
	}
	return career.Fold(recs, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), career.AsOccurred)
}

// EventID returns the id of the first event of type typ on a craftsman's
// stream ("" when there is none).
func EventID(t testing.TB, st eventstore.Store, craftsmanID, typ string) string {
	t.Helper()
	evs, err := st.ReadStream(context.Background(), events.CraftsmanStream(craftsmanID), eventstore.ReadOptions{})
	if err != nil {
		t.Fatalf("read craftsman %s: %v", craftsmanID, err)
	}
	for _, r := range evs {
		if r.Type == typ {
			return r.ID
		}
	}
	return ""
}
