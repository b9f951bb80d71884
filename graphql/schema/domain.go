package schema

import "github.com/graphql-go/graphql"

func (b *builder) domainFields(f graphql.Fields) {}
