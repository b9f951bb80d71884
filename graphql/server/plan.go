package server

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// A plan executes one operation of a cached, validated document without
// graphql-go's executor: the fields are collected, merged and their static
// arguments computed once, when the plan is compiled; a request then calls
// the schema's own resolvers, completes their values with the same rules as
// graphql-go v0.8.1 (executor.go: completeValue, completeListValue,
// completeLeafValue, isNullish) and writes the JSON of "data" directly, in
// the key order of the response encoder.
//
// A plan covers only the happy path. Whatever it does not cover falls back
// to graphql-go, which then answers exactly as it always did:
//   - at compile time: introspection (__schema, __type, __typename),
//     directives, abstract types, input objects, list variables,
//     operations other than queries, a top-level minPosition argument;
//   - at run time: any resolver error or panic, a null for a non-null field,
//     a value that is not a list for a list field, a thunk result, a
//     variable graphql-go would refuse, a request whose context ended.
//
// Errors, nulls from refusals, authorization failures and their
// extensions.code are therefore always graphql-go's own.
type plan struct {
	op    *ast.OperationDefinition
	frags map[string]ast.Definition
	root  *planSet
	vars  []planVar
	nDyn  int // fields whose arguments name variables
	// size is the length of the longest answer so far: the next one's
	// buffer is allocated at that size, so that it rarely grows.
	size atomic.Int64
}

// planSet is a selection set on one object type, fields sorted by
// response key as the encoder writes them.
type planSet struct {
	obj    *graphql.Object
	fields []*planField
}

type planField struct {
	key     []byte // `"key":`
	name    string
	def     *graphql.FieldDefinition
	resolve graphql.FieldResolveFn
	asts    []*ast.Field
	args    map[string]any // static arguments (dyn < 0)
	dyn     int            // index of the per-request arguments, -1 when static
	sub     *planSet       // selection of the named object type, if any
}

type planVar struct {
	name    string
	leaf    *graphql.Scalar
	nonNull bool
	def     ast.Value
}

// errDecline: this document or request is left to graphql-go.
var errDecline = errors.New("plan: left to graphql-go")

// planCache keeps the plan (or its absence) per operation name of one
// cached document.
type planCache struct {
	mu sync.Mutex
	m  map[string]*plan // nil value: declined
}

func (c *planCache) get(schema *graphql.Schema, doc *ast.Document, op string) *plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[op]; ok {
		return p
	}
	if c.m == nil {
		c.m = map[string]*plan{}
	}
	p, err := compilePlan(schema, doc, op)
	if err != nil {
		p = nil
	}
	c.m[op] = p
	return p
}

// compilePlan builds the plan of operation op (or the only one) of doc.
func compilePlan(schema *graphql.Schema, doc *ast.Document, opName string) (*plan, error) {
	p := &plan{frags: map[string]ast.Definition{}}
	for _, d := range doc.Definitions {
		switch d := d.(type) {
		case *ast.OperationDefinition:
			if opName == "" && p.op != nil {
				return nil, errDecline
			}
			if opName == "" || (d.Name != nil && d.Name.Value == opName) {
				p.op = d
			}
		case *ast.FragmentDefinition:
			key := ""
			if d.Name != nil {
				key = d.Name.Value
			}
			p.frags[key] = d
		default:
			return nil, errDecline
		}
	}
	if p.op == nil || p.op.Operation != ast.OperationTypeQuery || schema.QueryType() == nil {
		return nil, errDecline
	}
	for _, vd := range p.op.VariableDefinitions {
		if vd == nil || vd.Variable == nil || vd.Variable.Name == nil {
			continue
		}
		v := planVar{name: vd.Variable.Name.Value, def: vd.DefaultValue}
		t := vd.Type
		if nn, ok := t.(*ast.NonNull); ok {
			v.nonNull, t = true, nn.Type
		}
		named, ok := t.(*ast.Named)
		if !ok || named.Name == nil {
			return nil, errDecline
		}
		if v.leaf, ok = schema.Type(named.Name.Value).(*graphql.Scalar); !ok {
			return nil, errDecline
		}
		p.vars = append(p.vars, v)
	}
	c := compiler{schema: schema, p: p}
	var err error
	p.root, err = c.set(schema.QueryType(), []*ast.SelectionSet{p.op.SelectionSet}, true)
	if err != nil {
		return nil, err
	}
	return p, nil
}

type compiler struct {
	schema *graphql.Schema
	p      *plan
}

