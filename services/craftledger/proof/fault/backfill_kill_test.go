package fault_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/servicekit/servicetest"
	"github.com/craftledger/craftledger/services/craftledger/proof/load"
)

type backfillLine struct {
	Line     int    `json:"line"`
	OK       bool   `json:"ok"`
	Replayed bool   `json:"replayed"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Summary  *struct {
		Lines, OK, Failed, Replayed int
		Error                       string
	} `json:"summary"`
}

// postBackfill streams body to the training service's completions
// back-fill at base and calls each for every result line until it returns
// false (then the answer is abandoned) or the summary arrives.
func postBackfill(t *testing.T, base, token, body string, each func(backfillLine) bool) error {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/backfill/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("back-fill answered %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l backfillLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("result line %q: %w", sc.Text(), err)
		}
		if !each(l) || l.Summary != nil {
			return nil
		}
	}
	return sc.Err()
}

// TestServiceKilledMidBackfill: a JSON Lines back-fill of 3,000 training
// completions (60 craftsmen, 50 lines each, every line with its own key)
// is streamed to a bin/training process, which is killed with SIGKILL once
// 300 lines have been reported written. The same file is then sent to a
// new training process: every line answers ok, the lines written before
// the kill answer "replayed", and the store holds exactly one event per
// line — none lost, none twice.
func TestServiceKilledMidBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a service process")
	}
	addr := servicetest.FreeAddr(t)
	startStore(t, t.TempDir(), addr)
	ctx := context.Background()
	l, err := load.StartLocal(ctx, t.TempDir(), storeURL(addr), 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := client(t, l.App.BaseURL(), "acad-bf")
	ids := register(t, c, "bf", 60)

	const lines = 3000
	var sb strings.Builder
	var cmds []*keyed
	for i := range lines {
		k := &keyed{craftsman: ids[i%len(ids)], key: fmt.Sprintf("paper-%d", i)}
		cmds = append(cmds, k)
		fmt.Fprintf(&sb, `{"craftsmanId":%q,"key":%q,"academyId":%q,"courseId":%q,"hours":4,"passed":true,"occurredAt":"2014-%02d-01"}`+"\n",
			k.craftsman, k.key, c.Academy, c.Course, 1+i%12)
	}
	file := sb.String()
	token, err := auth.Mint(auth.DevKey(), auth.Claims{Subject: "clerk", Role: auth.RoleIssuer, OrgID: c.Academy}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	svcAddr := servicetest.FreeAddr(t)
	env := []string{"CRAFTLEDGER_STORE=" + storeURL(addr), "CRAFTLEDGER_ADDR=" + svcAddr, "CRAFTLEDGER_DEV=1", "CRAFTLEDGER_LOG_LEVEL=warn"}
	bin := binary(t, trainingPkg)
	svc := startProc(t, "training", bin, env)
	waitReady(t, "http://"+svcAddr, 30*time.Second)
	written := 0
	err = postBackfill(t, "http://"+svcAddr, token, file, func(l backfillLine) bool {
		if l.OK {
			written++
		}
		if written == 300 {
			svc.kill(t)
			return false
		}
		return true
	})
	if written < 300 {
		t.Fatalf("the first back-fill ended after %d lines (%v), before the kill\n%s", written, err, svc.out)
	}

	svc = startProc(t, "training", bin, env)
	waitReady(t, "http://"+svcAddr, 30*time.Second)
	ok, replayed := 0, 0
	var summary *backfillLine
	err = postBackfill(t, "http://"+svcAddr, token, file, func(l backfillLine) bool {
		switch {
		case l.Summary != nil:
			summary = &l
		case l.OK:
			ok++
			if l.Replayed {
				replayed++
			}
		default:
			t.Errorf("line %d: %s %s", l.Line, l.Code, l.Message)
		}
		return true
	})
	if err != nil || summary == nil {
		t.Fatalf("rerun: %v, summary %v\n%s", err, summary, svc.out)
	}
	t.Logf("killed after %d lines reported; rerun: %d ok, %d replayed, summary %+v", written, ok, replayed, *summary.Summary)
	if ok != lines || summary.Summary.OK != lines || summary.Summary.Failed != 0 {
		t.Errorf("rerun wrote %d of %d lines", ok, lines)
	}
	if replayed < written {
		t.Errorf("rerun replayed %d lines, but %d were reported written before the kill", replayed, written)
	}
	for _, k := range cmds {
		k.acked = false // the answers carry no revisions; presence is checked by id
	}
	checkExactlyOnce(t, openStore(t, storeURL(addr)), cmds)
	svc.term(t)
}
