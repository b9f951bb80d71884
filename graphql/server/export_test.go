package server

// SetPlanCheck makes s hand every answer of a compiled plan, and
// graphql-go's answer to the same request, to check (tests only).
func SetPlanCheck(s *Server, check func(query string, planned, reference []byte)) {
	s.planCheck = check
}

// Planned is the number of requests a compiled plan answered.
func Planned(s *Server) uint64 { return s.planned.Load() }

// DisablePlans makes s answer every request through graphql-go's executor.
func DisablePlans(s *Server) { s.noPlans = true }

// DocHits, RefusalHits and Validated are the requests answered with a
// cached document, the requests refused from the refusal cache, and the
// documents graphql-go validated.
func DocHits(s *Server) uint64     { return s.docHits.Load() }
func RefusalHits(s *Server) uint64 { return s.refusedHits.Load() }
func Validated(s *Server) uint64   { return s.validated.Load() }