// collect merges the fields of sets by response key (graphql-go's
// collectFields, with one visited-fragments set as completeObjectValue has).
func (c *compiler) collect(obj *graphql.Object, sets []*ast.SelectionSet) (map[string][]*ast.Field, error) {
	fields := map[string][]*ast.Field{}
	visited := map[string]bool{}
	var walk func(ss *ast.SelectionSet) error
	// fragment walks ss when a fragment's type condition matches obj.
	fragment := func(cond *ast.Named, ss *ast.SelectionSet) error {
		if ok, err := c.matches(cond, obj); err != nil || !ok {
			return err
		}
		return walk(ss)
	}
	walk = func(ss *ast.SelectionSet) error {
		if ss == nil {
			return nil
		}
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				if len(s.Directives) > 0 {
					return errDecline
				}
				key := ""
				if s.Alias != nil && s.Alias.Value != "" {
					key = s.Alias.Value
				} else if s.Name != nil {
					key = s.Name.Value
				}
				fields[key] = append(fields[key], s)
			case *ast.InlineFragment:
				if len(s.Directives) > 0 {
					return errDecline
				}
				if err := fragment(s.TypeCondition, s.SelectionSet); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if len(s.Directives) > 0 {
					return errDecline
				}
				name := ""
				if s.Name != nil {
					name = s.Name.Value
				}
				if visited[name] {
					continue
				}
				visited[name] = true
				fd, ok := c.p.frags[name].(*ast.FragmentDefinition)
				if !ok {
					continue
				}
				if len(fd.Directives) > 0 {
					return errDecline
				}
				if err := fragment(fd.TypeCondition, fd.SelectionSet); err != nil {
					return err
				}
			default:
				return errDecline
			}
		}
		return nil
	}
	for _, ss := range sets {
		if err := walk(ss); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// matches is doesFragmentConditionMatch for an object runtime type; an
// abstract condition is declined.
func (c *compiler) matches(cond *ast.Named, obj *graphql.Object) (bool, error) {
	if cond == nil {
		return true, nil
	}
	if cond.Name == nil {
		return false, errDecline
	}
	t := c.schema.Type(cond.Name.Value)
	switch t := t.(type) {
	case *graphql.Object:
		return t == obj || t.Name() == obj.Name(), nil
	case nil:
		return false, nil
	}
	return false, errDecline
}

func (c *compiler) set(obj *graphql.Object, sets []*ast.SelectionSet, root bool) (*planSet, error) {
	fields, err := c.collect(obj, sets)
	if err != nil {
		return nil, err
	}
	ps := &planSet{obj: obj}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the order appendJSON writes a map in
	for _, key := range keys {
		asts := fields[key]
		name := ""
		if asts[0].Name != nil {
			name = asts[0].Name.Value
		}
		if strings.HasPrefix(name, "__") {
			return nil, errDecline
		}
		def := obj.Fields()[name]
		if def == nil {
			continue // graphql-go leaves unknown fields out
		}
		f := &planField{key: appendString(nil, key), name: name, def: def, resolve: def.Resolve, asts: asts, dyn: -1}
		f.key = append(f.key, ':')
		if f.resolve == nil {
			f.resolve = graphql.DefaultResolveFn
		}
		for _, a := range def.Args {
			if hasInputObject(a.Type) {
				return nil, errDecline
			}
		}
		usesVars := false
		for _, a := range asts[0].Arguments {
			if root && a.Name != nil && a.Name.Value == "minPosition" {
				return nil, errDecline // a wait that fails would be waited twice
			}
			if hasVariable(a.Value) {
				usesVars = true
			}
		}
		if usesVars {
			f.dyn = c.p.nDyn
			c.p.nDyn++
		} else {
			f.args = argumentValues(def.Args, asts[0].Arguments, nil)
		}
		named := graphql.GetNamed(def.Type)
		switch t := named.(type) {
		case *graphql.Object:
			subs := make([]*ast.SelectionSet, 0, len(asts))
			for _, a := range asts {
				if a != nil && a.SelectionSet != nil {
					subs = append(subs, a.SelectionSet)
				}
			}
			if f.sub, err = c.set(t, subs, false); err != nil {
				return nil, err
			}
		case *graphql.Scalar, *graphql.Enum:
		default:
			return nil, errDecline
		}
		ps.fields = append(ps.fields, f)
	}
	return ps, nil
}

func hasInputObject(t graphql.Input) bool {
	_, ok := graphql.GetNamed(t).(*graphql.InputObject)
	return ok
}

func hasVariable(v ast.Value) bool {
	switch v := v.(type) {
	case *ast.Variable:
		return true
	case *ast.ListValue:
		return slices.ContainsFunc(v.Values, hasVariable)
	case *ast.ObjectValue:
		for _, f := range v.Fields {
			if f != nil && hasVariable(f.Value) {
				return true
			}
		}
	}
	return false
}

// argumentValues is graphql-go's getArgumentValues without input objects.
func argumentValues(defs []*graphql.Argument, asts []*ast.Argument, vars map[string]any) map[string]any {
	out := map[string]any{}
	for _, d := range defs {
		var value ast.Value
		for _, a := range asts {
			if a.Name != nil && a.Name.Value == d.PrivateName {
				value = a.Value
			}
		}
		tmp := valueFromAST(value, d.Type, vars)
		if isNullish(tmp) {
			tmp = d.DefaultValue
		}
		if !isNullish(tmp) {
			out[d.PrivateName] = tmp
		}
	}
	return out
}

// valueFromAST is graphql-go's valueFromAST without input objects.
func valueFromAST(v ast.Value, t graphql.Input, vars map[string]any) any {
	if v == nil {
		return nil
	}
	if vr, ok := v.(*ast.Variable); ok {
		if vr.Name == nil || vars == nil {
			return nil
		}
		return vars[vr.Name.Value]
	}
	switch t := t.(type) {
	case *graphql.NonNull:
		return valueFromAST(v, t.OfType, vars)
	case *graphql.List:
		values := []any{}
		if lv, ok := v.(*ast.ListValue); ok {
			for _, item := range lv.Values {
				values = append(values, valueFromAST(item, t.OfType, vars))
			}
			return values
		}
		return append(values, valueFromAST(v, t.OfType, vars))
	case *graphql.Scalar:
		return t.ParseLiteral(v)
	case *graphql.Enum:
		return t.ParseLiteral(v)
	}
	return nil
}

// isNullish is graphql-go's: nil, a nil pointer, NaN.
func isNullish(src any) bool {
	switch x := src.(type) {
	case nil:
		return true
	case string, bool, int, *string:
		return x == (*string)(nil)
	case float64:
		return math.IsNaN(x)
	}
	v := reflect.ValueOf(src)
	if v.Kind() == reflect.Ptr {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(v.Float())
	}
	return false
}

// variables coerces the request's variables as graphql-go would, or
// declines when graphql-go would refuse them.
func (p *plan) variables(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(p.vars))
	for _, v := range p.vars {
		input := in[v.name]
		if isNullish(input) {
			if v.nonNull {
				return nil, errDecline
			}
			if v.def != nil {
				out[v.name] = valueFromAST(v.def, v.leaf, nil)
			} else {
				out[v.name] = nil
			}
			continue
		}
		parsed := v.leaf.ParseValue(input)
		if isNullish(parsed) {
			return nil, errDecline
		}
		out[v.name] = parsed
	}
	return out, nil
}

