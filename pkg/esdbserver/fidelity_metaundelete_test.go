package esdbserver_test

import (
	"bytes"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Writing the metadata of a soft-deleted stream (StorageWriterService.cs
// 327-328, 424-432, 469-474, 483-516): KurrentDB stores the event as sent,
// then writes a second $metadata event, the new metadata with $tb = the
// stream's last revision + 1, which undeletes it. The store rewrote the
// sent event instead, so $$s ended one event short and the client's next
// expected revision still matched.
func TestFidelityMetaWriteUndeletes(t *testing.T) {
	tg := newTarget(t)
	s := streamName("metaundel")
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(3, "e")...); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.client.DeleteStream(ctxT(t), s, esdb.DeleteStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := esdb.StreamMetadata{}
	meta.SetMaxCount(10)
	meta.AddCustomProperty("owner", "x")
	wr, err := tg.client.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if wr.NextExpectedVersion != 1 {
		t.Errorf("set answered revision %d; KurrentDB: 1 (delete #0, set #1)", wr.NextExpectedVersion)
	}
	rs, err := tg.client.ReadStream(ctxT(t), "$$"+s, esdb.ReadStreamOptions{From: esdb.Start{}}, 10) // the metastream's $maxCount 1: its last event
	if err != nil {
		t.Fatal(err)
	}
	last, err := rs.Recv()
	rs.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := last.OriginalEvent().EventNumber; n != 2 {
		t.Errorf("$$s's last event is #%d; KurrentDB: #2, the undelete after the set", n)
	}
	got, err := tg.client.GetStreamMetadata(ctxT(t), s, esdb.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.TruncateBefore() == nil || *got.TruncateBefore() != 3 || got.MaxCount() == nil || *got.MaxCount() != 10 || got.CustomProperty("owner") != "x" {
		t.Errorf("metadata after the undelete: %+v; KurrentDB: the sent metadata with $tb 3", got)
	}
	// The sent event is stored as sent.
	all, err := tg.client.ReadAll(ctxT(t), esdb.ReadAllOptions{From: esdb.End{}, Direction: esdb.Backwards}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var sent *esdb.RecordedEvent
	for i := 0; i < 2; i++ {
		ev, err := all.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if e := ev.OriginalEvent(); e.StreamID == "$$"+s && e.EventNumber == 1 {
			sent = e
		}
	}
	all.Close()
	if sent == nil {
		t.Fatal("$$s #1 not among $all's last two events")
	} else if string(sent.Data) == "" || bytes.Contains(sent.Data, []byte(`"$tb"`)) {
		t.Errorf("$$s #1 = %s; KurrentDB: the metadata as sent, no $tb", sent.Data)
	}
	if _, err := tg.client.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, events(1, "e")...); err != nil {
		t.Fatal(err)
	}
	evs, err := readStream(t, tg.client, s, esdb.ReadStreamOptions{}, 10)
	if err != nil || len(evs) != 1 || evs[0].OriginalEvent().EventNumber != 3 {
		t.Errorf("read after the undelete and one append: %d events, err %v; KurrentDB: #3 only", len(evs), err)
	}
	meta.SetMaxCount(11)
	if _, err := tg.client.SetStreamMetadata(ctxT(t), s, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(wr.NextExpectedVersion)}, meta); errCode(err) != esdb.ErrorCodeWrongExpectedVersion {
		t.Errorf("second set at revision %d: err %v; KurrentDB: wrong expected version (the undelete took %d)", wr.NextExpectedVersion, err, wr.NextExpectedVersion+1)
	}
}
