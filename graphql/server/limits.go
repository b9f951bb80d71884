package server

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// shape is what the guard rails measure in a validated document.
type shape struct {
	depth      int
	complexity int
	// over: the complexity passed the limit measure was given and counting
	// stopped there (complexity is then only a lower bound, depth unknown).
	over bool
}

// maxPage bounds the page size a "first" counts with, so that a huge
// literal cannot overflow the product (such a page is refused anyway).
const maxPage = 1 << 20

// measure computes the depth and complexity of the operation named op
// (or the first one) of doc. Introspection subtrees (__schema, __type)
// count for complexity but not for depth: their nesting is bounded by the
// schema. Complexity counts every field once, multiplied by the page size
// of each enclosing field that pages: a field that takes "first" (a
// literal, a variable as given or else its default; defaultPage when none
// of them is there) or whose type is a connection. Fields selected through
// fragments count as if written inline.
//
// Each fragment is measured once (once more if it is also spread inside
// introspection) and its depth and cost reused at every spread, so the
// work is linear in the document even when fragments spread each other
// many times over. Counting stops as soon as the complexity passes limit
// (≤ 0: no limit); the shape is then marked over.
func measure(sc *graphql.Schema, doc *ast.Document, op string, vars map[string]any, defaultPage, limit int) shape {
	var operation *ast.OperationDefinition
	for _, d := range doc.Definitions {
		if d, ok := d.(*ast.OperationDefinition); ok {
			if operation == nil || (op != "" && d.Name != nil && d.Name.Value == op) {
				operation = d
			}
		}
	}
	if operation == nil {
		return shape{}
	}
	m := newMeasurer(sc, doc, vars, defaultPage, limit)
	m.defaults = variableDefaults(operation)
	d, c := m.set(operation.SelectionSet, rootType(sc, operation), 0, false)
	return shape{depth: d, complexity: c, over: m.over}
}

// docDepth is the depth (as measure counts it) of the deepest operation of
// doc; the operations share the fragments' measures.
func docDepth(sc *graphql.Schema, doc *ast.Document) int {
	m := newMeasurer(sc, doc, nil, 1, 0)
	depth := 0
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok {
			d, _ := m.set(op.SelectionSet, rootType(sc, op), 0, false)
			depth = max(depth, d)
		}
	}
	return depth
}

func newMeasurer(sc *graphql.Schema, doc *ast.Document, vars map[string]any, defaultPage, limit int) *measurer {
	if limit <= 0 {
		limit = math.MaxInt
	}
	m := &measurer{schema: sc, vars: vars, defaultPage: defaultPage, limit: limit}
	for _, d := range doc.Definitions {
		if f, ok := d.(*ast.FragmentDefinition); ok && f.Name != nil {
			if m.frags == nil {
				m.frags = map[string]*ast.FragmentDefinition{}
				m.memo = map[fragKey]fragShape{}
				m.active = map[string]bool{}
			}
			m.frags[f.Name.Value] = f
		}
	}
	return m
}

// variableDefaults are the default values of op's variables by name.
func variableDefaults(op *ast.OperationDefinition) map[string]ast.Value {
	var defaults map[string]ast.Value
	for _, vd := range op.VariableDefinitions {
		if vd != nil && vd.Variable != nil && vd.Variable.Name != nil && vd.DefaultValue != nil {
			if defaults == nil {
				defaults = map[string]ast.Value{}
			}
			defaults[vd.Variable.Name.Value] = vd.DefaultValue
		}
	}
	return defaults
}

// rootType is the schema type op selects from (nil if the schema has none).
func rootType(sc *graphql.Schema, op *ast.OperationDefinition) graphql.Type {
	if sc == nil {
		return nil
	}
	var t *graphql.Object
	switch op.Operation {
	case ast.OperationTypeQuery:
		t = sc.QueryType()
	case ast.OperationTypeMutation:
		t = sc.MutationType()
	case ast.OperationTypeSubscription:
		t = sc.SubscriptionType()
	}
	if t == nil {
		return nil // not a typed nil in the interface
	}
	return t
}

