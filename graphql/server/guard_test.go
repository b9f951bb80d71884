package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"

	"github.com/craftledger/craftledger/pkg/errs"
)

func TestCheckShape(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		ok          bool
	}{
		{"plain", `{ levels { rank name } }`, true},
		{"nested to the limit", strings.Repeat("{ a ", 8) + strings.Repeat("}", 8), true},
		{"nested past the limit", strings.Repeat("{ a ", 9) + strings.Repeat("}", 9), false},
		{"unclosed nesting", strings.Repeat("{ levels ", 100000), false},
		{"brackets in a string do not count", `{ a(x: "` + strings.Repeat("{", 50) + `") }`, true},
		{"brackets in a block string do not count", `{ a(x: """` + strings.Repeat("[", 50) + `""") }`, true},
		{"brackets in a comment do not count", "# " + strings.Repeat("(", 50) + "\n{ a }", true},
		{"escaped quote keeps the string open", `{ a(x: "\"` + strings.Repeat("{", 50) + `") }`, true},
		{"too long", `{ a }` + strings.Repeat(" ", 2000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkShape(tc.query, 1000+len(`{ a }`), 8)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, errs.InvalidArgument) {
				t.Fatalf("got %v, want an InvalidArgument refusal", err)
			}
		})
	}
}

func TestCheckFragmentCycles(t *testing.T) {
	schema, err := graphql.NewSchema(graphql.SchemaConfig{Query: graphql.NewObject(graphql.ObjectConfig{
		Name:   "Query",
		Fields: graphql.Fields{"levels": &graphql.Field{Type: graphql.String}},
	})})
	if err != nil {
		t.Fatal(err)
	}
	parse := func(q string) error {
		doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(q)})})
		if err != nil {
			t.Fatal(err)
		}
		return checkFragmentCycles(&schema, doc)
	}
	if err := parse(`query { ...A } fragment A on Query { levels }`); err != nil {
		t.Errorf("acyclic fragments refused: %v", err)
	}
	// Without the check, full validation of this document overflows the
	// stack and kills the process (graphql-go #742).
	if err := parse(`query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("fragment cycle: %v, want an InvalidArgument refusal", err)
	}
}
