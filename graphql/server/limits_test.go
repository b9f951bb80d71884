package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/graphql/server"
)

// doublingQuery is k fragments each spreading the next twice: 2^(k-1)
// copies of levels when expanded, in about 40 bytes a fragment.
func doublingQuery(k int) string {
	var b strings.Builder
	b.WriteString("query{...F1}")
	for i := 1; i < k; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query{...F%d ...F%d}", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on Query{levels{rank}}", k)
	return b.String()
}

// aliased is n copies of one public field under one alias.
func aliased(n int) string { return strings.Repeat("a:levels{rank} ", n) }

// distinct is n copies of one public field, each under its own alias
// (from the from-th).
func distinct(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "a%d:levels{rank} ", i)
	}
	return b.String()
}

// pagedDoubling is k fragments each spreading the next twice, the last a
// page of 100: 2^(k-1) pages when expanded.
func pagedDoubling(k int) string {
	return strings.Replace(doublingQuery(k), "levels{rank}", "craftsmen(first: 100){totalCount}", 1)
}

// spreadsOfDistinct is a query spreading n fragments once each, each
// selecting __typename under its own alias.
func spreadsOfDistinct(n int) string {
	var b strings.Builder
	b.WriteString("query{")
	for i := range n {
		fmt.Fprintf(&b, "...F%d ", i)
	}
	b.WriteString("}")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on Query{t%d: __typename}", i, i)
	}
	return b.String()
}

// inlines is k inline fragments on Query of n distinctly aliased fields each.
func inlines(k, n int) string {
	var b strings.Builder
	for i := range k {
		b.WriteString("... on Query{" + distinct(i*n, n) + "} ")
	}
	return b.String()
}

// spreads is a query spreading fragment F n times.
func spreads(n int) string {
	return "query{" + strings.Repeat("...F ", n) + "} fragment F on Query{__typename}"
}

