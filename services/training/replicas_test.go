package training_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/chain"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
)

// Replicas: production runs several instances of a service on one store,
// each with its own cache of streams. When a command's events have fixed
// ids (an Idempotency-Key) and another replica already appended events
// with those ids at that revision, the store answers the append as an
// idempotent success without comparing the events. The handler must not
// take that for its own write: it reads back what the store holds, and
// answers as one replica would — 200 replayed for the same request, 422
// for another body under the key — caching nothing of its own. Without
// that, the stale replica answered 201 for a body never written, decided
// later commands on it and chained its next event's prevHash off its own
// metadata, breaking the stored hash chain.

// verifyChain checks the stored hash chain of stream.
func (e *env) verifyChain(t testing.TB, stream string) {
	t.Helper()
	h, err := command.Load(context.Background(), e.store, stream)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]events.Raw, len(h.Events))
	for i, ev := range h.Events {
		raw[i] = events.Raw{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata, Created: ev.Created}
	}
	if brk := chain.Verify(raw, chain.Options{}); brk != nil {
		t.Fatalf("hash chain of %s: %v", stream, brk)
	}
}

func completion(hours int, passed bool) map[string]any {
	return map[string]any{"academyId": academy, "courseId": "elec-201", "hours": hours, "passed": passed}
}

// TestStaleReplicaKeyOtherBody: replica B, its copy of the stream stale,
// gets a key replica A already used, with another body: 422, not a 201
// for a body that was never stored, then or on a repeat.
func TestStaleReplicaKeyOtherBody(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "r3")
	b := serve(t, e.store, command.Backfill{})
	iss := issuer(t, academy)
	if r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r3/completions", iss, completion(1, true)); r.Status != 201 { // B caches the stream
		t.Fatalf("warm-up on B: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "/v1/craftsmen/r3/completions", iss, completion(4, true), "Idempotency-Key", "paper-7"); r.Status != 201 {
		t.Fatalf("A, paper-7, 4 h: %d %s", r.Status, r.Body)
	}
	for _, try := range []string{"first", "again"} {
		r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r3/completions", iss, completion(40, false), "Idempotency-Key", "paper-7")
		if code, _ := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" {
			t.Fatalf("B, paper-7, 40 h failed (%s): %d %s, want 422 FAILED_PRECONDITION", try, r.Status, r.Body)
		}
	}
	if n := e.count(t, "craftsman-r3"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r3/completions", iss, completion(2, true))
	if r.Status != 201 {
		t.Fatalf("B's next command: %d %s", r.Status, r.Body)
	}
	e.verifyChain(t, "craftsman-r3")
}

// TestStaleReplicaDecidesOnStoredState: after B's keyed command met A's
// events, B decides on what the store holds (en1 completed by A), not on
// its own unwritten version, and the chain holds.
func TestStaleReplicaDecidesOnStoredState(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "r4")
	b := serve(t, e.store, command.Backfill{})
	iss := issuer(t, academy)
	en1 := map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201", "hours": 4, "passed": true}
	if r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r4/enrolments", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201"}); r.Status != 201 {
		t.Fatalf("enrol on B: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "/v1/craftsmen/r4/completions", iss, en1, "Idempotency-Key", "k"); r.Status != 201 {
		t.Fatalf("A completes en1 under k: %d %s", r.Status, r.Body)
	}
	r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r4/completions", iss, completion(4, true), "Idempotency-Key", "k")
	if r.Status != 422 {
		t.Fatalf("B, k, a completion without en1: %d %s, want 422", r.Status, r.Body)
	}
	r = commandtest.Do(t, "POST", b+"/v1/craftsmen/r4/completions", iss, en1)
	if code, _ := r.Error(t); r.Status != 422 || code != "FAILED_PRECONDITION" {
		t.Fatalf("B completes en1 a second time: %d %s, want 422 (already completed)", r.Status, r.Body)
	}
	if n := e.count(t, "craftsman-r4"); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
	e.verifyChain(t, "craftsman-r4")
}

// TestStaleReplicaSameRequestReplays: a plain retry of A's request on B
// (other metadata: its correlation id) is a replay of A's result, and B's
// next event chains off what is stored.
func TestStaleReplicaSameRequestReplays(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "r5")
	b := serve(t, e.store, command.Backfill{})
	iss := issuer(t, academy)
	if r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r5/enrolments", iss, map[string]any{"enrolmentId": "en1", "academyId": academy, "courseId": "elec-201"}); r.Status != 201 {
		t.Fatalf("enrol on B: %d %s", r.Status, r.Body)
	}
	r := e.do(t, "/v1/craftsmen/r5/completions", iss, completion(4, true), "Idempotency-Key", "k")
	if r.Status != 201 {
		t.Fatalf("A: %d %s", r.Status, r.Body)
	}
	var first, again command.Result
	r.JSON(t, &first)
	r = commandtest.Do(t, "POST", b+"/v1/craftsmen/r5/completions", iss, completion(4, true), "Idempotency-Key", "k", "X-Correlation-ID", "attempt-2")
	if r.Status != 200 {
		t.Fatalf("the same request retried on B: %d %s, want 200", r.Status, r.Body)
	}
	r.JSON(t, &again)
	if !again.Replayed || again.Revision != first.Revision || again.Position != first.Position || fmt.Sprint(again.EventIDs) != fmt.Sprint(first.EventIDs) {
		t.Fatalf("B's answer %+v, A's %+v", again, first)
	}
	if r := commandtest.Do(t, "POST", b+"/v1/craftsmen/r5/enrolments", iss, map[string]any{"enrolmentId": "en2", "academyId": academy, "courseId": "elec-201"}); r.Status != 201 {
		t.Fatalf("B's next command: %d %s", r.Status, r.Body)
	}
	e.verifyChain(t, "craftsman-r5")
}

