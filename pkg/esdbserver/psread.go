package esdbserver

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// readFailed handles a store read error of a persistent subscription group:
// it is logged and every consumer is dropped with it (gRPC Unavailable
// naming the cause), instead of the group silently delivering nothing.
// The group itself stays: its checkpoint and in-flight messages are kept,
// and the next consumer to connect makes it try the read again. g.mu is
// held.
func (g *psGroup) readFailed(err error) {
	g.m.s.log.Error("persistent subscription read failed; dropping its consumers",
		"source", g.cfg.Source, "group", g.cfg.Group, "consumers", len(g.consumers), "err", err)
	drop := status.Errorf(codes.Unavailable, "persistent subscription %s::%s cannot read its source: %v", g.cfg.Source, g.cfg.Group, err)
	for _, c := range g.consumers {
		select {
		case c.dropped <- drop:
		default: // already dropped
		}
	}
	// The consumers' calls end and return their in-flight messages
	// (removeConsumer); none gets another message meanwhile.
	g.consumers = nil
}