type measurer struct {
	schema      *graphql.Schema                    // nil: pages are recognised by syntax alone
	frags       map[string]*ast.FragmentDefinition // nil: the document has none (nor memo, active)
	vars        map[string]any
	defaults    map[string]ast.Value // the operation's variable defaults
	defaultPage int
	limit       int  // complexity past which counting stops
	over        bool // the limit was passed
	memo        map[fragKey]fragShape
	active      map[string]bool // fragments being measured (cycle guard)
}

// fragKey is a fragment measured in or out of introspection (depth counts
// differently there).
type fragKey struct {
	name          string
	introspection bool
}

// fragShape is a fragment's depth below its spread and its cost.
type fragShape struct{ depth, cost int }

// set measures ss selected from a value of type parent (nil: unknown) at
// depth.
func (m *measurer) set(ss *ast.SelectionSet, parent graphql.Type, depth int, introspection bool) (maxDepth, cost int) {
	if ss == nil {
		return depth, 0
	}
	maxDepth = depth
	for _, sel := range ss.Selections {
		var d, c int
		switch s := sel.(type) {
		case *ast.Field:
			d, c = m.field(s, parent, depth, introspection)
		case *ast.InlineFragment:
			t := parent
			if s.TypeCondition != nil {
				t = m.typeNamed(s.TypeCondition)
			}
			d, c = m.set(s.SelectionSet, t, depth, introspection)
		case *ast.FragmentSpread:
			if s.Name == nil {
				continue
			}
			f := m.fragment(s.Name.Value, introspection)
			d, c = depth+f.depth, f.cost
		}
		maxDepth = max(maxDepth, d)
		cost = m.add(cost, c)
		if m.over {
			return maxDepth, cost
		}
	}
	return maxDepth, cost
}

// fragment measures the fragment name once per introspection flag.
func (m *measurer) fragment(name string, introspection bool) fragShape {
	key := fragKey{name, introspection}
	if f, ok := m.memo[key]; ok {
		return f
	}
	def, ok := m.frags[name]
	if !ok || m.active[name] {
		return fragShape{} // unknown or a cycle: validation refuses both
	}
	m.active[name] = true
	d, c := m.set(def.SelectionSet, m.typeNamed(def.TypeCondition), 0, introspection)
	delete(m.active, name)
	f := fragShape{depth: d, cost: c}
	m.memo[key] = f
	return f
}

func (m *measurer) field(f *ast.Field, parent graphql.Type, depth int, introspection bool) (int, int) {
	name := ""
	if f.Name != nil {
		name = f.Name.Value
	}
	if strings.HasPrefix(name, "__") && name != "__typename" {
		introspection = true
	}
	next := depth
	if !introspection {
		next = depth + 1
	}
	def := m.fieldDef(parent, name)
	var sub graphql.Type
	if def != nil {
		sub = namedType(def.Type)
	}
	d, c := m.set(f.SelectionSet, sub, next, introspection)
	if m.over {
		return d, c
	}
	if f.SelectionSet != nil {
		if n := m.pageOf(f, def); n > 0 {
			c = m.mul(c, n)
		}
	}
	return d, m.add(1, c)
}

// add and mul saturate at math.MaxInt and note when the limit is passed.
func (m *measurer) add(a, b int) int {
	s := math.MaxInt
	if a <= math.MaxInt-b {
		s = a + b
	}
	if s > m.limit {
		m.over = true
	}
	return s
}

func (m *measurer) mul(a, n int) int {
	p := math.MaxInt
	if a == 0 || n <= math.MaxInt/a {
		p = a * n
	}
	if p > m.limit {
		m.over = true
	}
	return p
}

// typeNamed is the schema type of a type condition (nil: unknown).
func (m *measurer) typeNamed(n *ast.Named) graphql.Type {
	if m.schema == nil || n == nil || n.Name == nil {
		return nil
	}
	return m.schema.Type(n.Name.Value)
}

