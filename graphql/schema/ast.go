package schema

import "github.com/graphql-go/graphql/language/ast"

type astField = ast.Field
