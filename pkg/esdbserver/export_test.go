package esdbserver

import "time"

// GroupCommitStats reports how many synced batches the store committed and
// how many writes they held (for the benchmarks' writes/fsync figure).
func GroupCommitStats(s *Server) (batches, writes int64) {
	return s.store.statBatches.Load(), s.store.statOps.Load()
}

// WithServerPingInterval returns cfg with the server's own keepalive pings
// every d of quiet instead of 10 s.
func WithServerPingInterval(cfg Config, d time.Duration) Config {
	cfg.pingEvery = d
	return cfg
}
