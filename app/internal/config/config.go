// Package config reads the service's settings from environment variables, the only source of configuration.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is the service's validated configuration.
type Config struct {
	// Port is the TCP port to listen on, on every interface. 0 picks a free port (tests use it). Env PORT, default 8080.
	Port int
	// LogLevel is the minimum level of the JSON logs. Env LOG_LEVEL (debug|info|warn|error), default info.
	LogLevel slog.Level
	// DrainDelay is the time between failing readiness and closing the listener, so that load balancers
	// stop sending traffic before connections are refused. Env DRAIN_DELAY, default 5s.
	DrainDelay time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to complete after the listener closed.
	// Env SHUTDOWN_TIMEOUT, default 20s.
	ShutdownTimeout time.Duration
}

// Defaults, in one place. DRAIN_DELAY + SHUTDOWN_TIMEOUT stays below Kubernetes' default 30s grace period.
const (
	DefaultPort            = 8080
	DefaultLogLevel        = slog.LevelInfo
	DefaultDrainDelay      = 5 * time.Second
	DefaultShutdownTimeout = 20 * time.Second

	maxDuration = 5 * time.Minute
)

// Addr is the listen address for net.Listen.
func (c Config) Addr() string { return ":" + strconv.Itoa(c.Port) }

// Load reads the configuration through getenv (os.Getenv in production). An unset or empty variable takes its default.
// Every invalid variable is reported; the error is a single line naming each variable, its value and what is allowed.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		Port:            DefaultPort,
		LogLevel:        DefaultLogLevel,
		DrainDelay:      DefaultDrainDelay,
		ShutdownTimeout: DefaultShutdownTimeout,
	}
	var problems []string
	check := func(name string, parse func(string) error) {
		if v := getenv(name); v != "" {
			if err := parse(v); err != nil {
				problems = append(problems, fmt.Sprintf("invalid %s %q: %v", name, v, err))
			}
		}
	}
	check("PORT", func(v string) (err error) { cfg.Port, err = parsePort(v); return })
	check("LOG_LEVEL", func(v string) (err error) { cfg.LogLevel, err = parseLevel(v); return })
	check("DRAIN_DELAY", func(v string) (err error) {
		cfg.DrainDelay, err = parseDuration(v, 0, "must be a Go duration between 0s and 5m (e.g. 5s)")
		return
	})
	check("SHUTDOWN_TIMEOUT", func(v string) (err error) {
		cfg.ShutdownTimeout, err = parseDuration(v, time.Second, "must be a Go duration between 1s and 5m (e.g. 20s)")
		return
	})
	if len(problems) > 0 {
		return Config{}, errors.New(strings.Join(problems, "; "))
	}
	return cfg, nil
}

func parsePort(v string) (int, error) {
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("must be an integer between 0 and 65535 (e.g. %d)", DefaultPort)
	}
	return p, nil
}

func parseLevel(v string) (slog.Level, error) {
	switch strings.ToLower(v) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("must be one of debug, info, warn, error")
}

// parseDuration accepts a Go duration from minimum to 5m; allowed is the message that says so.
func parseDuration(v string, minimum time.Duration, allowed string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < minimum || d > maxDuration {
		return 0, errors.New(allowed)
	}
	return d, nil
}
