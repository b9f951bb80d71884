package server

import "context"

// keepElig builds the eligibility entries once the projection has caught
// up, and writes them beside the snapshot the model was loaded from
// (schema.EligEntries.Keep); a failure is logged: the entries are an
// optimisation, queries answer without them. The function it returns
// stops the build and waits for it (Run returns only after).
func (s *Server) keepElig(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ready := func() bool { return s.proj.Status().EverCaughtUp }
		if err := s.elig.Keep(ctx, ready, s.snaps.WriteSidecars); err != nil && ctx.Err() == nil {
			s.log.Warn("eligibility entries", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
