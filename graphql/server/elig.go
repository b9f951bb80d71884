package server

import (
	"context"
	"fmt"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/graphql/schema"
	"github.com/craftledger/craftledger/pkg/auth"
)

// keepElig builds the population indexes once the projection has caught
// up — the eligibility entries, and the as-of index unless it came with
// the snapshot — in one pass (schema.BuildIndexes), and writes the side
// file of each it built beside the snapshot the model was loaded from; a
// failure is logged: the entries are an optimisation, queries answer
// without them. Before the build it warms the population rows
// (warmRows). The function it returns stops the build and waits for it
// (Run returns only after).
func (s *Server) keepElig(ctx context.Context) (stop func()) {
	return background(ctx, func(ctx context.Context) {
		err := s.proj.WaitReady(ctx)
		if err == nil {
			s.warmRows(ctx)
			var built schema.IndexBuild
			built, err = schema.BuildIndexes(ctx, s.elig, s.asOf)
			if built.AsOfBuilt {
				s.asOfBuilt()
			}
			if err == nil && ctx.Err() == nil && built.EligEvaluated > 0 {
				err = s.writeSidecar(s.elig.SidecarName())
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("eligibility entries", "err", err)
			}
		}
		if err == nil && ctx.Err() != nil {
			err = fmt.Errorf("eligibility entries: stopped before they were built: %w", ctx.Err())
		}
		s.eligOnce.Do(func() {
			s.eligErr = err
			close(s.eligRan)
		})
	})
}

// followAsOf keeps the as-of index built once keepElig's build has ended
// (which builds it with the eligibility entries when due): again when
// queries find much of it outdated, or when that build did not
// (schema.AsOfIndex.Follow), writing its side file after each build. The
// function it returns stops it and waits for it (Run returns only after).
func (s *Server) followAsOf(ctx context.Context) (stop func()) {
	return background(ctx, func(ctx context.Context) {
		ready := func() bool {
			select {
			case <-s.eligRan:
				return s.proj.Status().EverCaughtUp
			default:
				return false
			}
		}
		s.asOf.Follow(ctx, ready, 200*time.Millisecond, s.asOfBuilt)
	})
}

// asOfBuilt writes the as-of index's side file after a build.
func (s *Server) asOfBuilt() {
	if err := s.writeSidecar(s.asOf.SidecarName()); err != nil {
		s.log.Warn("as-of index side file", "err", err)
	}
}

// background runs run in a goroutine under a context of its own; the
// function it returns ends that context and waits for run to return.
func background(ctx context.Context, run func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// writeSidecar rewrites the side file name beside the last snapshot —
// only for a server with a data directory: a snapshot loaded from
// elsewhere (LoadSnapshot) is not the server's to write beside.
func (s *Server) writeSidecar(name string) error {
	if s.cfg.DataDir == "" {
		return nil
	}
	return s.snaps.WriteSidecars(name)
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
