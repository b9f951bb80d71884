package esdbserver

import (
	"errors"

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
	g.dropConsumers(drop)
	// The consumers' calls end and return their in-flight messages
	// (removeConsumer); none gets another message meanwhile.
	g.consumers = nil
}

// errPSStreamDeleted is a group's read of a tombstoned stream.
var errPSStreamDeleted = errors.New("persistent subscription source stream is deleted")

// fault is KurrentDB's HandleReadError (PersistentSubscription.cs 177-187)
// for a read that found the stream tombstoned, which its reader does not
// retry (PersistentSubscriptionStreamReader.cs 139-141): the group stops
// delivering and every consumer, present or joining later (addConsumer),
// is dropped with the group's drop (Canceled "… was dropped."), until the
// group is loaded again (an Update, RestartSubsystem, a restart). g.mu is
// held.
func (g *psGroup) fault() {
	g.m.s.log.Error("persistent subscription faulted: its source stream is deleted; dropping its consumers",
		"source", g.cfg.Source, "group", g.cfg.Group, "consumers", len(g.consumers))
	g.faulted = true
	g.dropConsumers(droppedGroup(g.cfg.Source, g.cfg.Group))
	g.consumers = nil
}
