package server

import (
	"context"

	"github.com/craftledger/craftledger/graphql/schema"
)

// BuildIndexes builds the population indexes as Run does once caught up
// (without the warm-up and the side files).
func BuildIndexes(ctx context.Context, s *Server) error {
	_, err := schema.BuildIndexes(ctx, s.elig, s.asOf)
	return err
}
