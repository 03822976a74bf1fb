// Command hello is the hello service: GET / answers "Hello, World! Counter: N", with health probes, Prometheus
// metrics and a graceful shutdown. It is configured through environment variables only (see internal/config).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"example.com/hello/internal/config"
	"example.com/hello/internal/metrics"
	"example.com/hello/internal/server"
)

// Stamped at build time: go build -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process at once instead of waiting for the drain
	}()
	os.Exit(run(ctx, os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code. A configuration error is one line on stderr and exit code 2.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("exiting", "err", err.Error())
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	m, err := metrics.New(metrics.BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		Metrics:         m,
		Logger:          log,
		DrainDelay:      cfg.DrainDelay,
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "commit", commit,
		"go", runtime.Version(), "gomaxprocs", runtime.GOMAXPROCS(0))
	return srv.Serve(ctx, ln)
}
