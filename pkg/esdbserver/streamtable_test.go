package esdbserver

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

// TestStreamTable: a streamTable answers like a map[string]streamInfo over
// many names, across inserts and updates (metadata set and cleared), also
// when hashes collide — narrowed to two bits, or to none at all, so that
// every name shares a chain — and a clone is independent of its original.
func TestStreamTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		mask uint64
		n    int
	}{{"full-hash", ^uint64(0), 20000}, {"2-bit-hash", 3, 2000}, {"one-chain", 0, 300}} {
		t.Run(tc.name, func(t *testing.T) {
			tab := newStreamTable()
			tab.mask = tc.mask
			ref := map[string]streamInfo{}
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			acl := &streamACL{}
			acl.SetRoles(aclRead, []string{"$all"})
			name := func(i int) string {
				switch i % 4 {
				case 0:
					return "s-" + strconv.Itoa(i)
				case 1:
					return "$$s-" + strconv.Itoa(i-1)
				case 2:
					return "" // the empty name is a name too
				}
				return fmt.Sprintf("craftsman-%08x/%d", i*7919, i)
			}
			randInfo := func() streamInfo {
				info := streamInfo{streamState: streamState{Last: rng.Int64N(100) - 1, LastPos: rng.Uint64(), Tombstoned: rng.IntN(5) == 0}, Meta: noMeta, sid: rng.Uint64N(1000)}
				switch rng.IntN(4) {
				case 0:
					info.Meta = parseStreamMeta(true, []byte(`{"$maxCount":`+strconv.Itoa(rng.IntN(9))+`}`))
				case 1:
					info.Meta.ACL = acl
				case 2:
					info.Meta = streamMeta{} // not noMeta: kept as it is
				}
				return info
			}
			for round := 0; round < 3; round++ { // insert, then update twice
				for i := 0; i < tc.n; i++ {
					nm := name(i)
					if round > 0 && rng.IntN(2) == 0 {
						continue
					}
					info := randInfo()
					tab.put(nm, info)
					ref[nm] = info
				}
				check(t, tab, ref)
			}
			for i := tc.n; i < tc.n+50; i++ {
				if info, ok := tab.get(name(i)); ok && name(i) != "" {
					t.Errorf("absent %q found: %+v", name(i), info)
				}
			}
			c := tab.clone()
			for nm := range ref {
				tab.put(nm, emptyInfo)
			}
			c.put("only-in-clone", emptyInfo)
			check(t, c, withEntry(ref, "only-in-clone", emptyInfo))
			for nm := range ref {
				if got, _ := tab.get(nm); !reflect.DeepEqual(got, emptyInfo) {
					t.Fatalf("original after update of %q: %+v", nm, got)
				}
			}
			if _, ok := tab.get("only-in-clone"); ok {
				t.Error("a put into the clone shows in the original")
			}
			if len(tab.meta) != 0 {
				t.Errorf("%d metadata entries left after every stream went back to noMeta", len(tab.meta))
			}
		})
	}
}

func withEntry(m map[string]streamInfo, k string, v streamInfo) map[string]streamInfo {
	out := make(map[string]streamInfo, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func check(t *testing.T, tab *streamTable, ref map[string]streamInfo) {
	t.Helper()
	if tab.Len() != len(ref) {
		t.Fatalf("table holds %d streams, want %d", tab.Len(), len(ref))
	}
	for nm, want := range ref {
		got, ok := tab.get(nm)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("get(%q) = %+v, %v; want %+v", nm, got, ok, want)
		}
	}
}

// TestStreamStatesRecovered: after a restart every stream's state — last
// revision and position, tombstone, parsed metadata (also of a base stream
// that has no events) — is what it was, in the readers' table and in the
// writer's.
func TestStreamStatesRecovered(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	names := make([]string, 0, n+n/10)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for w := 0; w < 16; w++ { // concurrent writers: few fsyncs
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				stream := "stream-" + strconv.Itoa(i)
				op := &writeOp{kind: opAppend, stream: stream, expected: expectation{kind: expAny}}
				for j := 0; j <= i%5; j++ {
					op.events = append(op.events, proposed{ID: newUUID(), Type: "T", IsJSON: true, Data: []byte(`{}`)})
				}
				switch i % 10 {
				case 3:
					op = &writeOp{kind: opAppend, stream: "$$" + stream, expected: expectation{kind: expAny},
						events: []proposed{{ID: newUUID(), Type: "$metadata", IsJSON: true, Data: []byte(`{"$maxCount":2,"$acl":{"$r":["ops"]}}`)}}}
				case 7:
					if r := st.submit(op); r.err != nil {
						errc <- r.err
					}
					op = &writeOp{kind: opTombstone, stream: stream, expected: expectation{kind: expAny}}
				case 9:
					if r := st.submit(op); r.err != nil {
						errc <- r.err
					}
					op = &writeOp{kind: opDelete, stream: stream, expected: expectation{kind: expAny}}
				}
				if r := st.submit(op); r.err != nil {
					errc <- r.err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		names = append(names, "stream-"+strconv.Itoa(i))
		if i%10 == 3 || i%10 == 9 {
			names = append(names, "$$stream-"+strconv.Itoa(i))
		}
	}
	before := map[string]streamInfo{}
	for _, nm := range names {
		info := st.info(nm)
		info.sid = 0 // numbered afresh at open
		before[nm] = info
	}
	if m := before["stream-3"].Meta; m.MaxCount != 2 || m.ACL == nil {
		t.Fatalf("metadata of a base stream with no events: %+v", m)
	}
	if err := st.close(); err != nil {
		t.Fatal(err)
	}

	st2, err := openStore(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	if st2.streams.Len() != len(names) {
		t.Errorf("%d streams recovered, want %d", st2.streams.Len(), len(names))
	}
	sids := map[uint64]string{}
	for _, nm := range names {
		got := st2.info(nm)
		w, _ := st2.wstreams.get(nm)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: readers' state %+v, writer's %+v", nm, got, w)
		}
		if got.sid != 0 {
			if other, dup := sids[got.sid]; dup {
				t.Errorf("%s and %s share sid %d", nm, other, got.sid)
			}
			sids[got.sid] = nm
		} else if got.Last >= 0 {
			t.Errorf("%s has events but no sid", nm)
		}
		got.sid = 0
		if !reflect.DeepEqual(got, before[nm]) {
			t.Errorf("%s after restart: %+v, want %+v", nm, got, before[nm])
		}
	}
}
