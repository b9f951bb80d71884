package training_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/command/commandtest"
)

// post sends body as is with Content-Type ct; for a 200 back-fill answer
// it parses the lines and the summary.
func (e *env) post(t *testing.T, path, ct string, body []byte) (commandtest.Response, map[int]command.LineResult, command.SummaryLine) {
	t.Helper()
	r := commandtest.Do(t, "POST", e.url+path, issuer(t, academy), body, "Content-Type", ct)
	lines := map[int]command.LineResult{}
	var sum command.SummaryLine
	if r.Status != 200 {
		return r, lines, sum
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"summary"`)) {
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var lr command.LineResult
		if err := json.Unmarshal(sc.Bytes(), &lr); err != nil {
			t.Fatal(err)
		}
		lines[lr.Line] = lr
	}
	return r, lines, sum
}

// gbk is 电工 in GBK: not UTF-8.
const gbk = "\xb5\xe7\xb9\xa4"

// TestNotUTF8IsRefused: a body declared in another charset is refused as
// a whole, and text that is not UTF-8 — a CSV field, a JSON line's value,
// a single command's field — is refused naming its column or field
// instead of being stored with U+FFFD; the rest of the file goes on.
func TestNotUTF8IsRefused(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "g1")
	stream := "craftsman-g1"
	csv := "craftsmanId,academyId,courseId,module,hours,passed,occurredAt\n" +
		"g1," + academy + ",elec-201," + gbk + ",8,true,2020-02-01\n" +
		"g1," + academy + ",elec-201,电工,8,true,2020-02-02\n"

	r, _, _ := e.post(t, "/v1/backfill/completions", "text/csv; charset=GBK", []byte(csv))
	if r.Status != 400 {
		t.Fatalf("CSV declared GBK: %d %s, want 400", r.Status, r.Body)
	}
	if code, _ := r.Error(t); code != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "GBK") || e.count(t, stream) != 1 {
		t.Fatalf("CSV declared GBK: %d %s, %d events; want 400 naming the charset, nothing written", r.Status, r.Body, e.count(t, stream))
	}
	if r, lines, sum := e.post(t, "/v1/backfill/completions", "text/csv; charset=utf-8", []byte(csv)); r.Status != 200 || sum.Error != "" ||
		lines[2].OK || lines[2].Code != "INVALID_ARGUMENT" || !strings.Contains(lines[2].Message, `column "module" is not valid UTF-8`) || !lines[3].OK {
		t.Fatalf("CSV in GBK, undeclared: %d %s", r.Status, r.Body)
	}
	if n := e.count(t, stream); n != 2 {
		t.Fatalf("%d events, want 2 (the UTF-8 line only)", n)
	}

	jsonl := `{"craftsmanId":"g1","academyId":"` + academy + `","courseId":"elec-201","module":"` + gbk + `","hours":8,"passed":true,"occurredAt":"2020-02-03"}` + "\n" +
		`{"craftsmanId":"g1","academyId":"` + academy + `","courseId":"elec-201","module":"电工","hours":8,"passed":true,"occurredAt":"2020-02-04"}` + "\n"
	if r, lines, _ := e.post(t, "/v1/backfill/completions", "application/x-ndjson", []byte(jsonl)); r.Status != 200 ||
		lines[1].OK || lines[1].Code != "INVALID_ARGUMENT" || !strings.Contains(lines[1].Message, `field "module": is not valid UTF-8`) || !lines[2].OK {
		t.Fatalf("JSON line in GBK: %d %s", r.Status, r.Body)
	}

	one := []byte(`{"academyId":"` + academy + `","courseId":"elec-201","module":"` + gbk + `","hours":8,"passed":true}`)
	r = commandtest.Do(t, "POST", e.url+"/v1/craftsmen/g1/completions", issuer(t, academy), one)
	if r.Status != 400 {
		t.Fatalf("single completion in GBK: %d %s, want 400", r.Status, r.Body)
	}
	if code, field := r.Error(t); code != "INVALID_ARGUMENT" || field != "module" {
		t.Fatalf("single completion in GBK: %d %s", r.Status, r.Body)
	}
	r = commandtest.Do(t, "POST", e.url+"/v1/craftsmen/g1/completions", issuer(t, academy), bytes.ReplaceAll(one, []byte(gbk), []byte("电工")), "Content-Type", "application/json; charset=GB18030")
	if r.Status != 400 || !strings.Contains(string(r.Body), "INVALID_ARGUMENT") {
		t.Fatalf("single completion declared GB18030: %d %s", r.Status, r.Body)
	}
	if n := e.count(t, stream); n != 3 {
		t.Fatalf("%d events, want 3", n)
	}
}

// TestLoneSurrogateAndBOM: a \u escape of half a surrogate pair without
// the other half, which encoding/json stores as U+FFFD, is refused naming
// its field in a JSON line and a single command; a single command's body
// may start with a byte order mark, as a JSON Lines file may.
func TestLoneSurrogateAndBOM(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "g2")
	stream := "craftsman-g2"
	line := func(module, at string) string {
		return `{"craftsmanId":"g2","academyId":"` + academy + `","courseId":"elec-201","module":"` + module + `","hours":8,"passed":true,"occurredAt":"` + at + `"}` + "\n"
	}
	jsonl := "\ufeff" + line(`\ud800`, "2020-02-03") + line(`\ud83d\ude00`, "2020-02-04")
	if r, lines, _ := e.post(t, "/v1/backfill/completions", "application/x-ndjson", []byte(jsonl)); r.Status != 200 ||
		lines[1].OK || lines[1].Code != "INVALID_ARGUMENT" || !strings.Contains(lines[1].Message, `field "module": holds an unpaired UTF-16 surrogate escape`) || !lines[2].OK {
		t.Fatalf("JSON line with a lone surrogate escape: %d %s", r.Status, r.Body)
	}
	one := `{"academyId":"` + academy + `","courseId":"elec-201","module":"\uDC00","hours":8,"passed":true}`
	r := commandtest.Do(t, "POST", e.url+"/v1/craftsmen/g2/completions", issuer(t, academy), []byte(one))
	if code, field := r.Error(t); r.Status != 400 || code != "INVALID_ARGUMENT" || field != "module" {
		t.Fatalf("single completion with a lone surrogate escape: %d %s", r.Status, r.Body)
	}
	r = commandtest.Do(t, "POST", e.url+"/v1/craftsmen/g2/completions", issuer(t, academy), []byte("\ufeff"+strings.Replace(one, `\uDC00`, "电工", 1)))
	if r.Status != 201 {
		t.Fatalf("single completion after a byte order mark: %d %s, want 201", r.Status, r.Body)
	}
	if n := e.count(t, stream); n != 3 {
		t.Fatalf("%d events, want 3 (registration, the paired escape's line, the command after its BOM)", n)
	}
}

// TestCSVColumnNamedTwice: a header naming a column twice refuses the
// file (a JSON line naming a field twice is refused too), rather than
// letting the later value win.
func TestCSVColumnNamedTwice(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "dc")
	r, lines, sum := e.post(t, "/v1/backfill/completions", "text/csv",
		[]byte("craftsmanId,academyId,courseId,hours,hours,passed,occurredAt\ndc,"+academy+",elec-201,8,80,true,2020-01-01\n"))
	if r.Status != 200 || len(lines) != 0 || !strings.Contains(sum.Error, `column "hours" is named twice`) || e.count(t, "craftsman-dc") != 1 {
		t.Fatalf("%d %s; %d events, want the summary's error naming the column and nothing written", r.Status, r.Body, e.count(t, "craftsman-dc"))
	}
}

// TestJSONLinesByteOrderMark: a JSON Lines file starting with a byte
// order mark reads its first line (CSV drops the mark too).
func TestJSONLinesByteOrderMark(t *testing.T) {
	e := newEnv(t)
	e.craftsman(t, "q1")
	line := `{"craftsmanId":"q1","academyId":"` + academy + `","courseId":"elec-201","hours":8,"passed":true,"occurredAt":"2020-01-01"}`
	lines, sum := e.backfill(t, "/v1/backfill/completions", "application/x-ndjson", "\ufeff"+line+"\r\n")
	if sum.OK != 1 || !lines[1].OK {
		t.Fatalf("%+v %+v", lines, sum)
	}
}
