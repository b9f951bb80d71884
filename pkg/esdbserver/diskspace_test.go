package esdbserver_test

import (
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/craftledger/craftledger/pkg/esdbserver"
)

// TestAppendOnFullDiskAnswersClearly: with less free space than the
// store's reserve, an append fails at once with esdb ErrorUnavailable
// naming "no space left on device", writes nothing, and once space is
// free again appends succeed without a restart. (The real full disk, a
// filled tmpfs, is services/craftledger/proof/fault's
// TestStoreDiskFullAnswersClearly; it needs root.)
func TestAppendOnFullDiskAnswersClearly(t *testing.T) {
	srv := startServer(t, esdbserver.Config{Insecure: true})
	c := connect(t, srv.URL())
	s := streamName("full")
	if _, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", `{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	const gib = 1 << 30
	set := esdbserver.FakeFreeSpace(srv, 1<<20, 100*gib) // 1 MiB free: below any reserve
	_, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", `{"n":1}`))
	if errCode(err) != esdb.ErrorUnavailable || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("append on a full disk: %v (code %d), want ErrorUnavailable naming no space left on device", err, errCode(err))
	}
	if _, err := c.DeleteStream(ctxT(t), s, esdb.DeleteStreamOptions{}); errCode(err) != esdb.ErrorUnavailable {
		t.Errorf("delete on a full disk: %v, want ErrorUnavailable", err)
	}
	got, err := readStream(t, c, s, esdb.ReadStreamOptions{}, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("after the refused writes the stream holds %d events (%v), want the 1 written before", len(got), err)
	}
	set(10*gib, 100*gib)
	res, err := c.AppendToStream(ctxT(t), s, esdb.AppendToStreamOptions{}, event("T", `{"n":1}`))
	if err != nil || res.NextExpectedVersion != 1 {
		t.Fatalf("append once space is back, no restart: %v %+v", err, res)
	}
}
