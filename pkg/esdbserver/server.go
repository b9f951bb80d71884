// Package esdbserver is craftledger's embedded event store: a single-node
// server that speaks KurrentDB's (EventStoreDB's) gRPC protocol, so the
// official client (github.com/EventStore/EventStore-Client-Go/v4) and the
// same esdb:// connection strings reach either it or a real KurrentDB.
//
// Events are kept in pebble (github.com/cockroachdb/pebble): a global log
// keyed by position, a per-stream index and per-stream state. One writer
// goroutine group-commits every queued append into a single synced batch, so
// an acknowledged append is on disk and concurrent appends share an fsync.
//
// Start it in-process with Start(Config{...}) or as bin/eventstore.
package esdbserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// Config configures a server.
type Config struct {
	DataDir                 string // required; created if missing
	Addr                    string // "127.0.0.1:0" picks a free port; "" means 127.0.0.1:2113
	Insecure                bool   // true: no auth, no TLS (tests and make run use true)
	TLSCertFile, TLSKeyFile string // required unless Insecure
	MaxAppendSize           int    // 0 = 1 MiB default
	Logger                  *slog.Logger
	// Passwords replace the default users' passwords (admin and ops, both
	// "changeit" as in a fresh KurrentDB), by login; unknown logins are
	// refused by Start. ParsePasswords reads bin/eventstore's --password-file.
	Passwords map[string]string

	pingEvery time.Duration // server keepalive pings after this much quiet; 0 = 10 s (tests change it)
}

// ServerVersion is the KurrentDB version this server reports to clients.
// It must be purely numeric and ≥ 23 so the v4 client expects caught-up
// messages and real positions on stream reads.
const ServerVersion = "24.10.0"

const (
	defaultMaxAppendSize = 1 << 20
	maxRecvMsgSize       = 17 << 20
)

// Server is a running embedded store.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *store
	grpc    *grpc.Server
	lis     net.Listener
	closing chan struct{}
	once    sync.Once
	served  chan error
	psubs   *psubManager
	nodeID  [16]byte
	users   map[string]user // logins (auth.go)
	// settings caches the parsed $settings (settings.go).
	settings atomic.Pointer[settingsAt]
}

// Start opens the storage in cfg.DataDir, listens on cfg.Addr and serves in
// the background until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("esdbserver: DataDir is required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:2113"
	}
	if cfg.MaxAppendSize <= 0 {
		cfg.MaxAppendSize = defaultMaxAppendSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	users, err := usersWith(cfg.Passwords)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials
	if !cfg.Insecure {
		if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
			return nil, errors.New("esdbserver: TLS certificate and key files are required unless Insecure")
		}
		c, err := credentials.NewServerTLSFromFile(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("esdbserver: load TLS key pair: %w", err)
		}
		creds = c
	}
	st, err := openStore(cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("esdbserver: listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, log: log, store: st, lis: lis, closing: make(chan struct{}), served: make(chan error, 1), users: users}
	if !cfg.Insecure {
		for _, login := range slices.Sorted(maps.Keys(defaultUsers)) {
			if users[login].password == defaultUsers[login].password {
				log.Warn("a user has KurrentDB's default password: give bin/eventstore --password-file", "user", login)
			}
		}
	}
	_, _ = rand.Read(s.nodeID[:])
	pingEvery := cfg.pingEvery
	if pingEvery <= 0 {
		pingEvery = 10 * time.Second
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgSize),
		grpc.ForceServerCodecV2(newWireCodec()),
		// The client pings every 10 s even without calls; grpc-go's default
		// policy would answer with GOAWAY too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: pingEvery, Timeout: 10 * time.Second}),
		// Handlers run on reused goroutines whose stacks have already
		// grown (a fresh goroutine per call spent ~5% of an append's CPU in
		// stack growth); when all are busy grpc starts a goroutine as before.
		grpc.NumStreamWorkers(256),
		// Fixed receive windows turn off grpc's BDP probing (a ping
		// round trip per sampled data frame, i.e. every few appends);
		// appends are limited to 17 MiB anyway.
		grpc.InitialWindowSize(4 << 20),
		grpc.InitialConnWindowSize(16 << 20),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	}
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	s.grpc = grpc.NewServer(opts...)
	streams.RegisterStreamsServer(s.grpc, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(s.grpc, &featuresService{s: s})
	gossip.RegisterGossipServer(s.grpc, &gossipService{s: s})
	if err := s.registerPersistent(); err != nil {
		lis.Close()
		st.close()
		return nil, err
	}
	if err := s.seed(); err != nil {
		lis.Close()
		st.close()
		return nil, err
	}
	go func() { s.served <- s.grpc.Serve(lis) }()
	log.Info("event store listening", "addr", s.Addr(), "data", cfg.DataDir, "insecure", cfg.Insecure)
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL is a connection string for the official client: with tls=false when
// insecure; with TLS (certificate not verified) otherwise, to which callers
// add credentials (esdb://admin:changeit@…).
func (s *Server) URL() string {
	if s.cfg.Insecure {
		return "esdb://" + s.Addr() + "?tls=false"
	}
	return "esdb://" + s.Addr() + "?tls=true&tlsVerifyCert=false"
}

// Close stops serving (ending subscriptions), then closes the storage. It
// is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closing)
		if s.psubs != nil {
			s.psubs.close()
		}
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.grpc.Stop()
			<-done
		}
		err = s.store.close()
		s.log.Info("event store stopped", "addr", s.Addr())
	})
	return err
}

// seed writes what an empty KurrentDB holds at first start: the default
// users' streams. Client test harnesses probe $users before anything else.
func (s *Server) seed() error {
	if s.store.info("$users").Last >= 0 {
		return nil
	}
	for _, u := range []struct{ login, full, group string }{{"admin", "KurrentDB Administrator", "$admins"}, {"ops", "KurrentDB Operations", "$ops"}} {
		created := fmt.Sprintf(`{"loginName":%q,"fullName":%q,"groups":[%q]}`, u.login, u.full, u.group)
		if r := s.store.submit(&writeOp{kind: opAppend, stream: "$user-" + u.login, expected: expectation{kind: expAny},
			events: []proposed{{ID: newUUID(), Type: "$UserCreated", IsJSON: true, Data: []byte(created)}}}); r.err != nil {
			return fmt.Errorf("seed user %s: %w", u.login, r.err)
		}
		if r := s.store.submit(&writeOp{kind: opAppend, stream: "$users", expected: expectation{kind: expAny},
			events: []proposed{{ID: newUUID(), Type: "$User", Data: []byte(u.login)}}}); r.err != nil {
			return fmt.Errorf("seed users: %w", r.err)
		}
	}
	return nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func parseUUIDString(s string) ([16]byte, bool) {
	var u [16]byte
	hex := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			hex = append(hex, s[i])
		}
	}
	if len(hex) != 32 {
		return u, false
	}
	for i := 0; i < 16; i++ {
		v, err := strconv.ParseUint(string(hex[2*i:2*i+2]), 16, 8)
		if err != nil {
			return u, false
		}
		u[i] = byte(v)
	}
	return u, true
}

// done reports the context of a call ending or the server closing.
func (s *Server) done(ctx context.Context) <-chan struct{} {
	if ctx.Done() == nil {
		return s.closing
	}
	ch := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closing:
		}
		close(ch)
	}()
	return ch
}