func TestQueryCostLimits(t *testing.T) {
	l := startStore(t)
	seed(l, 3)
	// Default page 20, largest 100; the default fragment bound (256).
	h := startServer(t, l, "", server.Limits{MaxDepth: 5, MaxComplexity: 300, MinPosWait: 300 * time.Millisecond})
	h.caughtUp()
	aud := token(t, auditor)

	// craftsmen(first: n){edges{node{id}}} costs 1 + 3n: 301 at 100, 61 at the default 20.
	cases := []struct {
		name, query string
		vars        map[string]any
		tok         string
		status      int
		code        string
	}{
		// Without a token the measure runs as well: it must not blow up.
		// 2^40 fields expanded: over the document's field limit (1024),
		// counted once per fragment.
		{"fragments doubling 40 times", doublingQuery(40), nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"fragments doubling 200 times", doublingQuery(200), nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"}, // 398 spreads
		// Copies of one field compared pairwise: 64 (2 × 2,016 pairs with
		// their rank) pass, 128 (2 × 8,128) are over the 4,096 pairs.
		{"fragments doubling 7 times, within", doublingQuery(7), nil, aud, http.StatusOK, ""},
		{"fragments doubling 8 times", doublingQuery(8), nil, aud, http.StatusBadRequest, "INVALID_ARGUMENT"},
		// Complexity through fragments: 2 pages of 100 (202), then 4 (404).
		{"paged fragments doubling twice, within", pagedDoubling(2), nil, aud, http.StatusOK, ""},
		{"paged fragments doubling 3 times", pagedDoubling(3), nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		// One selection set of n fields, inline fragments merged into it
		// (512 pass this check and meet the complexity limit of this server).
		{"512 fields", "{" + distinct(0, 512) + "}", nil, "", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"513 fields", "{" + distinct(0, 513) + "}", nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"4,360 fields (64 KiB)", "{" + aliased(4360) + "}", nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"513 fields through inline fragments", "{" + inlines(9, 57) + "}", nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"512 fields through inline fragments", "{" + inlines(8, 64) + "}", nil, "", http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"513 fields in a fragment", "{...F} fragment F on Query{" + distinct(0, 513) + "}", nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"256 spreads", spreadsOfDistinct(256), nil, aud, http.StatusOK, ""},
		{"257 spreads", spreads(257), nil, "", http.StatusBadRequest, "INVALID_ARGUMENT"},

		{"literal first", `{ craftsmen(first: 100) { edges { node { id } } } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"variable first", `query($n: Int) { craftsmen(first: $n) { edges { node { id } } } }`, map[string]any{"n": 100}, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"variable default first", `query($n: Int = 100) { craftsmen(first: $n) { edges { node { id } } } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"variable given over its default", `query($n: Int = 100) { craftsmen(first: $n) { edges { node { id } } } }`, map[string]any{"n": 5}, aud, http.StatusOK, ""},
		{"default page", `{ craftsmen { edges { node { id } } } }`, nil, aud, http.StatusOK, ""},
		{"connection through a fragment", `{ craftsmen(first: 100) { ...P } } fragment P on PopulationMemberConnection { edges { node { id } } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"connection through an inline fragment", `{ craftsmen(first: 100) { ... on PopulationMemberConnection { edges { node { id } } } } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		// Default page 20: 1 + 20 × 15 = 301.
		{"default page through a fragment", `{ craftsmen { ...P } } fragment P on PopulationMemberConnection { edges { node { id region employers level { api } } } nodes { id region employers } pageInfo { hasNextPage endCursor } totalCount }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
		{"default page inline", `{ craftsmen { edges { node { id region employers level { api } } } nodes { id region employers } pageInfo { hasNextPage endCursor } totalCount } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},

		// One fragment at two depths: 5 through nodes, 6 through edges.
		{"fragment depth where it is spread", `{ craftsman(id: "c001") { timeline(first: 3) { nodes { ...E } } } } fragment E on TimelineEntry { trade { code } }`, nil, aud, http.StatusOK, ""},
		{"fragment depth at its deepest spread", `{ craftsman(id: "c001") { timeline(first: 3) { nodes { ...E } edges { node { ...E } } } } } fragment E on TimelineEntry { trade { code } }`, nil, aud, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.query(tc.tok, tc.query, tc.vars)
			if r.Status != tc.status || r.code() != tc.code {
				t.Errorf("status %d code %q (%+v), want %d %q", r.Status, r.code(), r.Errors, tc.status, tc.code)
			}
		})
	}
	// F3 costs 101, F2 202, F1 404: counting stops there.
	r := h.query("", pagedDoubling(3), nil)
	if len(r.Errors) == 0 || r.Errors[0].Message != "query complexity is at least 404, over the limit of 300" {
		t.Errorf("paged doubling 3 times: errors %+v, want the complexity counted up to the limit only", r.Errors)
	}
	r = h.query("", doublingQuery(40), nil)
	if len(r.Errors) == 0 || !strings.HasPrefix(r.Errors[0].Message, "query selects more than 1024 fields in all") {
		t.Errorf("doubling 40 times: errors %+v, want the document's field limit", r.Errors)
	}
	// Refused before validation (which would refuse it too, slowly).
	r = h.query("", "query{levels{rank}}"+strings.Repeat(" fragment F on Query{__typename}", 257), nil)
	if r.code() != "INVALID_ARGUMENT" || !strings.Contains(r.Errors[0].Message, "defines 257 fragments, over the limit of 256") {
		t.Errorf("257 fragment definitions: status %d errors %+v", r.Status, r.Errors)
	}
}

// BenchmarkDoublingFragments is the time the server takes to refuse a
// query whose fragments double 40 times (the document's fields are counted
// once per fragment, not once per expansion).
func BenchmarkDoublingFragments(b *testing.B) {
	l := startStore(b)
	h := startServer(b, l, "", server.Limits{})
	q := doublingQuery(40)
	for i := 0; b.Loop(); i++ {
		// A new text each time: no cached document.
		if r := h.query("", q+fmt.Sprintf(" # %d", i), nil); r.code() != "INVALID_ARGUMENT" {
			b.Fatalf("status %d errors %+v", r.Status, r.Errors)
		}
	}
}
