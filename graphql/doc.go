// Package graphql is craftledger's read side: projections of the event log and the GraphQL API over them.
package graphql
