package kit

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/oklog/run"
)

// Actor is one long-running part of a process (an HTTP server, a
// projector): Execute runs until done or interrupted; Interrupt makes it
// return. See github.com/oklog/run.
type Actor struct {
	Name      string
	Execute   func() error
	Interrupt func(error)
}

// ShutdownTimeout bounds a graceful HTTP shutdown.
const ShutdownTimeout = 10 * time.Second

// NewServer returns an http.Server for h with timeouts suited to a JSON API.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// HTTPActor serves srv on ln (listening on srv.Addr when ln is nil, at
// Execute time) and shuts it down gracefully within ShutdownTimeout when
// interrupted. When srv.TLSConfig is set (UseTLS) it serves HTTPS.
func HTTPActor(name string, srv *http.Server, ln net.Listener, logger *slog.Logger) Actor {
	return Actor{
		Name: name,
		Execute: func() error {
			l := ln
			if l == nil {
				var err error
				if l, err = net.Listen("tcp", srv.Addr); err != nil {
					return err
				}
			}
			scheme := "http"
			if srv.TLSConfig != nil {
				l = tls.NewListener(l, srv.TLSConfig)
				scheme = "https"
			}
			logger.Info("http server listening", "server", name, "addr", l.Addr().String(), "scheme", scheme)
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		Interrupt: func(error) {
			ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				logger.Warn("http server shutdown", "server", name, "err", err)
				_ = srv.Close()
			}
		},
	}
}

// Run runs actors in an oklog/run group together with a handler for
// SIGINT/SIGTERM and ctx: when any of them returns, all are interrupted and
// Run returns the first one's error. A signal or a cancelled ctx is a clean
// stop (nil).
func Run(ctx context.Context, logger *slog.Logger, actors ...Actor) error {
	var g run.Group
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exec, intr := run.SignalHandler(ctx, syscall.SIGINT, syscall.SIGTERM)
	g.Add(exec, intr)
	for _, a := range actors {
		g.Add(a.Execute, a.Interrupt)
	}
	err := g.Run()
	var sig *run.SignalError
	switch {
	case errors.As(err, &sig):
		logger.Info("shutting down", "signal", sig.Signal.String())
		return nil
	case errors.Is(err, context.Canceled):
		logger.Info("shutting down", "reason", "context cancelled")
		return nil
	}
	return err
}
