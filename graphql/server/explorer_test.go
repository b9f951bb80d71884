package server

import (
	"context"
	"strings"
	"testing"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/schema"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

type noWait struct{}

func (noWait) WaitFor(_ context.Context, _ eventstore.Position) error { return nil }

// Every example the explorer offers is a valid query of the schema, and
// the page carries each one.
func TestExplorerExamplesValidate(t *testing.T) {
	s, err := schema.New(schema.Deps{Model: readmodel.NewMemory(), Waiter: noWait{}})
	if err != nil {
		t.Fatal(err)
	}
	page := explorerPage()
	for _, e := range examples() {
		doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{Body: []byte(e.Query)})})
		if err != nil {
			t.Errorf("%s: %v", e.Title, err)
			continue
		}
		if v := graphql.ValidateDocument(&s, doc, nil); !v.IsValid {
			t.Errorf("%s: %v", e.Title, v.Errors)
		}
		if !strings.Contains(page, e.Title) {
			t.Errorf("page lacks %q", e.Title)
		}
	}
	if strings.Contains(page, "EXAMPLES") || strings.Contains(page, "= ORDER") {
		t.Error("placeholders left in the page")
	}
}
