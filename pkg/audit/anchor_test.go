package audit_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/audit/audittest"
)

// TestVerifyFileAgainstStore: the hash chain covers an event's prevHash,
// type, data and metadata, not its id, position, record time or stream
// name, so a file with those edited verifies offline; against the store
// (VerifyFeedInStore) each edited line is a KindStore finding, and honest
// files — a replay of everything, of one stream, an academy's export —
// pass.
func TestVerifyFileAgainstStore(t *testing.T) {
	st, _ := audittest.Store(t)
	audittest.Population(t, st, 3)
	replay := func(opts audit.ReplayOptions) []byte {
		var buf bytes.Buffer
		w := audit.NewJSONLWriter(&buf)
		if _, err := audit.Replay(ctx(t), st, opts, w.Write); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		return buf.Bytes()
	}
	all := replay(audit.ReplayOptions{})
	var academy bytes.Buffer
	if _, err := audit.Export(ctx(t), st, audit.ExportOptions{AcademyID: audittest.Academy}, audit.NewJSONLWriter(&academy)); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"all": all, "stream": replay(audit.ReplayOptions{Scope: audit.Scope{Stream: "craftsman-c-0002"}}), "academy": academy.Bytes()} {
		rep, err := audit.VerifyFeedInStore(ctx(t), st, audit.VerifyOptions{Partial: true}, audit.LinesFeed(bytes.NewReader(file)))
		if err != nil || !rep.OK || len(rep.Findings) != 0 {
			t.Errorf("honest %s file against the store: %v %+v", name, err, rep)
		}
	}

	lines := bytes.Split(all, []byte("\n"))
	edit := func(i int, re string, repl func(string) string) {
		t.Helper()
		r := regexp.MustCompile(re)
		loc := r.FindSubmatchIndex(lines[i])
		if loc == nil {
			t.Fatalf("line %d has no %s: %s", i, re, lines[i])
		}
		v := string(lines[i][loc[2]:loc[3]])
		lines[i] = append(append(append([]byte(nil), lines[i][:loc[2]]...), repl(v)...), lines[i][loc[3]:]...)
	}
	edit(2, `"id":"([^"]+)"`, func(string) string { return "00000000-0000-4000-8000-000000000001" })
	edit(4, `"recorded":"(\d{4})`, func(y string) string { n, _ := strconv.Atoi(y); return strconv.Itoa(n - 1) })
	edit(6, `"position":\{"commit":(\d+),"prepare":(?:\d+)\}`, func(c string) string { n, _ := strconv.Atoi(c); return fmt.Sprint(n + 100000) })
	edit(8, `"position":\{"commit":(\d+)`, func(c string) string { n, _ := strconv.Atoi(c); return fmt.Sprint(n - 1) })
	edit(12, `"position":\{"commit":(\d+,"prepare":\d+)\}`, func(string) string { return `0,"prepare":0` })
	edited := bytes.Join(lines, []byte("\n"))
	off, err := audit.VerifyFeed(ctx(t), nil, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(edited)))
	if err != nil || !off.OK {
		t.Fatalf("offline the edits are not seen (the chain does not cover them): %v %+v", err, off)
	}
	rep, err := audit.VerifyFeedInStore(ctx(t), st, audit.VerifyOptions{}, audit.LinesFeed(bytes.NewReader(edited)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s@%d", f.Kind, f.Stream, f.Revision))
	}
	want := []string{"store craftsman-c-0001@1", "store craftsman-c-0001@3", "store craftsman-c-0001@5", "store craftsman-c-0001@7", "store craftsman-c-0002@2"}
	if rep.OK || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("edited file against the store: %v, want %v\n%v", got, want, rep.Findings)
	}
	for _, f := range rep.Findings {
		t.Log(f)
	}
}
