package esdbserver

// GroupCommitStats reports how many synced batches the store committed and
// how many writes they held (for the benchmarks' writes/fsync figure).
func GroupCommitStats(s *Server) (batches, writes int64) {
	return s.store.statBatches.Load(), s.store.statOps.Load()
}