// TestKeyedRaceAcrossReplicas: four copies of one keyed request, two on
// each replica at once: one 201, three replays of its result. The
// replicas' clocks differ by a millisecond, as two processes' do, so
// their events differ in their default occurredAt. (Byte for byte equal
// events — an explicit occurredAt with the default correlation id, the
// usual dated retry, or clocks agreeing to the nanosecond — cannot be told
// apart: both replicas then answer 201 with the one stored result.)
func TestKeyedRaceAcrossReplicas(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "r1")
	other := serveAt(t, e.store, command.Backfill{}, now.Add(time.Millisecond))
	iss := issuer(t, academy)
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("race-%d", i)
		var wg sync.WaitGroup
		var rs [4]commandtest.Response
		for j, u := range []string{e.url, other, e.url, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs[j] = commandtest.Do(t, "POST", u+"/v1/craftsmen/r1/completions", iss, completion(4, true), "Idempotency-Key", key)
			}()
		}
		wg.Wait()
		created := 0
		var got []string
		for _, r := range rs {
			switch r.Status {
			case 201:
				created++
			case 200:
			default:
				t.Fatalf("iteration %d: %d %s", i, r.Status, r.Body)
			}
			var res command.Result
			r.JSON(t, &res)
			got = append(got, fmt.Sprint(res.Revision, res.Position, res.EventIDs))
		}
		if created != 1 || got[0] != got[1] || got[1] != got[2] || got[2] != got[3] {
			t.Fatalf("iteration %d: %d created, results %v", i, created, got)
		}
	}
	if n := e.count(t, "craftsman-r1"); n != 31 {
		t.Fatalf("%d events, want 31", n)
	}
	e.verifyChain(t, "craftsman-r1")
}

// TestKeyedRaceOtherBody: two bodies under one key at once, one on each
// replica: one is written (201), the other refused (422).
func TestKeyedRaceOtherBody(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "r2")
	other := serve(t, e.store, command.Backfill{})
	iss := issuer(t, academy)
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("race-%d", i)
		var wg sync.WaitGroup
		var rs [2]commandtest.Response
		for j, u := range []string{e.url, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs[j] = commandtest.Do(t, "POST", u+"/v1/craftsmen/r2/completions", iss, completion(4+j, true), "Idempotency-Key", key)
			}()
		}
		wg.Wait()
		if s := [2]int{rs[0].Status, rs[1].Status}; s != [2]int{201, 422} && s != [2]int{422, 201} {
			t.Fatalf("iteration %d: %d %s | %d %s, want one 201 and one 422", i, rs[0].Status, rs[0].Body, rs[1].Status, rs[1].Body)
		}
	}
	if n := e.count(t, "craftsman-r2"); n != 31 {
		t.Fatalf("%d events, want 31", n)
	}
	e.verifyChain(t, "craftsman-r2")
}

// TestStaleReplicaBackfillKeyOtherBody: the same through a back-fill
// file: B's line under A's key with another body is refused, its next
// line is written, and the chain holds. (ExecuteBatch's read-back is
// tested in pkg/command, TestFixedIDAppendIsReadBack.)
func TestStaleReplicaBackfillKeyOtherBody(t *testing.T) {
	a := newEnv(t)
	a.craftsman(t, "r6")
	b := &env{store: a.store, url: serve(t, a.store, command.Backfill{Workers: 8}), seed: a.seed}
	iss := issuer(t, academy)
	line := func(key string, hours int) string {
		return fmt.Sprintf(`{"craftsmanId":"r6","key":%q,"academyId":%q,"courseId":"elec-201","hours":%d,"passed":true,"occurredAt":"2020-03-01"}`+"\n", key, academy, hours)
	}
	if r := b.do(t, "/v1/craftsmen/r6/completions", iss, completion(1, true)); r.Status != 201 { // B caches the stream
		t.Fatalf("warm-up on B: %d %s", r.Status, r.Body)
	}
	if lines, sum := a.backfill(t, "/v1/backfill/completions", "application/x-ndjson", line("p-1", 8)); sum.OK != 1 || lines[1].Replayed {
		t.Fatalf("A: %+v %+v", lines, sum)
	}
	lines, sum := b.backfill(t, "/v1/backfill/completions", "application/x-ndjson", line("p-1", 9))
	if lines[1].OK || lines[1].Code != "FAILED_PRECONDITION" {
		t.Fatalf("B, A's key with 9 h: %+v %+v, want it refused", lines, sum)
	}
	if lines, sum := b.backfill(t, "/v1/backfill/completions", "application/x-ndjson", line("p-2", 10)); !lines[1].OK || lines[1].Replayed {
		t.Fatalf("B's next line: %+v %+v, want it written", lines, sum)
	}
	if n := a.count(t, "craftsman-r6"); n != 4 {
		t.Fatalf("%d events, want 4", n)
	}
	a.verifyChain(t, "craftsman-r6")
}
