package server

import (
	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/graphql/schema"
)

// SidecarsOf is s's model as snapshots see it and its eligibility
// entries (tests and benchmarks only).
func SidecarsOf(s *Server) (*readmodel.Sidecars, *schema.EligEntries) { return s.snaps, s.elig }
