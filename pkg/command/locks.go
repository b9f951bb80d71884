package command

import "sync"

// Locks is a set of mutexes by key (a stream, a national ID hash). The
// zero value is ready; entries exist only while held or awaited.
//
// A Handler serializes its commands per stream with one: two commands of
// one handler on one stream never race each other for the expected
// revision (the second decides on the first's result, usually from the
// cache); only other writers can still cause a conflict and a retry —
// replicas, and other handlers on the stream, in the same process too (the
// all-in-one runs a handler per service, and five services write a
// craftsman's stream).
type Locks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu      sync.Mutex
	waiters int
}

// Lock takes key's lock and returns its release.
func (l *Locks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*keyLock)
	}
	e := l.m[key]
	if e == nil {
		e = &keyLock{}
		l.m[key] = e
	}
	e.waiters++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.waiters--; e.waiters == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}
