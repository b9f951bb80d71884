package server

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
	"github.com/graphql-go/graphql/language/visitor"

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

// fragmentsByName are doc's fragment definitions by name.
func fragmentsByName(doc *ast.Document) map[string]*ast.FragmentDefinition {
	frags := map[string]*ast.FragmentDefinition{}
	for _, d := range doc.Definitions {
		if f, ok := d.(*ast.FragmentDefinition); ok && f.Name != nil {
			frags[f.Name.Value] = f
		}
	}
	return frags
}

// checkTotalFields refuses a document one of whose operations selects more
// than limit fields, fragments expanded where they are spread (a fragment
// spread twice counts twice). Each operation is counted alone, with the
// fragments it reaches: a request runs one, so a document holding three
// copies of the web page's 351-field query, one selected by
// operationName, passes. Every operation is bounded, not only the one a
// request selects, because the document is validated whole, once, before
// any request selects from it (and cached by its text). checkFields
// bounds one selection set only: three fragments of 500 fields spread
// side by side are 1,500 fields, and graphql-go v0.8.1 locates each error
// it raises by scanning the whole query text
// (language/location.GetLocation), so 1,500 fields that all fail cost
// seconds of CPU. Each fragment is counted once and its count reused;
// counting stops once past the limit.
func checkTotalFields(doc *ast.Document, limit int) error {
	frags := fragmentsByName(doc)
	memo := map[string]int{}
	active := map[string]bool{} // cycles are refused later; count them 0 here
	var count func(ss *ast.SelectionSet) int
	count = func(ss *ast.SelectionSet) int {
		if ss == nil {
			return 0
		}
		n := 0
		for _, sel := range ss.Selections {
			switch s := sel.(type) {
			case *ast.Field:
				n += 1 + count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Name == nil {
					continue
				}
				name := s.Name.Value
				c, ok := memo[name]
				if !ok {
					if f := frags[name]; f != nil && !active[name] {
						active[name] = true
						c = count(f.SelectionSet)
						active[name] = false
						memo[name] = c
					}
				}
				n += c
			}
			if n > limit {
				return limit + 1 // saturate: no overflow, and the caller stops too
			}
		}
		return n
	}
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok && count(op.SelectionSet) > limit {
			in := ""
			if op.Name != nil {
				in = fmt.Sprintf(" in operation %s", op.Name.Value)
			}
			return errs.E(errs.InvalidArgument, "query selects more than %d fields in all%s (fragments counted where they are spread)", limit, in)
		}
	}
	// A fragment no operation spreads is invalid (GraphQL's
	// NoUnusedFragments), and graphql-go would validate it anyway, outside
	// the count above: refuse it here, uncounted.
	for name := range frags {
		if _, used := memo[name]; !used {
			return errs.E(errs.InvalidArgument, "fragment %q is not used by any operation", name)
		}
	}
	return nil
}

// maxReported is how many errors an answer lists at most; the rest are
// counted in the last one.
const maxReported = 100

// joinValidation is graphql-go's validation errors as one message. The
// rules stop at maxReported errors (cappedRules); the message says so then.
func joinValidation(errors []gqlerrors.FormattedError) string {
	n := min(len(errors), maxReported)
	msgs := make([]string, 0, n)
	for _, e := range errors[:n] {
		msgs = append(msgs, e.Message)
	}
	out := "invalid query: " + strings.Join(msgs, "; ")
	if len(errors) >= maxReported {
		out += fmt.Sprintf(" (validation stopped at %d errors)", maxReported)
	}
	return out
}

// lineStarts are the offsets at which the lines of text begin (after
// "\r\n", "\n" or "\r", as graphql-go counts lines).
func lineStarts(text string) []int {
	starts := []int{0}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		case '\n':
			starts = append(starts, i+1)
		}
	}
	return starts
}

// locate is the line and column (from 1) of offset pos, given the
// lineStarts of the text.
func locate(starts []int, pos int) location.SourceLocation {
	line := sort.Search(len(starts), func(i int) bool { return starts[i] > pos }) // ≥ 1: starts[0] is 0
	return location.SourceLocation{Line: line, Column: pos - starts[line-1] + 1}
}

