package schema

import (
	"context"
	"errors"
	"testing"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/errs"
)

// TestFieldsStopWhenTheRequestEnds: once a request's context has ended,
// every field (a top-level resolver, a nested one, graphql-go's default
// one) answers DEADLINE_EXCEEDED without resolving, so the executor
// graphql-go leaves running after a timed-out answer ends quickly; with a
// live context the same fields resolve.
func TestFieldsStopWhenTheRequestEnds(t *testing.T) {
	sc := mustSchema(t, Deps{Model: readmodel.NewMemory(), Waiter: nopWaiter{}})
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	levels := sc.QueryType().Fields()["levels"]
	if levels == nil {
		t.Fatal("no levels field")
	}
	level, ok := sc.Type("Level").(*graphql.Object)
	if !ok {
		t.Fatal("no Level type")
	}
	for _, tc := range []struct {
		name  string
		field *graphql.FieldDefinition
	}{
		{"top-level levels", levels},
		{"Level.rank", level.Fields()["rank"]},
		{"__Type.name (introspection)", sc.Type("__Type").(*graphql.Object).Fields()["name"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == nil || tc.field.Resolve == nil {
				t.Fatal("field without a resolver")
			}
			var src any = events.Level(3)
			if tc.name == "__Type.name (introspection)" {
				src = graphql.String
			}
			p := graphql.ResolveParams{Context: ended, Source: src, Args: map[string]any{}, Info: graphql.ResolveInfo{FieldName: tc.field.Name}}
			v, err := tc.field.Resolve(p)
			if !errors.Is(err, errs.DeadlineExceeded) || v != nil {
				t.Fatalf("ended context: %v, %v; want DEADLINE_EXCEEDED and no value", v, err)
			}
			p.Context = context.Background()
			if _, err := tc.field.Resolve(p); err != nil {
				t.Fatalf("live context: %v", err)
			}
		})
	}
}
