package policy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/events/career"
	"github.com/craftledger/craftledger/events/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// script runs one data-driven script (testdata/scripts/*.txt). Lines:
//
//	craftsman <id>                      start a new worker's stream
//	<occurred> [@<recorded>] [#<id>] <Type> <json>   append an event (craftsmanId added if absent)
//	policy <file>                       add testdata/policies/<file> to the policy set
//	state asOf=<date> [mode=recorded|occurred]
//	eligible policy=<name> trade=<code> target=<level> at=<date> [mode=...]
//	pathway [policies=<a,b>] at=<date> [trade=<code>] [mode=...]
//	grant competition=<id> placement=<placementId> at=<date>
//
// Each command's answer goes into testdata/golden/<script>.json.
type script struct {
	t      *testing.T
	reg    *events.Registry
	set    *policy.Set
	comps  map[string]events.CompetitionDefined
	id     string
	evs    []events.Recorded
	out    []map[string]any
	routes map[string]bool // policy/route ids met at least once
}

func parseDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatalf("bad date %q: %v", s, err)
	}
	return d
}

func (sc *script) event(lineNo int, line string) {
	t := sc.t
	fields := strings.SplitN(line, " ", 2)
	occurred := parseDate(t, fields[0])
	recorded := occurred
	rest := strings.TrimSpace(fields[1])
	id := fmt.Sprintf("%s-ev-%d", sc.id, len(sc.evs))
	for strings.HasPrefix(rest, "@") || strings.HasPrefix(rest, "#") {
		tok, r, _ := strings.Cut(rest, " ")
		if tok[0] == '@' {
			recorded = parseDate(t, tok[1:])
		} else {
			id = tok[1:]
		}
		rest = strings.TrimSpace(r)
	}
	typ, data, _ := strings.Cut(rest, " ")
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("line %d: %v", lineNo, err)
	}
	if _, ok := m["craftsmanId"]; !ok {
		m["craftsmanId"] = sc.id
	}
	raw, _ := json.Marshal(m)
	p, err := sc.reg.Decode(typ, raw)
	if err != nil {
		t.Fatalf("line %d: %v", lineNo, err)
	}
	meta := events.NewMetadata(events.CurrentType(typ), occurred, "org-test", "user-test")
	if events.CurrentType(typ) != typ {
		meta.SchemaVersion = events.TypeVersion(events.CurrentType(typ))
	}
	if err := events.Check(p, meta, recorded.Add(24*time.Hour)); err != nil {
		t.Fatalf("line %d: invalid event: %v", lineNo, err)
	}
	meta.SchemaVersion = events.TypeVersion(typ)
	sc.evs = append(sc.evs, events.Recorded{Stream: events.CraftsmanStream(sc.id), Revision: uint64(len(sc.evs)), ID: id, Type: typ,
		RecordedAt: recorded, Meta: meta, Payload: p})
}

func args(t *testing.T, fields []string) map[string]string {
	a := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("bad argument %q", f)
		}
		a[k] = v
	}
	return a
}

func (sc *script) mode(a map[string]string) career.Mode {
	if a["mode"] == "occurred" {
		return career.AsOccurred
	}
	return career.AsRecorded
}

func (sc *script) command(lineNo int, line string) {
	t := sc.t
	fields := strings.Fields(line)
	cmd := fields[0]
	if cmd == "policy" {
		b, err := os.ReadFile(filepath.Join("testdata", "policies", fields[1]))
		if err != nil {
			t.Fatal(err)
		}
		p, err := policy.ParseNamed(fields[1], b)
		if err != nil {
			t.Fatalf("line %d: %v", lineNo, err)
		}
		if err := sc.set.Add(p); err != nil {
			t.Fatal(err)
		}
		return
	}
	a := args(t, fields[1:])
	var result any
	switch cmd {
	case "state":
		result = career.Fold(sc.evs, parseDate(t, a["asOf"]), sc.mode(a))
	case "eligible":
		at := parseDate(t, a["at"])
		p, ok := sc.set.At(a["policy"], at)
		if !ok {
			t.Fatalf("line %d: no version of %s in force at %s", lineNo, a["policy"], a["at"])
		}
		target, err := events.ParseLevel(a["target"])
		if err != nil {
			t.Fatal(err)
		}
		r := policy.Evaluate(career.Fold(sc.evs, at, sc.mode(a)), p, a["trade"], target, at)
		for _, id := range r.MetRoutes {
			sc.routes[p.Name+"/"+id] = true
		}
		result = r
	case "pathway":
		at := parseDate(t, a["at"])
		s := career.Fold(sc.evs, at, sc.mode(a))
		var names []string // none: each level by set.ForTrade
		if a["policies"] != "" {
			names = strings.Split(a["policies"], ",")
		}
		if a["trade"] != "" {
			result = policy.PathwayFor(s, sc.set, names, a["trade"], at)
		} else {
			result = policy.Pathways(s, sc.set, names, at)
		}
	case "grant":
		at := parseDate(t, a["at"])
		def, ok := sc.comps[a["competition"]]
		if !ok {
			t.Fatalf("line %d: unknown competition %s", lineNo, a["competition"])
		}
		var pl *events.CompetitionPlaced
		for _, e := range sc.evs {
			if p, ok := e.Payload.(events.CompetitionPlaced); ok && p.PlacementID == a["placement"] {
				pl = &p
			}
		}
		if pl == nil {
			t.Fatalf("line %d: no placement %s", lineNo, a["placement"])
		}
		// Levels as of the results' date; every entitlement the script records.
		all := career.Fold(sc.evs, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), career.AsRecorded)
		result = policy.CompetitionGrant(policy.GrantInput{Competition: def, Placement: *pl,
			AsOf: career.Fold(sc.evs, at, career.AsRecorded), Entitlements: all.Entitlements, At: at})
	default:
		t.Fatalf("line %d: unknown command %q", lineNo, cmd)
	}
	sc.out = append(sc.out, map[string]any{"craftsman": sc.id, "command": line, "result": result})
}

func TestGoldenScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scripts", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	defaults, err := policy.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := policy.DemoCompetitions()
	if err != nil {
		t.Fatal(err)
	}
	comps := map[string]events.CompetitionDefined{}
	for _, c := range demo {
		comps[c.CompetitionID] = c
	}
	met := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			set, err := policy.NewSet(defaults...)
			if err != nil {
				t.Fatal(err)
			}
			sc := &script{t: t, reg: events.NewRegistry(), set: set, comps: comps, routes: met, out: []map[string]any{}}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			in := bufio.NewScanner(f)
			in.Buffer(make([]byte, 1<<20), 1<<20)
			for n := 1; in.Scan(); n++ {
				line := strings.TrimSpace(in.Text())
				switch {
				case line == "" || strings.HasPrefix(line, "#"):
				case strings.HasPrefix(line, "craftsman "):
					sc.id, sc.evs = strings.TrimSpace(strings.TrimPrefix(line, "craftsman ")), nil
				case line[0] >= '0' && line[0] <= '9':
					sc.event(n, line)
				default:
					sc.command(n, line)
				}
			}
			got, err := json.MarshalIndent(sc.out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", name, firstDiff(want, got))
			}
		})
	}
	// Every route of every default policy is met by some script.
	var missing []string
	for _, p := range defaults {
		for _, l := range p.Levels {
			for _, r := range l.Routes {
				if !met[p.Name+"/"+r.ID] {
					missing = append(missing, p.Name+"/"+r.ID)
				}
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("routes no script satisfies: %v", missing)
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "(identical lines, different bytes)"
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
