package command

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/craftledger/craftledger/pkg/kit"
)

// repeatByte reads as an endless run of one byte.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// hugeLineBody is prefix, n bytes of 'x', then suffix, made as it is read.
func hugeLineBody(prefix string, n int64, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatByte('x'), n), strings.NewReader(suffix))
}

// postBackfill sends body to a BackfillHandler behind a real HTTP server
// and returns the answer's lines and the bytes the process allocated
// meanwhile.
func postBackfill(t *testing.T, contentType string, body io.Reader) (results map[int]LineResult, end SummaryLine, allocated uint64) {
	t.Helper()
	rec := newRecorder()
	srv := httptest.NewServer(BackfillHandler{
		Backfill: Backfill{Workers: 2},
		Prepare:  func(context.Context, string) (PrepareFunc, error) { return rec.prepare, nil },
		Encode:   kit.EncodeError,
	})
	defer srv.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := http.Post(srv.URL, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	results = map[int]LineResult{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `{"summary"`) {
			if err := json.Unmarshal(sc.Bytes(), &end); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var lr LineResult
		if err := json.Unmarshal(sc.Bytes(), &lr); err != nil {
			t.Fatal(err)
		}
		results[lr.Line] = lr
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return results, end, after.TotalAlloc - before.TotalAlloc
}

// hugeLine is far over the 1 MiB line bound, and far over what the reader
// may allocate for it.
const (
	hugeLine    = 64 << 20
	allocBudget = 16 << 20
)

// TestBackfillHugeJSONLine: a 64 MiB JSON line sent to the back-fill
// endpoint is refused with its line number without being held (the
// process allocates a fraction of it: bufio.Reader.ReadBytes held it
// all, twice over), and the next line still runs.
func TestBackfillHugeJSONLine(t *testing.T) {
	body := hugeLineBody(`{"worker":"a","pad":"`, hugeLine, `"}`+"\n"+`{"worker":"b"}`+"\n   \t \n")
	got, end, allocated := postBackfill(t, "application/x-ndjson", body)
	if allocated > allocBudget {
		t.Errorf("allocated %d MiB for a %d MiB line, want under %d MiB", allocated>>20, hugeLine>>20, allocBudget>>20)
	}
	want := map[int]LineResult{
		1: {Line: 1, Code: "INVALID_ARGUMENT", Message: "line 1: longer than 1048576 bytes"},
		2: {Line: 2, OK: true, Stream: "craftsman-b", Revision: got[2].Revision, Position: got[2].Position},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if end.Error != "" || end.Summary.Lines != 2 || end.Summary.Failed != 1 {
		t.Errorf("summary %+v", end)
	}
}

// TestBackfillHugeCSVField: a 64 MiB quoted CSV field is refused once it
// passes the line bound, without being held; the lines before it ran, and
// the run stops there (the rest cannot be told apart from the field).
func TestBackfillHugeCSVField(t *testing.T) {
	// Line 2's key runs over two lines, line 4 is blank: the huge record
	// starts on line 5, after line 3.
	body := hugeLineBody("worker,key\nok,\"k\n1\"\n\na,\"", hugeLine, "\"\nb,k3\n")
	got, end, allocated := postBackfill(t, "text/csv", body)
	if allocated > allocBudget {
		t.Errorf("allocated %d MiB for a %d MiB field, want under %d MiB", allocated>>20, hugeLine>>20, allocBudget>>20)
	}
	if len(got) != 1 || !got[2].OK {
		t.Errorf("results %+v, want only line 2, ok", got)
	}
	if want := "the record after line 3 is longer than 1048576 bytes; it and the lines after it were not read"; !strings.Contains(end.Error, want) {
		t.Errorf("summary error %q, want %q", end.Error, want)
	}
}

// TestLineReaderBound: the JSON Lines reader's bound is on a line's
// content, its surrounding white space aside, across buffer boundaries.
func TestLineReaderBound(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("y", n) }
	sp := strings.Repeat(" ", 40)
	for _, tc := range []struct {
		name string
		in   string
		want []string // "!" marks a line over the bound
	}{
		{"fits", pad(32) + "\n" + pad(33) + "\n", []string{pad(32), "!"}},
		{"white space around", sp + pad(32) + sp + "\r\n" + sp + "\n", []string{pad(32), ""}},
		{"white space inside counts", pad(16) + sp + pad(16) + "\n", []string{"!"}},
		{"over then more", pad(100) + "\n" + pad(3), []string{"!", pad(3)}},
		{"trailing space then text", pad(30) + sp + "z\n", []string{"!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := lineReader{br: bufio.NewReaderSize(strings.NewReader(tc.in), 16), max: 32}
			var got []string
			for {
				line, over, err := l.next()
				if over {
					got = append(got, "!")
				} else if len(line) > 0 || err == nil {
					got = append(got, string(line))
				}
				if err != nil {
					break
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}
