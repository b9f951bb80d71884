package server

import "sync/atomic"

type atomicCounter = atomic.Uint64
