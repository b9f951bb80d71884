package security_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/craftledger/craftledger/services/craftledger/security/sectest"
)

type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func gqlQuery(e *sectest.Env, caller sectest.Caller, q string) (sectest.Response, gqlAnswer) {
	e.T.Helper()
	b, _ := json.Marshal(map[string]any{"query": q})
	resp := e.Do(caller, "POST", "/graphql", "application/json", string(b))
	var a gqlAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil {
		e.T.Fatalf("graphql answer is not JSON: %s", resp)
	}
	return resp, a
}

type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

func (t *typeRef) named() *typeRef {
	for t != nil && t.OfType != nil {
		t = t.OfType
	}
	return t
}

type introField struct {
	Name string `json:"name"`
	Args []struct {
		Name string  `json:"name"`
		Type typeRef `json:"type"`
	} `json:"args"`
	Type typeRef `json:"type"`
}

// topFields introspects the schema's query (and mutation) root fields.
func topFields(t *testing.T, e *sectest.Env) []introField {
	t.Helper()
	const tref = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`
	resp, a := gqlQuery(e, sectest.Admin, `{ __schema { queryType { fields { name args { name type { `+tref+` } } type { `+tref+` } } }
		mutationType { fields { name } } subscriptionType { fields { name } } } }`)
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("introspection: %s", resp)
	}
	var s struct {
		QueryType struct {
			Fields []introField `json:"fields"`
		} `json:"queryType"`
		MutationType *struct {
			Fields []struct{ Name string } `json:"fields"`
		} `json:"mutationType"`
		SubscriptionType *struct {
			Fields []struct{ Name string } `json:"fields"`
		} `json:"subscriptionType"`
	}
	if err := json.Unmarshal(a.Data["__schema"], &s); err != nil {
		t.Fatal(err)
	}
	if s.MutationType != nil || s.SubscriptionType != nil {
		t.Errorf("the schema has mutations or subscriptions (%+v %+v): the read side must not write; extend the matrix", s.MutationType, s.SubscriptionType)
	}
	return s.QueryType.Fields
}

// probe is one question of the GraphQL matrix: the arguments, and which
// valid callers get an answer (all others get the field refused).
type probe struct {
	args string
	ok   []sectest.Caller // valid callers that get the field; "anonymous" may be listed
}

var (
	everyone   = []sectest.Caller{sectest.Anonymous, sectest.WorkerC, sectest.HRA, sectest.IssuerB, sectest.IssuerX, sectest.Auditor, sectest.Admin}
	signedIn   = []sectest.Caller{sectest.WorkerC, sectest.HRA, sectest.IssuerB, sectest.IssuerX, sectest.Auditor, sectest.Admin}
	auditors   = []sectest.Caller{sectest.Auditor, sectest.Admin}
	orgMembers = []sectest.Caller{sectest.HRA, sectest.IssuerB, sectest.IssuerX, sectest.Auditor, sectest.Admin}
)

// gqlMatrix lists, per top-level field, the probes (docs/graphql.md, "Who
// may see what"). A field of the schema missing here fails the test.
var gqlMatrix = map[string][]probe{
	"academies":    {{ok: everyone}},
	"competitions": {{ok: everyone}},
	"levels":       {{ok: everyone}},
	"policies":     {{ok: everyone}},
	"projection":   {{ok: everyone}},
	"trades":       {{ok: everyone}},
	"viewer":       {{ok: signedIn}},
	// An offline signature check against the deployment's public key:
	// public, reads nothing from the ledger (this credential is invalid,
	// which is an answer, not an error).
	"verifyCredential": {{args: `credential: "{}"`, ok: everyone}},
	"craftsman": {
		// The worker's own record: employed by A, trained at B.
		{args: `id: "` + sectest.Worker + `"`, ok: []sectest.Caller{sectest.WorkerC, sectest.HRA, sectest.IssuerB, sectest.Auditor, sectest.Admin}},
		// A craftsman linked to none of the callers' organisations.
		{args: `id: "` + sectest.Stranger + `"`, ok: auditors},
	},
	"craftsmen": {
		{args: `first: 5`, ok: orgMembers},
		{args: `first: 5, employer: "` + sectest.OrgA + `"`, ok: []sectest.Caller{sectest.HRA, sectest.Auditor, sectest.Admin}},
		{args: `first: 5, employer: "employer-zz"`, ok: auditors},
	},
	"populationStats": {
		{ok: orgMembers},
		{args: `employer: "` + sectest.OrgA + `"`, ok: []sectest.Caller{sectest.HRA, sectest.Auditor, sectest.Admin}},
		{args: `employer: "employer-zz"`, ok: auditors},
	},
	"audit":           {{args: `first: 5`, ok: auditors}},
	"streamIntegrity": {{args: `stream: "craftsman-` + sectest.Worker + `"`, ok: auditors}},
}

// fieldQuery builds `{ name(args) { __typename } }` (no selection for a
// scalar or enum).
func fieldQuery(f introField, args string) string {
	sel := ""
	switch f.Type.named().Kind {
	case "OBJECT", "INTERFACE", "UNION":
		sel = " { __typename }"
	}
	if args != "" {
		args = "(" + args + ")"
	}
	return "{ " + f.Name + args + sel + " }"
}

func errCodes(a gqlAnswer) []string {
	var out []string
	for _, e := range a.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// TestGraphQLAuthorizationMatrix introspects the schema and asks every
// top-level field as every caller: invalid tokens are HTTP 401
// UNAUTHENTICATED for the whole request, a refused field is null with
// PERMISSION_DENIED (UNAUTHENTICATED when anonymous), an allowed one
// answers without error. A field the matrix does not classify fails.
func TestGraphQLAuthorizationMatrix(t *testing.T) {
	e := sectest.Start(t, sectest.Options{})
	fields := topFields(t, e)
	if len(fields) == 0 {
		t.Fatal("no query fields")
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
		if len(gqlMatrix[f.Name]) == 0 {
			var args []string
			for _, a := range f.Args {
				args = append(args, fmt.Sprintf("%s:%s", a.Name, a.Type.Kind+"/"+a.Type.named().Name))
			}
			t.Errorf("top-level field %s(%s) is not in the GraphQL authorization matrix", f.Name, strings.Join(args, ", "))
		}
	}
	sort.Strings(names)
	for name := range gqlMatrix {
		if !slices.Contains(names, name) {
			t.Errorf("matrix names %s, which the schema does not have", name)
		}
	}

	byName := map[string]introField{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	for _, name := range names {
		for _, pr := range gqlMatrix[name] {
			q := fieldQuery(byName[name], pr.args)
			for _, caller := range sectest.Callers() {
				t.Run(name+"/"+string(caller)+"/"+pr.args, func(t *testing.T) {
					resp, a := gqlQuery(e, caller, q)
					codes := errCodes(a)
					raw := a.Data[name]
					switch {
					case caller.Invalid() && caller != sectest.Anonymous:
						if resp.Status != 401 || !slices.Equal(codes, []string{"UNAUTHENTICATED"}) || (raw != nil && string(raw) != "null") {
							t.Errorf("%s as %s: %s, want HTTP 401 UNAUTHENTICATED and no data", q, caller, resp)
						}
					case slices.Contains(pr.ok, caller):
						if resp.Status != 200 || len(codes) > 0 || raw == nil || string(raw) == "null" {
							t.Errorf("%s as %s: %s, want an answer", q, caller, resp)
						}
					default:
						want := "PERMISSION_DENIED"
						if caller == sectest.Anonymous {
							want = "UNAUTHENTICATED"
						}
						if resp.Status != 200 || !slices.Equal(codes, []string{want}) || (raw != nil && string(raw) != "null") {
							t.Errorf("%s as %s: %s, want the field null with %s", q, caller, resp, want)
						}
					}
				})
			}
		}
	}
}
