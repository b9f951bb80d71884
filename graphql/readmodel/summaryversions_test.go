package readmodel

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/craftledger/craftledger/events"
)

// version is one call of SummaryVersions' fn, copied out of the call.
type version struct {
	From time.Time
	S    Summary
}

func copyVersion(from time.Time, s *Summary) version {
	c := *s
	c.Employers, c.Academies, c.Linked = slices.Clone(s.Employers), slices.Clone(s.Academies), slices.Clone(s.Linked)
	c.Levels = maps.Clone(s.Levels)
	return version{from, c}
}

// handed is what SummaryVersions (with recs) hands for a craftsman: the records
// (copied) and count recs was given, how many times recs was called,
// whether after a version, the versions and the count answered.
type handed struct {
	recs  []events.Recorded
	recsN int
	calls int
	late  bool
	vs    []version
	n     int
}

func versionsWith(m *Memory, id string) (h handed) {
	h.n = m.SummaryVersions(id, func(r []events.Recorded, n int) {
		h.calls++
		h.late = h.late || len(h.vs) > 0
		h.recs, h.recsN = slices.Clone(r), n
	}, func(from time.Time, s *Summary) {
		h.vs = append(h.vs, copyVersion(from, s))
	})
	return h
}

// SummaryVersions with a recs callback hands it, once and before the
// versions, exactly the records Records answers, and gives the same
// versions and count as without one — whether the records are decoded for the call (not
// held), held (after Records), or decoded from a loaded snapshot's log;
// nothing for an unknown craftsman.
func TestSummaryVersionsHandsTheRecords(t *testing.T) {
	const n = 120
	m := randomModel(t, rand.New(rand.NewPCG(17, 19)), n)
	loaded := restored(t, m)
	versions := 0
	for _, model := range []struct {
		name string
		m    *Memory
	}{{"applied", m}, {"loaded", loaded}} {
		for i := range n {
			id := fmt.Sprintf("c%04d", i)
			var want []version
			wantN := model.m.SummaryVersions(id, nil, func(from time.Time, s *Summary) { want = append(want, copyVersion(from, s)) })
			if wantN == 0 {
				t.Fatalf("%s %s: no events", model.name, id)
			}
			// Not held first (decoded for the call), then held (Records keeps them).
			for _, held := range []bool{false, true} {
				if held {
					model.m.Records(id)
				}
				h := versionsWith(model.m, id)
				if h.calls != 1 || h.late {
					t.Fatalf("%s %s held %v: records handed %d times, after a version %v", model.name, id, held, h.calls, h.late)
				}
				if diff := cmp.Diff(model.m.Records(id), h.recs, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s %s held %v: records (-Records +handed):\n%s", model.name, id, held, diff)
				}
				if h.n != wantN || h.recsN != wantN {
					t.Fatalf("%s %s held %v: n %d (handed with the records: %d), without recs %d", model.name, id, held, h.n, h.recsN, wantN)
				}
				if diff := cmp.Diff(want, h.vs, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("%s %s held %v: versions (-without recs +with):\n%s", model.name, id, held, diff)
				}
			}
			versions += len(want)
		}
		if h := versionsWith(model.m, "nobody"); h.calls != 0 || len(h.vs) != 0 || h.n != 0 {
			t.Fatalf("%s unknown craftsman: records handed %d times, %d versions, n %d", model.name, h.calls, len(h.vs), h.n)
		}
	}
	if versions < 2*n*2 {
		t.Fatalf("only %d versions over %d craftsmen: too few to compare", versions, 2*n)
	}
}
