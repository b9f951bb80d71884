package server

import (
	"context"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/schema"
)

// SidecarsOf is s's model as snapshots see it and its eligibility
// entries (tests and benchmarks only).
func SidecarsOf(s *Server) (*readmodel.Sidecars, *schema.EligEntries) { return s.snaps, s.elig }

// WarmRows runs what Run runs once the projection has caught up, before
// building the eligibility entries (benchmarks only).
func WarmRows(s *Server) { s.warmRows(context.Background()) }