// answerBufs recycles answer buffers: once serveGraphQL has written a
// planned answer, its buffer serves a later one (4 KB fewer allocated per
// pathway query). Buffers above maxPooledAnswer are left to the collector.
var answerBufs sync.Pool

const maxPooledAnswer = 64 << 10

// answerBuf returns an empty buffer of at least size bytes' capacity.
func answerBuf(size int) []byte {
	if b, ok := answerBufs.Get().(*[]byte); ok {
		if cap(*b) >= size {
			return (*b)[:0]
		}
	}
	return make([]byte, 0, size)
}

// releaseAnswer hands b back for reuse; nothing may read b afterwards.
func releaseAnswer(b []byte) {
	if c := cap(b); c > 0 && c <= maxPooledAnswer {
		answerBufs.Put(&b)
	}
}

// run executes the plan and returns the whole answer, {"data":…}, with
// room for one more byte, or errDecline.
func (p *plan) run(ctx context.Context, schema *graphql.Schema, in map[string]any) (body []byte, err error) {
	vars, err := p.variables(in)
	if err != nil {
		return nil, err
	}
	r := runner{ctx: ctx, schema: schema, p: p, vars: vars, buf: answerBuf(int(max(1024, p.size.Load()+64)))}
	r.buf = append(r.buf, `{"data":`...)
	if p.nDyn > 0 {
		r.dyn = make([]map[string]any, p.nDyn)
	}
	defer func() {
		if recover() != nil {
			body, err = nil, errDecline
		}
	}()
	if err := r.set(p.root, map[string]any{}); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, errDecline
	}
	r.buf = append(r.buf, '}')
	if n := int64(len(r.buf)); n > p.size.Load() {
		p.size.Store(n) // racing stores may keep a smaller one: a hint only
	}
	return r.buf, nil
}

