package esdbserver

// psubManager runs persistent subscription groups. Not built yet: the
// PersistentSubscriptions service is not registered, so calls answer
// Unimplemented and nothing is advertised.
type psubManager struct{}

func (m *psubManager) close() {}

func (s *Server) registerPersistent() error { return nil }
