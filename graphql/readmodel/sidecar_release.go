package readmodel

// ReleaseMapped lets the pages of the log's file-mapped chunks leave the
// process's resident set: they stay in the page cache, and a read faults
// them back in (as a snapshot load and write release what they read). For
// a reader that has just read every craftsman once (a build of derived
// data after a load would otherwise keep the whole mapped log resident:
// +7 GB of file-backed RSS at 1 M).
func (m *Memory) ReleaseMapped() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, c := range m.log.chunks {
		if m.log.mapped[i] {
			release(c)
		}
	}
}