type runner struct {
	ctx    context.Context
	schema *graphql.Schema
	p      *plan
	vars   map[string]any
	dyn    []map[string]any
	buf    []byte
}

func (r *runner) set(ps *planSet, src any) error {
	if r.ctx.Err() != nil {
		// The request's time is up: stop between objects (graphql-go
		// answers at the deadline without waiting for its resolvers).
		return errDecline
	}
	r.buf = append(r.buf, '{')
	for i, f := range ps.fields {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.buf = append(r.buf, f.key...)
		args := f.args
		if f.dyn >= 0 {
			if args = r.dyn[f.dyn]; args == nil {
				args = argumentValues(f.def.Args, f.asts[0].Arguments, r.vars)
				r.dyn[f.dyn] = args
			}
		}
		info := graphql.ResolveInfo{
			FieldName: f.name, FieldASTs: f.asts, ReturnType: f.def.Type, ParentType: ps.obj,
			Schema: *r.schema, Fragments: r.p.frags, Operation: r.p.op, VariableValues: r.vars,
		}
		v, err := f.resolve(graphql.ResolveParams{Source: src, Args: args, Info: info, Context: r.ctx})
		if err != nil {
			return errDecline
		}
		if _, err := r.complete(f.def.Type, f, &info, v); err != nil {
			return err
		}
	}
	r.buf = append(r.buf, '}')
	return nil
}

// complete writes v as type t; null reports that it wrote null.
func (r *runner) complete(t graphql.Type, f *planField, info *graphql.ResolveInfo, v any) (null bool, err error) {
	if v != nil {
		switch v.(type) {
		case string, *string, bool, int, float64:
		default:
			if reflect.TypeOf(v).Kind() == reflect.Func {
				return false, errDecline // a thunk: graphql-go's business
			}
		}
	}
	if nn, ok := t.(*graphql.NonNull); ok {
		null, err := r.complete(nn.OfType, f, info, v)
		if err == nil && null {
			return false, errDecline // graphql-go reports it
		}
		return false, err
	}
	if isNullish(v) {
		r.buf = append(r.buf, "null"...)
		return true, nil
	}
	switch t := t.(type) {
	case *graphql.List:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Ptr {
			rv = rv.Elem()
		}
		if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
			return false, errDecline
		}
		r.buf = append(r.buf, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				r.buf = append(r.buf, ',')
			}
			if _, err := r.complete(t.OfType, f, info, rv.Index(i).Interface()); err != nil {
				return false, err
			}
		}
		r.buf = append(r.buf, ']')
		return false, nil
	case *graphql.Scalar:
		// What graphql-go's own String, ID, Boolean and Int serialise
		// these values to, written without boxing the result.
		switch t {
		case graphql.String, graphql.ID:
			switch x := v.(type) {
			case *string:
				r.buf = appendString(r.buf, *x)
				return false, nil
			case string:
				r.buf = appendString(r.buf, x)
				return false, nil
			}
		case graphql.Boolean:
			if x, ok := v.(bool); ok {
				r.buf = strconv.AppendBool(r.buf, x)
				return false, nil
			}
		case graphql.Int:
			if x, ok := v.(int); ok && x >= math.MinInt32 && x <= math.MaxInt32 {
				r.buf = strconv.AppendInt(r.buf, int64(x), 10)
				return false, nil
			}
		}
		return r.leaf(t.Serialize(v))
	case *graphql.Enum:
		return r.leaf(t.Serialize(v))
	case *graphql.Object:
		if t.IsTypeOf != nil && !t.IsTypeOf(graphql.IsTypeOfParams{Value: v, Info: *info, Context: r.ctx}) {
			return false, errDecline
		}
		return false, r.set(f.sub, v)
	}
	return false, errDecline
}

func (r *runner) leaf(s any) (bool, error) {
	if isNullish(s) {
		r.buf = append(r.buf, "null"...)
		return true, nil
	}
	var err error
	r.buf, err = appendJSON(r.buf, s)
	if err != nil {
		return false, errDecline
	}
	return false, nil
}
