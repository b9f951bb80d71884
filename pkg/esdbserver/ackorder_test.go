package esdbserver

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
)

// TestStreamTableLeadsAcknowledgement: when an append is acknowledged, the
// readers' stream table already holds it. readStream answers a forward read
// from past a stream's last revision from that table alone (no pebble
// iterator), so a table that lagged an acknowledgement would let a read
// that starts after the ack miss the acknowledged event. 64 writers append
// and, as soon as each append returns, read their stream's last revision
// from the table (what readStream reads first); 100 rounds each. (With
// the acknowledgements sent before the table is updated, this failed in 5
// runs of 5.)
func TestStreamTableLeadsAcknowledgement(t *testing.T) {
	st, err := openStore(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	const writers, rounds = 64, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprint("ack-", w)
			for r := range rounds {
				res := st.submit(&writeOp{kind: opAppend, stream: stream, expected: expectation{kind: expAny},
					events: []proposed{{ID: newUUID(), Type: "T", IsJSON: true, Data: []byte(`{}`)}}})
				if res.err != nil || res.last != int64(r) {
					t.Errorf("%s: append %d: last %d, err %v", stream, r, res.last, res.err)
					return
				}
				if last := st.info(stream).Last; last != int64(r) {
					t.Errorf("%s: append at %d acknowledged, but the stream table says the last revision is %d", stream, r, last)
					return
				}
			}
		}()
	}
	wg.Wait()
}
