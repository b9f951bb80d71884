package graphql

import _ "github.com/graphql-go/graphql"
