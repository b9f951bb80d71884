package esdbserver

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"google.golang.org/grpc/peer"
)

// featuresService answers the client's first call on every connection.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
	s *Server
}

// supportedMethods lists exactly what this server implements, lower-cased
// as KurrentDB reports it.
func (s *Server) supportedMethods() []*serverfeatures.SupportedMethod {
	const st = "event_store.client.streams.streams"
	m := []*serverfeatures.SupportedMethod{
		{MethodName: "append", ServiceName: st},
		{MethodName: "read", ServiceName: st, Features: []string{"position", "events"}},
		{MethodName: "delete", ServiceName: st},
		{MethodName: "tombstone", ServiceName: st},
		{MethodName: "batchappend", ServiceName: st},
		{MethodName: "getsupportedmethods", ServiceName: "event_store.client.server_features.serverfeatures"},
		{MethodName: "read", ServiceName: "event_store.client.gossip.gossip"},
	}
	if s.psubs != nil {
		const ps = "event_store.client.persistent_subscriptions.persistentsubscriptions"
		for _, name := range []string{"create", "update", "delete", "read", "getinfo", "list", "replayparked", "restartsubsystem"} {
			m = append(m, &serverfeatures.SupportedMethod{MethodName: name, ServiceName: ps, Features: []string{"stream", "all"}})
		}
	}
	return m
}

func (f *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	return &serverfeatures.SupportedMethods{Methods: f.s.supportedMethods(), EventStoreServerVersion: ServerVersion}, nil
}

// gossipService describes a one-member cluster whose only member leads.
type gossipService struct {
	gossip.UnimplementedGossipServer
	s *Server
}

func (g *gossipService) Read(ctx context.Context, _ *shared.Empty) (*gossip.ClusterInfo, error) {
	host, portText, _ := net.SplitHostPort(g.s.Addr())
	// Advertise the address the caller reached us on, not a wildcard.
	if p, ok := peer.FromContext(ctx); ok && p.LocalAddr != nil {
		if h, _, err := net.SplitHostPort(p.LocalAddr.String()); err == nil {
			host = h
		}
	}
	port, _ := strconv.Atoi(portText)
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   wireUUID(g.s.nodeID, false),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: uint32(port)},
	}}}, nil
}
