package server

import (
	"strconv"
	"strings"

	"github.com/graphql-go/graphql/language/ast"
)

// shape is what the guard rails measure in a validated document.
type shape struct {
	depth      int
	complexity int
}

// measure computes the depth and complexity of the operation named op
// (or the only one). Introspection subtrees (__schema, __type) count for
// complexity but not for depth: their nesting is bounded by the schema.
// Complexity counts every field once, multiplied by the page size ("first",
// from a literal or a variable, else defaultPage) of each enclosing list
// field that takes one.
func measure(doc *ast.Document, op string, vars map[string]any, defaultPage int) shape {
	frags := map[string]*ast.FragmentDefinition{}
	var operation *ast.OperationDefinition
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.FragmentDefinition:
			frags[d.Name.Value] = d
		case *ast.OperationDefinition:
			if operation == nil || (op != "" && d.Name != nil && d.Name.Value == op) {
				operation = d
			}
		}
	}
	if operation == nil {
		return shape{}
	}
	m := measurer{frags: frags, vars: vars, defaultPage: defaultPage, active: map[string]bool{}}
	d, c := m.set(operation.SelectionSet, 0, false)
	return shape{depth: d, complexity: c}
}

type measurer struct {
	frags       map[string]*ast.FragmentDefinition
	vars        map[string]any
	defaultPage int
	active      map[string]bool // fragments being expanded (cycle guard)
}

func (m *measurer) set(ss *ast.SelectionSet, depth int, introspection bool) (maxDepth, cost int) {
	if ss == nil {
		return depth, 0
	}
	maxDepth = depth
	for _, sel := range ss.Selections {
		var d, c int
		switch s := sel.(type) {
		case *ast.Field:
			d, c = m.field(s, depth, introspection)
		case *ast.InlineFragment:
			d, c = m.set(s.SelectionSet, depth, introspection)
		case *ast.FragmentSpread:
			name := s.Name.Value
			f, ok := m.frags[name]
			if !ok || m.active[name] {
				continue
			}
			m.active[name] = true
			d, c = m.set(f.SelectionSet, depth, introspection)
			delete(m.active, name)
		}
		maxDepth = max(maxDepth, d)
		cost += c
	}
	return maxDepth, cost
}

func (m *measurer) field(f *ast.Field, depth int, introspection bool) (int, int) {
	name := f.Name.Value
	if strings.HasPrefix(name, "__") && name != "__typename" {
		introspection = true
	}
	next := depth
	if !introspection {
		next = depth + 1
	}
	d, c := m.set(f.SelectionSet, next, introspection)
	if f.SelectionSet != nil {
		if n := m.pageOf(f); n > 0 {
			c *= n
		}
	}
	return d, 1 + c
}

// pageOf is the "first" argument of f (0 when f takes none).
func (m *measurer) pageOf(f *ast.Field) int {
	for _, a := range f.Arguments {
		if a.Name.Value != "first" {
			continue
		}
		switch v := a.Value.(type) {
		case *ast.IntValue:
			if n, err := strconv.Atoi(v.Value); err == nil && n > 0 {
				return n
			}
		case *ast.Variable:
			switch n := m.vars[v.Name.Value].(type) {
			case float64:
				if n > 0 {
					return int(n)
				}
			case int:
				if n > 0 {
					return n
				}
			}
		}
		return m.defaultPage
	}
	if isConnection(f) {
		return m.defaultPage
	}
	return 0
}

// isConnection guesses that a field selecting edges or nodes is a
// connection paged with the default size.
func isConnection(f *ast.Field) bool {
	if f.SelectionSet == nil {
		return false
	}
	for _, s := range f.SelectionSet.Selections {
		if sf, ok := s.(*ast.Field); ok && (sf.Name.Value == "edges" || sf.Name.Value == "nodes") {
			return true
		}
	}
	return false
}
