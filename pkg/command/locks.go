package command

import "sync"

// locks serializes a handler's commands per stream: within one process two
// commands on one stream never race each other for the expected revision
// (the second decides on the first's result, usually from the cache);
// only writers in other processes can still cause a conflict and a retry.
type locks struct {
	mu sync.Mutex
	m  map[string]*streamLock
}

type streamLock struct {
	mu      sync.Mutex
	waiters int
}

// lock takes stream's lock and returns its release.
func (l *locks) lock(stream string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*streamLock)
	}
	e := l.m[stream]
	if e == nil {
		e = &streamLock{}
		l.m[stream] = e
	}
	e.waiters++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.waiters--; e.waiters == 0 {
			delete(l.m, stream)
		}
		l.mu.Unlock()
	}
}