// tidyErrors bounds the field errors of an answer, in place. Documents are
// parsed without their source attached to the nodes (ParseOptions.NoSource),
// so graphql-go's locations are offsets on line 1 that cost nothing to make;
// they are computed here again from the error's positions, once per answer,
// over one table of line starts. All UNAUTHENTICATED errors (an anonymous
// caller asking for fields that need a token) become one, which says how
// many fields it stands for, when the first of them is among the first
// maxReported errors. Past maxReported errors the rest are counted in a
// last one (every UNAUTHENTICATED error among them counted when none is
// listed), which carries their code only when they all share it.
func tidyErrors(query string, in []gqlerrors.FormattedError) []gqlerrors.FormattedError {
	// In document order: graphql-go reports field errors in the order the
	// fields finished, which varies from run to run, and the first error of
	// a kind is the one listed (with its location) for the rest.
	slices.SortStableFunc(in, func(a, b gqlerrors.FormattedError) int { return cmp.Compare(firstOffset(a), firstOffset(b)) })
	var starts []int
	out := in[:0]
	unauth, firstUnauth, dropped := 0, -1, 0
	var droppedCode any // the dropped errors' code while they all share it
	mixed := false
	for _, e := range in {
		var code any
		if e.Extensions != nil {
			code = e.Extensions["code"]
		}
		isUnauth := code == errs.Code(errs.Unauthenticated)
		if isUnauth {
			unauth++
			if firstUnauth >= 0 { // folded into the one listed
				continue
			}
		}
		if len(out) == maxReported {
			if dropped == 0 {
				droppedCode = code
			} else if code != droppedCode {
				mixed = true
			}
			dropped++
			continue
		}
		if isUnauth {
			firstUnauth = len(out)
		}
		if ge, ok := e.OriginalError().(*gqlerrors.Error); ok && len(ge.Positions) > 0 {
			if starts == nil {
				starts = lineStarts(query)
			}
			locs := make([]location.SourceLocation, 0, min(len(ge.Positions), maxReported))
			for _, p := range ge.Positions[:min(len(ge.Positions), maxReported)] {
				locs = append(locs, locate(starts, p))
			}
			e.Locations = locs
		}
		out = append(out, e)
	}
	if unauth > 1 && firstUnauth >= 0 {
		out[firstUnauth].Message += fmt.Sprintf(" (%d fields need a token)", unauth)
	}
	if dropped > 0 {
		summary := gqlerrors.FormattedError{Message: fmt.Sprintf("and %d more errors", dropped), Locations: []location.SourceLocation{}}
		if !mixed && droppedCode != nil {
			summary.Extensions = map[string]any{"code": droppedCode}
		}
		out = append(out, summary)
	}
	return out
}

// firstOffset is where in the query text e's first position lies (after
// every position when it has none).
func firstOffset(e gqlerrors.FormattedError) int {
	if ge, ok := e.OriginalError().(*gqlerrors.Error); ok && len(ge.Positions) > 0 {
		return ge.Positions[0]
	}
	return math.MaxInt
}

// cappedRules are graphql-go's validation rules, each made a no-op once
// the document has maxReported errors: the answer lists no more than that,
// and some rules cost much per error (FieldsOnCorrectType compares an
// unknown field's name with every field of its type to suggest one: 1,000
// unknown fields took 80 ms). A document with errors is refused whatever
// the rules skipped would have found.
var cappedRules = func() []graphql.ValidationRuleFn {
	out := make([]graphql.ValidationRuleFn, 0, len(graphql.SpecifiedRules))
	for _, rule := range graphql.SpecifiedRules {
		out = append(out, func(ctx *graphql.ValidationContext) *graphql.ValidationRuleInstance {
			inst := rule(ctx)
			if inst == nil || inst.VisitorOpts == nil {
				return inst
			}
			capped := func(f visitor.VisitFunc) visitor.VisitFunc {
				if f == nil {
					return nil
				}
				return func(p visitor.VisitFuncParams) (string, any) {
					if len(ctx.Errors()) >= maxReported {
						return visitor.ActionNoChange, nil
					}
					return f(p)
				}
			}
			o := inst.VisitorOpts
			c := &visitor.VisitorOptions{Enter: capped(o.Enter), Leave: capped(o.Leave)}
			if o.KindFuncMap != nil {
				c.KindFuncMap = make(map[string]visitor.NamedVisitFuncs, len(o.KindFuncMap))
				for k, v := range o.KindFuncMap {
					c.KindFuncMap[k] = visitor.NamedVisitFuncs{Kind: capped(v.Kind), Enter: capped(v.Enter), Leave: capped(v.Leave)}
				}
			}
			if o.EnterKindMap != nil {
				c.EnterKindMap = make(map[string]visitor.VisitFunc, len(o.EnterKindMap))
				for k, v := range o.EnterKindMap {
					c.EnterKindMap[k] = capped(v)
				}
			}
			if o.LeaveKindMap != nil {
				c.LeaveKindMap = make(map[string]visitor.VisitFunc, len(o.LeaveKindMap))
				for k, v := range o.LeaveKindMap {
					c.LeaveKindMap[k] = capped(v)
				}
			}
			return &graphql.ValidationRuleInstance{VisitorOpts: c}
		})
	}
	return out
}()

