package servicetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/pkg/command"
)

// BackfillOK posts a back-fill file to url with token and returns the
// per-line results by line number and the summary; unlike Env.Backfill it
// fails the test unless the answer is 200 and the summary carries no error.
func BackfillOK(t testing.TB, url, token, contentType, body string) (map[int]command.LineResult, command.Summary) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("back-fill: %d %s", resp.StatusCode, b.String())
	}
	lines := map[int]command.LineResult{}
	var sum command.SummaryLine
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"summary"`)) {
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var lr command.LineResult
		if err := json.Unmarshal(sc.Bytes(), &lr); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines[lr.Line] = lr
	}
	if sum.Error != "" {
		t.Fatalf("back-fill error: %s", sum.Error)
	}
	return lines, sum.Summary
}
