package esdbserver_test

import (
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// TestFidelityPSListAfterDelete: a stream keeps its entry in KurrentDB's
// topic table once a group was created on it (UpdateSubscription,
// PersistentSubscriptionService.cs 876-921, never removes one), so after
// its only group is deleted, listing its groups succeeds with none
// (GetStreamPersistentSubscriptionStats 1398-1418). RestartSubsystem
// empties the table and loads the groups there are (InitToEmpty, 120-122):
// then the listing is NotFound, as for a stream that never had a group.
func TestFidelityPSListAfterDelete(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-list", 1)
	if err := c.DeletePersistentSubscription(ctxT(t), s, "g", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ListPersistentSubscriptionsForStream(ctxT(t), s, esdb.ListPersistentSubscriptionsOptions{})
	if err != nil || len(got) != 0 {
		t.Errorf("list after the delete: %d groups, %v; want none and no error", len(got), err)
	}
	if err := c.RestartPersistentSubscriptionSubsystem(ctxT(t), esdb.RestartPersistentSubscriptionSubsystemOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListPersistentSubscriptionsForStream(ctxT(t), s, esdb.ListPersistentSubscriptionsOptions{})
	var esErr *esdb.Error
	if !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeResourceNotFound {
		t.Errorf("list after RestartSubsystem: %v, want NotFound", err)
	}
}