// checkSamePairs refuses a document in which graphql-go's validation would
// compare more than limit pairs of fields: OverlappingFieldsCanBeMerged
// compares pairwise the fields answered under one response name at one
// place (fields of that name in a selection set, in the fragments spread
// and inline fragments merged into it, and in the selection sets of
// same-named fields, merged too). A pair costs up to 7 µs (two fields
// whose arguments differ: a conflict, reported with a message), and the
// per-set field bound does not see fragments side by side: 512 copies of
// levels(x: n){rank} in four fragments took 0.9 s of CPU to refuse, 500
// copies of craftsman(id: "n"){id} 0.2 s to answer. Operations are
// walked; the pairs within a fragment count where it is spread (run after
// checkTotalFields, which refuses a fragment spread nowhere). Fragment
// cycles are skipped (refused later); a document that expands to more
// than maxVisits selections is refused as well.
func checkSamePairs(doc *ast.Document, limit int) error {
	const maxVisits = 1 << 16
	frags := fragmentsByName(doc)
	active := map[string]bool{}
	pairs, visits := 0, 0
	tooLarge := errs.E(errs.InvalidArgument, "query expands to more than %d selections", maxVisits)
	// collect appends the fields of ss, fragments expanded, by response name.
	var collect func(ss *ast.SelectionSet, byName map[string][]*ast.Field, order *[]string) error
	collect = func(ss *ast.SelectionSet, byName map[string][]*ast.Field, order *[]string) error {
		if ss == nil {
			return nil
		}
		for _, sel := range ss.Selections {
			if visits++; visits > maxVisits {
				return tooLarge
			}
			switch s := sel.(type) {
			case *ast.Field:
				name := ""
				if s.Alias != nil {
					name = s.Alias.Value
				} else if s.Name != nil {
					name = s.Name.Value
				}
				if _, ok := byName[name]; !ok {
					*order = append(*order, name)
				}
				byName[name] = append(byName[name], s)
			case *ast.InlineFragment:
				if err := collect(s.SelectionSet, byName, order); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if s.Name == nil {
					continue
				}
				if f := frags[s.Name.Value]; f != nil && !active[s.Name.Value] {
					active[s.Name.Value] = true
					err := collect(f.SelectionSet, byName, order)
					active[s.Name.Value] = false
					if err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	// merged counts the pairs among the selection sets answered at one place.
	var merged func(sets []*ast.SelectionSet) error
	merged = func(sets []*ast.SelectionSet) error {
		byName := map[string][]*ast.Field{}
		var order []string
		for _, ss := range sets {
			if err := collect(ss, byName, &order); err != nil {
				return err
			}
		}
		for _, name := range order {
			fields := byName[name]
			if pairs += len(fields) * (len(fields) - 1) / 2; pairs > limit {
				return errs.E(errs.InvalidArgument, "query selects %d fields named %q at one place of the answer: over the limit of %d pairs of same-named fields in a document", len(fields), name, limit)
			}
			var subs []*ast.SelectionSet
			for _, f := range fields {
				if f.SelectionSet != nil {
					subs = append(subs, f.SelectionSet)
				}
			}
			if len(subs) > 0 {
				if err := merged(subs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// Fragments are counted where they are spread (checkTotalFields, run
	// first, refused any fragment no operation spreads).
	for _, d := range doc.Definitions {
		if op, ok := d.(*ast.OperationDefinition); ok {
			if err := merged([]*ast.SelectionSet{op.SelectionSet}); err != nil {
				return err
			}
		}
	}
	return nil
}
