package schema

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// countingCtx counts its Err calls: one per stop check a resolver makes.
type countingCtx struct {
	context.Context
	n *atomic.Int64
}

func (c countingCtx) Err() error { c.n.Add(1); return c.Context.Err() }

// TestIntrospectionStopsOnce: graphql-go's introspection types are shared
// by every schema; building schemas (one after another, and two at once:
// run with -race) leaves one stop check on their fields, not one per
// schema, and each schema's own fields have one too.
func TestIntrospectionStopsOnce(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				// Not mustSchema: t.Fatal belongs to the test's goroutine.
				if _, err := New(Deps{Model: readmodel.NewMemory(), Waiter: nopWaiter{}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	sc := mustSchema(t, Deps{Model: readmodel.NewMemory(), Waiter: nopWaiter{}})
	for _, tc := range []struct {
		typ, field string
		src        any
	}{
		{"__Type", "name", graphql.String},
		{"__Field", "name", &graphql.FieldDefinition{Name: "x"}},
		{"Level", "rank", events.Level(3)},
	} {
		f := sc.Type(tc.typ).(*graphql.Object).Fields()[tc.field]
		n := new(atomic.Int64)
		p := graphql.ResolveParams{Context: countingCtx{context.Background(), n}, Source: tc.src, Args: map[string]any{}, Info: graphql.ResolveInfo{FieldName: tc.field}}
		if _, err := f.Resolve(p); err != nil {
			t.Fatalf("%s.%s: %v", tc.typ, tc.field, err)
		}
		if n.Load() != 1 {
			t.Errorf("%s.%s checks the request's context %d times after 21 schemas, want once", tc.typ, tc.field, n.Load())
		}
	}
}
