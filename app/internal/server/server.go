// Package server is the HTTP side of the service: its routes, their handlers and a graceful shutdown.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"example.com/hello/internal/metrics"
)

// Limits that keep a slow or oversized client from holding the server. WriteTimeout bounds a whole request, so it is
// also the longest an in-flight request can delay shutdown.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 10 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 16 << 10

	// DeadlineResolution is how late past a timeout a connection may be cut: the deadlines behind the timeouts are
	// enforced by one sweep per resolution instead of a runtime timer per connection (see internal/deadline).
	DeadlineResolution = 250 * time.Millisecond
)

// Options are the dependencies of the server, passed in explicitly.
type Options struct {
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// DrainDelay is the time between failing readiness and closing the listener.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests once the listener is closed.
	ShutdownTimeout time.Duration
}

// Server serves the routes and shuts down gracefully.
type Server struct {
	http            *http.Server
	ready           *Readiness
	log             *slog.Logger
	drainDelay      time.Duration
	shutdownTimeout time.Duration
}

// New builds the server and registers hello_counter_total.
func New(opts Options) (*Server, error) {
	hello := NewHello()
	if err := opts.Metrics.RegisterCounterFunc("hello_counter_total", "Requests answered by GET / (the N in its answer).",
		func() float64 { return float64(hello.Count()) }); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	ready := &Readiness{}
	errorLog := slog.NewLogLogger(opts.Logger.Handler(), slog.LevelError)
	return &Server{
		http: &http.Server{
			Handler: Routes(opts.Metrics.NewHTTP(), hello, ready, promhttp.HandlerFor(opts.Metrics.Registry,
				promhttp.HandlerOpts{ErrorLog: errorLog})),
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    MaxHeaderBytes,
			ErrorLog:          errorLog,
		},
		ready:           ready,
		log:             opts.Logger,
		drainDelay:      opts.DrainDelay,
		shutdownTimeout: opts.ShutdownTimeout,
	}, nil
}
