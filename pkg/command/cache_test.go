package command

import (
	"fmt"
	"testing"

	"github.com/craftledger/craftledger/pkg/eventstore"
)

func hist(stream string, n int) History {
	h := History{Stream: stream, Exists: true}
	for i := 0; i < n; i++ {
		h.Events = append(h.Events, eventstore.RecordedEvent{Stream: stream, Revision: uint64(i)})
	}
	return h
}

func TestCacheBounds(t *testing.T) {
	c := newCache(3, 10)
	for i := 0; i < 5; i++ {
		c.put(hist(fmt.Sprint("s", i), 2))
	}
	if c.ll.Len() != 3 || c.events != 6 {
		t.Fatalf("%d streams, %d events; want 3, 6", c.ll.Len(), c.events)
	}
	if _, ok := c.get("s0"); ok {
		t.Fatal("least recently used stream kept")
	}
	c.get("s2")          // s2 is now the most recent
	c.put(hist("s4", 7)) // grows s4: 2+2+7 = 11 > 10 events, s3 goes
	if _, ok := c.get("s3"); ok || c.events != 9 {
		t.Fatalf("events %d, s3 kept %v", c.events, ok)
	}
	c.put(hist("s4", 3)) // an older history never replaces a newer one
	if h, _ := c.get("s4"); len(h.Events) != 7 {
		t.Fatalf("s4 has %d events", len(h.Events))
	}
	c.put(hist("big", 11)) // larger than the whole budget: not cached
	if _, ok := c.get("big"); ok {
		t.Fatal("oversized history cached")
	}
	c.drop("s4")
	if c.events != 2 || c.ll.Len() != 1 {
		t.Fatalf("after drop: %d events, %d streams", c.events, c.ll.Len())
	}
}
