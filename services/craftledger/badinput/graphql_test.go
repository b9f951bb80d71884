package badinput_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

type gqlError struct {
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Data json.RawMessage `json:"data"`
}

func gqlCode(t *testing.T, r sectest.Response) string {
	t.Helper()
	var g gqlError
	if err := json.Unmarshal(r.Body, &g); err != nil {
		t.Fatalf("GraphQL answer is not JSON: %s", r)
	}
	if len(g.Errors) == 0 {
		return ""
	}
	c, _ := g.Errors[0].Extensions["code"].(string)
	return c
}

// TestGraphQLMalformedRequests sends malformed, invalid and oversized
// requests to /graphql (anonymous and as an auditor): each gets a JSON
// answer with its exact status and stable extensions.code.
func TestGraphQLMalformedRequests(t *testing.T) {
	e := sectest.Start(t, sectest.Options{NoFixture: true})
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 30000 {
		fmt.Fprintf(&aliases, "l%d: levels { __typename } ", i)
	}
	aliases.WriteString("}")
	// Over the complexity limit (fields × page sizes) while under the
	// 64 KiB query-text limit.
	pages := func(n int) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "c%d: craftsmen(first: 100) { __typename } ", i)
		}
		return b.String() + "}"
	}
	q := func(s string) string { b, _ := json.Marshal(map[string]string{"query": s}); return string(b) }
	cases := []struct {
		name, ctype, body string
		status            int
		code              string
		anonCode          string // when anonymous differs (auth is decided first)
	}{
		{"truncated JSON", "application/json", `{"query":`, 400, "INVALID_ARGUMENT", ""},
		{"no query", "application/json", `{}`, 400, "INVALID_ARGUMENT", ""},
		{"a batch (array)", "application/json", `[{"query":"{ levels { __typename } }"}]`, 400, "INVALID_ARGUMENT", ""},
		{"wrong content type", "text/plain", q(`{ levels { __typename } }`), 400, "INVALID_ARGUMENT", ""},
		{"syntax error", "application/json", q(`{ levels { `), 400, "INVALID_ARGUMENT", ""},
		{"unknown field", "application/json", q(`{ nothing }`), 400, "INVALID_ARGUMENT", ""},
		{"unknown argument", "application/json", q(`{ levels(x: 1) { __typename } }`), 400, "INVALID_ARGUMENT", ""},
		{"nested past the schema", "application/json", q(`{ levels { ` + strings.Repeat("levels { ", 30) + "__typename" + strings.Repeat(" }", 31) + ` }`), 400, "INVALID_ARGUMENT", ""},
		{"unknown operation name", "application/json", `{"query":"query A { levels { __typename } }","operationName":"B"}`, 400, "INVALID_ARGUMENT", ""},
		{"page over the limit", "application/json", q(`{ craftsmen(first: 1000) { __typename } }`), 200, "INVALID_ARGUMENT", "UNAUTHENTICATED"},
		// Request-level per docs/graphql.md, yet answered 200 (reported).
		{"variable of the wrong type", "application/json", `{"query":"query($n: Int) { craftsmen(first: $n) { __typename } }","variables":{"n":"ten"}}`, 200, "INVALID_ARGUMENT", ""},
		{"unparsable minPosition", "application/json", q(`{ academies(minPosition: "abc") { __typename } }`), 200, "INVALID_ARGUMENT", ""},
		{"400 pages of 100 (complexity)", "application/json", q(pages(400)), 429, "RESOURCE_EXHAUSTED", ""},
		{"1,000 fields in one selection set", "application/json", q(pages(1000)), 400, "INVALID_ARGUMENT", ""},
		{"30,000 aliases (query text over 64 KiB)", "application/json", q(aliases.String()), 400, "INVALID_ARGUMENT", ""},
		// 429 for a body that will never fit (reported: 413 would not invite a retry).
		{"body over 1 MiB", "application/json", `{"query":"{ levels { __typename } }","x":"` + strings.Repeat("x", 1<<20) + `"}`, 429, "RESOURCE_EXHAUSTED", ""},
	}
	for _, caller := range []sectest.Caller{sectest.Anonymous, sectest.Auditor} {
		for _, c := range cases {
			t.Run(string(caller)+"/"+c.name, func(t *testing.T) {
				r := e.Do(caller, "POST", "/graphql", c.ctype, c.body)
				want := c.code
				if caller == sectest.Anonymous && c.anonCode != "" {
					want = c.anonCode
				}
				if got := gqlCode(t, r); r.Status != c.status || got != want {
					t.Errorf("%s: %.300s, want %d %s", c.name, r, c.status, want)
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
					t.Errorf("content type %q", ct)
				}
			})
		}
	}
	// GET with a query in the URL follows the same rules.
	r := e.Do(sectest.Anonymous, "GET", "/graphql?query="+strings.ReplaceAll("{ nothing }", " ", "%20"), "", "")
	if gqlCode(t, r) != "INVALID_ARGUMENT" || r.Status != 400 {
		t.Errorf("GET unknown field: %s", r)
	}
}

// hostile queries that must not take the server down; each runs in a
// child process (a crash there must not end this test binary).
var hostile = map[string]string{
	// Two fragments spreading each other: graphql-go v0.8.1's
	// OverlappingFieldsCanBeMerged rule recurses without end.
	"fragment cycle": `query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
	// 100,000 unclosed selections (~900 KB, under the 1 MiB body limit):
	// parsing and its error cost grows with the square of the depth.
	"100,000 nested selections": strings.Repeat("{ levels ", 100000),
}

// TestHostileGraphQLHelper is the child of TestHostileGraphQLQueries.
func TestHostileGraphQLHelper(t *testing.T) {
	name := os.Getenv("CRAFTLEDGER_HOSTILE_QUERY")
	if name == "" {
		t.Skip("child process of TestHostileGraphQLQueries")
	}
	e := sectest.Start(t, sectest.Options{NoFixture: true})
	b, _ := json.Marshal(map[string]string{"query": hostile[name]})
	req, _ := http.NewRequest("POST", e.Base+"/graphql", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		fmt.Println("NOANSWER", err)
		os.Exit(3) // skip the cleanup: the server may still be busy
	}
	resp.Body.Close()
	r2 := e.Do(sectest.Anonymous, "POST", "/graphql", "", `{"query":"{ levels { __typename } }"}`)
	fmt.Printf("ANSWER %d %s AFTER %d\n", resp.StatusCode, resp.Header.Get("Content-Type"), r2.Status)
}

// TestHostileGraphQLQueries sends each hostile query to an all-in-one in a
// child process: the server must answer it (4xx, JSON) within 15 s and go
// on serving. Both used to be fatal: the fragment cycle killed the process
// with a stack overflow in graphql-go's validation, and the deep nesting
// tied a CPU for minutes; graphql/server now refuses both before that.
func TestHostileGraphQLQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for name := range hostile {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileGraphQLHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CRAFTLEDGER_HOSTILE_QUERY="+name)
			out, _ := cmd.CombinedOutput()
			s := string(out)
			switch {
			case strings.Contains(s, "fatal error: stack overflow"):
				t.Errorf("%s crashes the whole process (fatal error: stack overflow in graphql-go validation)", name)
			case strings.Contains(s, "NOANSWER"):
				t.Errorf("%s got no answer within 15 s (the request timeout does not bound parsing)", name)
			case !strings.Contains(s, "ANSWER 400 application/json"):
				t.Errorf("%s: %.2000s, want a 400 JSON answer", name, s)
			case !strings.Contains(s, "AFTER 200"):
				t.Errorf("%s: the server did not go on serving: %.2000s", name, s)
			}
		})
	}
}
