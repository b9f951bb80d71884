package esdbserver

import (
	"time"

	dto "github.com/prometheus/client_model/go"
)

// GroupCommitStats reports how many batches the store committed and how
// many writes they held.
func GroupCommitStats(s *Server) (batches, writes int64) {
	return s.store.statBatches.Load(), s.store.statOps.Load()
}

// WALSyncs reports how many WAL fsyncs pebble has done and their total
// duration (for the benchmarks' appends/fsync and fsync-µs figures).
func WALSyncs(s *Server) (n uint64, total time.Duration) {
	var m dto.Metric
	if err := s.store.db.Metrics().LogWriter.FsyncLatency.Write(&m); err != nil {
		return 0, 0
	}
	h := m.GetHistogram()
	return h.GetSampleCount(), time.Duration(h.GetSampleSum()) // pebble observes nanoseconds
}

// WithServerPingInterval returns cfg with the server's own keepalive pings
// every d of quiet instead of 10 s.
func WithServerPingInterval(cfg Config, d time.Duration) Config {
	cfg.pingEvery = d
	return cfg
}

// SetFilterMatchTimeout bounds filter regex matches by d until the
// returned function puts the bound back.
func SetFilterMatchTimeout(d time.Duration) (restore func()) {
	old := filterMatchTimeout
	filterMatchTimeout = d
	return func() { filterMatchTimeout = old }
}
