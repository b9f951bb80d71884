package esdbserver_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// Persistent subscriptions, parked messages (fourteenth session, checked
// against KurrentDB's PersistentSubscriptionMessageParker.cs).

// TestFidelityPSDeleteGroupDeletesParked: deleting a group soft-deletes its
// parked stream (DeletePersistentSubscription, PersistentSubscriptionService.cs
// 761-763 → PersistentSubscription.Delete 751-754 → MessageParker.BeginDelete
// 115-118), so a group created again under the name has none to replay.
func TestFidelityPSDeleteGroupDeletesParked(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-delpark", 2)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Nack("bad", esdb.NackActionPark, nextPersistent(t, sub).Event); err != nil {
		t.Fatal(err)
	}
	waitParked(t, tg, s, 1)
	sub.Close()
	if err := c.DeletePersistentSubscription(ctxT(t), s, "g", esdb.DeletePersistentSubscriptionOptions{}); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	if err := c.CreatePersistentSubscription(ctxT(t), s, "g", esdb.PersistentStreamSubscriptionOptions{StartFrom: esdb.End{}, Settings: &settings}); err != nil {
		t.Fatal(err)
	}
	info, err := c.GetPersistentSubscriptionInfo(ctxT(t), s, "g", esdb.GetPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := info.Stats.ParkedMessagesCount; n != 0 {
		t.Errorf("new group shows %d parked messages of the deleted one, want 0", n)
	}
	if err := c.ReplayParkedMessages(ctxT(t), s, "g", esdb.ReplayParkedMessagesOptions{}); err != nil {
		t.Fatal(err)
	}
	sub2, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	select {
	case got := <-recvAsync(sub2):
		if got.EventAppeared != nil {
			t.Errorf("new group (from the end) received event %d: the deleted group's parked message came back",
				got.EventAppeared.Event.OriginalEvent().EventNumber)
		}
	case <-time.After(1500 * time.Millisecond):
	}
}

// TestFidelityPSParkResolvedLink: parking a resolved link parks a link to
// the event it points at (GetLinkToFor, MessageParker 106-113: ev.Event's
// number and stream), and a replay, reading the parked stream with links
// resolved (PersistentSubscription.cs 612-618), delivers that event again.
func TestFidelityPSParkResolvedLink(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	target, links := streamName("ps-target"), streamName("ps-links")
	if _, err := c.AppendToStream(ctxT(t), target, esdb.AppendToStreamOptions{}, event("Original", `{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	link := esdb.EventData{EventID: uuid.New(), EventType: "$>", ContentType: esdb.ContentTypeBinary, Data: []byte("0@" + target)}
	if _, err := c.AppendToStream(ctxT(t), links, esdb.AppendToStreamOptions{}, link); err != nil {
		t.Fatal(err)
	}
	settings := esdb.SubscriptionSettingsDefault()
	settings.ResolveLinkTos = true
	psGroupFromStart(t, c, links, settings)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), links, "g", esdb.SubscribeToPersistentSubscriptionOptions{BufferSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ev := nextPersistent(t, sub)
	if ev.Event.Event == nil || ev.Event.Event.EventType != "Original" {
		t.Fatalf("first delivery not resolved: %+v", ev.Event.Event)
	}
	if err := sub.Nack("bad", esdb.NackActionPark, ev.Event); err != nil {
		t.Fatal(err)
	}
	waitParked(t, tg, links, 1)
	if err := c.ReplayParkedMessages(ctxT(t), links, "g", esdb.ReplayParkedMessagesOptions{}); err != nil {
		t.Fatal(err)
	}
	again := nextPersistent(t, sub).Event.Event
	if again == nil || again.EventType != "Original" || again.StreamID != target {
		t.Errorf("replayed: %+v, want \"Original\" of %q", again, target)
	}
}

// TestFidelityPSParkedMetadata: a parked link carries ParkedMessageMetadata
// {Added, Reason, SubscriptionEventNumber} (MessageParker 95-99, 312-316)
// as Json.ToJson writes it: camel-cased, indented, default values left
// out (KurrentDB.Common/Utils/Json.cs 15-31), so event number 0 has no
// subscriptionEventNumber. A nack's reason is "Client explicitly NAK'ed
// message.\n" and the client's text (PersistentSubscription.cs 517-520).
func TestFidelityPSParkedMetadata(t *testing.T) {
	tg := newTarget(t)
	c := tg.client
	s := newGroup(t, tg, "ps-reason", 2)
	sub, err := c.SubscribeToPersistentSubscription(ctxT(t), s, "g", esdb.SubscribeToPersistentSubscriptionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := 0; i < 2; i++ {
		if err := sub.Nack("poison", esdb.NackActionPark, nextPersistent(t, sub).Event); err != nil {
			t.Fatal(err)
		}
	}
	waitParked(t, tg, s, 2)
	evs, err := readStream(t, c, "$persistentsubscription-"+s+"::g-parked", esdb.ReadStreamOptions{From: esdb.Start{}}, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("parked stream: %d events, %v", len(evs), err)
	}
	for i, ev := range evs {
		md := ev.OriginalEvent().UserMetadata
		var got map[string]any
		if err := json.Unmarshal(md, &got); err != nil {
			t.Fatalf("parked link %d's metadata %q: %v", i, md, err)
		}
		added, _ := got["added"].(string)
		if _, err := time.Parse(time.RFC3339Nano, added); err != nil {
			t.Errorf("parked link %d: added %q is not an ISO time", i, added)
		}
		want := `{
  "added": "` + added + `",
  "reason": "Client explicitly NAK'ed message.\npoison"` + map[int]string{0: "", 1: `,
  "subscriptionEventNumber": 1`}[i] + `
}`
		if string(md) != want {
			t.Errorf("parked link %d's metadata\n%s\nwant\n%s", i, md, want)
		}
	}
}
