package schema

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/pkg/errs"
)

// Relay-style connections (forward paging: first/after). Cursors are
// opaque strings; offsets for computed lists, $all positions for the audit
// log (stable while events are appended).

// Connection is what a connection field resolves to.
type Connection struct {
	Edges       []Edge
	HasNext     bool
	HasPrevious bool
	Total       int
}

// Edge is one node with its cursor.
type Edge struct {
	Cursor string
	Node   any
}

// pageArgs are the arguments of every connection field.
func pageArgs(extra graphql.FieldConfigArgument) graphql.FieldConfigArgument {
	args := graphql.FieldConfigArgument{
		"first": {Type: graphql.Int, Description: "Page size (default 20, at most the server's maximum page size)."},
		"after": {Type: graphql.String, Description: "Cursor of the last edge of the previous page."},
	}
	for k, v := range extra {
		args[k] = v
	}
	return args
}

// pageSize reads "first" within 1..max (default min(20, max)).
func pageSize(p graphql.ResolveParams, max int) (int, error) {
	n, ok, err := argInt(p, "first")
	if err != nil {
		return 0, err
	}
	if !ok {
		return min(20, max), nil
	}
	if n < 1 || n > max {
		return 0, errs.E(errs.InvalidArgument, "argument first must be between 1 and %d, got %d", max, n)
	}
	return n, nil
}

func offsetCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(i)))
}

// afterOffset decodes an offset cursor in "after" into the first index of
// the next page (0 without a cursor).
func afterOffset(p graphql.ResolveParams) (int, error) {
	s, ok, err := argString(p, "after")
	if err != nil || !ok {
		return 0, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	rest, found := strings.CutPrefix(string(raw), "o:")
	if err != nil || !found {
		return 0, errs.E(errs.InvalidArgument, "argument after: not a cursor of this list")
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 {
		return 0, errs.E(errs.InvalidArgument, "argument after: not a cursor of this list")
	}
	return i + 1, nil
}

// sliceConnection pages an in-memory list by offset.
func sliceConnection[T any](p graphql.ResolveParams, max int, items []T) (*Connection, error) {
	n, err := pageSize(p, max)
	if err != nil {
		return nil, err
	}
	start, err := afterOffset(p)
	if err != nil {
		return nil, err
	}
	c := &Connection{Total: len(items), HasPrevious: start > 0}
	for i := start; i < len(items) && len(c.Edges) < n; i++ {
		c.Edges = append(c.Edges, Edge{Cursor: offsetCursor(i), Node: items[i]})
	}
	c.HasNext = start+len(c.Edges) < len(items)
	return c, nil
}

type connectionTypes struct {
	pageInfo *graphql.Object
}

func newConnectionTypes() *connectionTypes {
	pi := graphql.NewObject(graphql.ObjectConfig{
		Name:        "PageInfo",
		Description: "Relay page information.",
		Fields: graphql.Fields{
			"hasNextPage":     fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c *Connection) any { return c.HasNext }),
			"hasPreviousPage": fieldOf(graphql.NewNonNull(graphql.Boolean), "", func(c *Connection) any { return c.HasPrevious }),
			"startCursor": fieldOf(graphql.String, "", func(c *Connection) any {
				if len(c.Edges) == 0 {
					return nil
				}
				return c.Edges[0].Cursor
			}),
			"endCursor": fieldOf(graphql.String, "", func(c *Connection) any {
				if len(c.Edges) == 0 {
					return nil
				}
				return c.Edges[len(c.Edges)-1].Cursor
			}),
		},
	})
	return &connectionTypes{pageInfo: pi}
}

// connection builds "<name>Connection" and "<name>Edge" around node.
func (ct *connectionTypes) connection(name string, node graphql.Output, extra graphql.Fields) *graphql.Object {
	edge := graphql.NewObject(graphql.ObjectConfig{
		Name: name + "Edge",
		Fields: graphql.Fields{
			"cursor": fieldOf(graphql.NewNonNull(graphql.String), "", func(e Edge) any { return e.Cursor }),
			"node":   fieldOf(graphql.NewNonNull(node), "", func(e Edge) any { return e.Node }),
		},
	})
	fields := graphql.Fields{
		"edges": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(edge))), "", func(c *Connection) any { return c.Edges }),
		"nodes": fieldOf(graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(node))), "The nodes of edges, for brevity.", func(c *Connection) any {
			out := make([]any, len(c.Edges))
			for i, e := range c.Edges {
				out[i] = e.Node
			}
			return out
		}),
		"pageInfo":   fieldOf(graphql.NewNonNull(ct.pageInfo), "", func(c *Connection) any { return c }),
		"totalCount": fieldOf(graphql.NewNonNull(graphql.Int), "Number of items in the whole list (all pages).", func(c *Connection) any { return c.Total }),
	}
	for k, v := range extra {
		fields[k] = v
	}
	return graphql.NewObject(graphql.ObjectConfig{Name: name + "Connection", Fields: fields})
}

// fieldOf is an explicit resolver reading one value from a source of type
// S; a source of another type is an internal error, never a silent null.
func fieldOf[S any](t graphql.Output, desc string, get func(S) any) *graphql.Field {
	if isStringish(t) {
		// graphql-go serialises a plain string through fmt.Sprintf("%v")
		// but a *string directly: hand it pointers.
		inner := get
		get = func(s S) any {
			v := inner(s)
			if str, ok := v.(string); ok {
				return &str
			}
			return v
		}
	}
	return &graphql.Field{
		Type:        t,
		Description: desc,
		Resolve: func(p graphql.ResolveParams) (any, error) {
			s, ok := p.Source.(S)
			if !ok {
				return nil, Wrap(errs.E(errs.Internal, "resolver %s: source is %T", p.Info.FieldName, p.Source))
			}
			return get(s), nil
		},
	}
}

// isStringish reports whether t is String or ID, nullable or not.
func isStringish(t graphql.Output) bool {
	if nn, ok := t.(*graphql.NonNull); ok {
		t = nn.OfType
	}
	return t == graphql.String || t == graphql.ID
}