// fieldDef is the definition of field name on parent (nil: unknown).
func (m *measurer) fieldDef(parent graphql.Type, name string) *graphql.FieldDefinition {
	switch name {
	case "__schema":
		return graphql.SchemaMetaFieldDef
	case "__type":
		return graphql.TypeMetaFieldDef
	case "__typename":
		return graphql.TypeNameMetaFieldDef
	}
	switch t := parent.(type) {
	case *graphql.Object:
		if t != nil {
			return t.Fields()[name]
		}
	case *graphql.Interface:
		if t != nil {
			return t.Fields()[name]
		}
	}
	return nil
}

// pageOf is the page size f's selections are multiplied by (0: f does
// not page). With its definition known, f pages when it takes "first" or
// returns a connection; unknown, when it is given "first" or selects edges
// or nodes.
func (m *measurer) pageOf(f *ast.Field, def *graphql.FieldDefinition) int {
	for _, a := range f.Arguments {
		if a.Name == nil || a.Name.Value != "first" {
			continue
		}
		if n, ok := m.intValue(a.Value); ok && n > 0 {
			return min(n, maxPage)
		}
		return m.defaultPage
	}
	if def != nil {
		if takesFirst(def) || isConnectionType(namedType(def.Type)) {
			return m.defaultPage
		}
		return 0
	}
	if isConnection(f) {
		return m.defaultPage
	}
	return 0
}

// namedType is t without its list and non-null wrappers.
func namedType(t graphql.Type) graphql.Type {
	for {
		switch w := t.(type) {
		case *graphql.List:
			t = w.OfType
		case *graphql.NonNull:
			t = w.OfType
		default:
			return t
		}
	}
}

// isConnectionType: the schema names its connection types "<X>Connection"
// (schema.connection).
func isConnectionType(t graphql.Type) bool {
	o, ok := t.(*graphql.Object)
	return ok && o != nil && strings.HasSuffix(o.Name(), "Connection")
}

func takesFirst(def *graphql.FieldDefinition) bool {
	for _, a := range def.Args {
		if a != nil && a.Name() == "first" {
			return true
		}
	}
	return false
}

// intValue is the integer v stands for: a literal, or a variable's value
// as given or else its default (false: none, null, or not an integer).
func (m *measurer) intValue(v ast.Value) (int, bool) {
	switch v := v.(type) {
	case *ast.IntValue:
		n, err := strconv.Atoi(v.Value)
		if err != nil {
			if strings.HasPrefix(v.Value, "-") {
				return 0, false
			}
			return maxPage, true // too long for an int: huge
		}
		return n, true
	case *ast.Variable:
		if v.Name == nil {
			return 0, false
		}
		if given, ok := m.vars[v.Name.Value]; ok {
			return number(given) // an explicit null overrides the default
		}
		if def, ok := m.defaults[v.Name.Value]; ok {
			if _, isVar := def.(*ast.Variable); !isVar {
				return m.intValue(def)
			}
		}
	}
	return 0, false
}

// number is a variable's value (as decoded from JSON) as an int, capped
// at maxPage.
func number(v any) (int, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		return min(n, maxPage), true
	case int32:
		return min(int(n), maxPage), true
	case int64:
		return int(min(n, maxPage)), true
	case float32:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		i, err := n.Int64()
		if err == nil {
			return int(min(i, maxPage)), true
		}
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || f < 1 {
		return 0, false
	}
	return int(min(f, maxPage)), true
}

// isConnection guesses, for a field of unknown type, that one selecting
// edges or nodes is a connection paged with the default size.
func isConnection(f *ast.Field) bool {
	if f.SelectionSet == nil {
		return false
	}
	for _, s := range f.SelectionSet.Selections {
		if sf, ok := s.(*ast.Field); ok && sf.Name != nil && (sf.Name.Value == "edges" || sf.Name.Value == "nodes") {
			return true
		}
	}
	return false
}
