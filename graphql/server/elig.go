package server

import (
	"context"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/pkg/auth"
)

// keepElig builds the eligibility entries once the projection has caught
// up, and writes them beside the snapshot the model was loaded from
// (schema.EligEntries.Keep); a failure is logged: the entries are an
// optimisation, queries answer without them. Before the build it warms
// the population rows (warmRows). The function it returns stops the
// build and waits for it (Run returns only after).
func (s *Server) keepElig(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.eligOnce.Do(func() { close(s.eligRan) })
		ready := func() bool { return s.proj.Status().EverCaughtUp }
		save := func() error { return s.snaps.WriteSidecars(s.elig.SidecarName()) }
		if err := s.elig.Keep(ctx, ready, func() { s.warmRows(ctx) }, save); err != nil && ctx.Err() == nil {
			s.log.Warn("eligibility entries", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// warmRows runs the population scan over everyone that the first
// population query after a restart would otherwise run itself: it builds
// the compact row of every craftsman loaded (100-200 ms of CPU at 1 M),
// so that the first HR query, eligibleFor included, only reads them.
func (s *Server) warmRows(ctx context.Context) {
	ctx = auth.WithClaims(ctx, auth.Claims{Subject: "graphql-warm-up", Role: auth.RoleAuditor})
	if r := graphql.Do(graphql.Params{Schema: s.schema, RequestString: `{ populationStats { total } }`, Context: ctx}); len(r.Errors) > 0 {
		s.log.Warn("warming the population rows", "err", r.Errors[0])
	}
}
