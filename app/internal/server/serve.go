package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"example.com/hello/internal/deadline"
)

// Serve serves on ln until ctx is cancelled (SIGTERM or SIGINT in production), then shuts down gracefully:
// readiness fails, the drain delay passes while the listener still accepts, then http.Server.Shutdown closes the
// listener and waits up to the shutdown timeout for in-flight requests. It returns nil after a clean shutdown.
//
// The connections' deadlines, which carry the server's timeouts, are enforced by internal/deadline (see
// DeadlineResolution).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(deadline.Listener(ln, DeadlineResolution)) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	s.ready.Drain()
	s.log.Info("shutdown started: readiness fails, listener stays open for the drain delay",
		"drain_delay", s.drainDelay.String())
	select {
	case <-time.After(s.drainDelay):
	case err := <-served:
		return fmt.Errorf("serve %s while draining: %w", ln.Addr(), err)
	}

	s.log.Info("closing the listener, waiting for in-flight requests", "shutdown_timeout", s.shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		closeErr := s.http.Close()
		return fmt.Errorf("shutdown after %s: %w", s.shutdownTimeout, errors.Join(err, closeErr))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	s.log.Info("shutdown complete")
	return nil
}
