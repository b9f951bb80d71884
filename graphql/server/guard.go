package server

import (
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"

	"github.com/craftledger/craftledger/pkg/errs"
)

// checkShape refuses, before parsing, a query text that is too long or
// nested too deeply. graphql-go's parser costs time growing with the square
// of the nesting (10,000 unclosed selections take seconds, 100,000 minutes),
// and the request timeout does not bound parsing, so one request could hold
// a CPU. Brackets inside strings, block strings and comments do not count.
func checkShape(query string, maxBytes, maxNesting int) error {
	if len(query) > maxBytes {
		return errs.E(errs.InvalidArgument, "query is %d bytes, over the limit of %d", len(query), maxBytes)
	}
	depth := 0
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '#':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case '"':
			if i+2 < len(query) && query[i+1] == '"' && query[i+2] == '"' {
				end := indexFrom(query, i+3, `"""`)
				if end < 0 {
					return nil // unterminated: the parser reports it
				}
				i = end + 2
				continue
			}
			for i++; i < len(query) && query[i] != '"' && query[i] != '\n'; i++ {
				if query[i] == '\\' {
					i++
				}
			}
		case '{', '(', '[':
			depth++
			if depth > maxNesting {
				return errs.E(errs.InvalidArgument, "query nests deeper than %d brackets", maxNesting)
			}
		case '}', ')', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

func indexFrom(s string, from int, sub string) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// checkFragmentCycles runs the spec's "no fragment cycles" rule on its own,
// before the full validation: graphql-go v0.8.1's other rules (overlapping
// fields) recurse without end on fragments that spread each other and kill
// the process with a stack overflow (graphql-go issue #742, fixed upstream
// after the last tagged release).
func checkFragmentCycles(schema *graphql.Schema, doc *ast.Document) error {
	if v := graphql.ValidateDocument(schema, doc, []graphql.ValidationRuleFn{graphql.NoFragmentCyclesRule}); !v.IsValid {
		msg := "fragment cycle"
		if len(v.Errors) > 0 {
			msg = v.Errors[0].Message
		}
		return errs.E(errs.InvalidArgument, "invalid query: %s", msg)
	}
	return nil
}

// checkFragments refuses a document with more than max fragment
// definitions or more than max fragment spreads. graphql-go's validation
// compares the fragments spread in a selection set pairwise (1,500 spreads
// take 1.6 s), and a document is validated before the complexity limit
// can look at it.
func checkFragments(doc *ast.Document, max int) error {
	defs, spreads := 0, 0
	var walk func(ss *ast.SelectionSet)
	walk = func(ss *ast.SelectionSet) {
		if ss == nil {
			return
		}
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				spreads++
			}
		}
	}
	for _, d := range doc.Definitions {
		if _, ok := d.(*ast.FragmentDefinition); ok {
			defs++
		}
	}
	for _, ss := range topSelections(doc) {
		walk(ss)
	}
	if defs > max {
		return errs.E(errs.InvalidArgument, "query defines %d fragments, over the limit of %d", defs, max)
	}
	if spreads > max {
		return errs.E(errs.InvalidArgument, "query spreads fragments %d times, over the limit of %d", spreads, max)
	}
	return nil
}

// checkFields refuses a document with a selection set of more than limit
// fields, counting those of the inline fragments merged into it.
// graphql-go's validation compares the fields that share a response name
// in one selection set pairwise: 4,360 copies of one aliased field (64 KiB
// of query text) took a second of CPU to validate, before any limit or
// timeout could look at the document; 512 take about 20 ms.
func checkFields(doc *ast.Document, limit int) error {
	var worst int
	// merged counts the fields of ss and of its inline fragments, and
	// checks the selection sets of those fields on the way.
	var merged func(ss *ast.SelectionSet) int
	check := func(ss *ast.SelectionSet) {
		if ss != nil {
			worst = max(worst, merged(ss))
		}
	}
	merged = func(ss *ast.SelectionSet) int {
		n := 0
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				n++
				check(s.SelectionSet)
			case *ast.InlineFragment:
				if s.SelectionSet != nil {
					n += merged(s.SelectionSet)
				}
			}
		}
		return n
	}
	for _, ss := range topSelections(doc) {
		check(ss)
	}
	if worst > limit {
		return errs.E(errs.InvalidArgument, "query selects %d fields in one selection set, over the limit of %d", worst, limit)
	}
	return nil
}

// topSelections are the selection sets of doc's operations and fragment
// definitions.
func topSelections(doc *ast.Document) []*ast.SelectionSet {
	var out []*ast.SelectionSet
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.FragmentDefinition:
			out = append(out, d.SelectionSet)
		case *ast.OperationDefinition:
			out = append(out, d.SelectionSet)
		}
	}
	return out
}
