package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadAcceptsValidSettings(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want Config
	}{
		{
			name: "nothing set gives the defaults",
			vars: nil,
			want: Config{Port: 8080, LogLevel: slog.LevelInfo, DrainDelay: 5 * time.Second, ShutdownTimeout: 20 * time.Second},
		},
		{
			name: "empty values count as unset",
			vars: map[string]string{"PORT": "", "LOG_LEVEL": "", "DRAIN_DELAY": "", "SHUTDOWN_TIMEOUT": ""},
			want: Config{Port: 8080, LogLevel: slog.LevelInfo, DrainDelay: 5 * time.Second, ShutdownTimeout: 20 * time.Second},
		},
		{
			name: "every variable set",
			vars: map[string]string{"PORT": "9090", "LOG_LEVEL": "debug", "DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "1m30s"},
			want: Config{Port: 9090, LogLevel: slog.LevelDebug, DrainDelay: 0, ShutdownTimeout: 90 * time.Second},
		},
		{
			name: "port 0 asks the kernel for a free port",
			vars: map[string]string{"PORT": "0"},
			want: Config{Port: 0, LogLevel: slog.LevelInfo, DrainDelay: 5 * time.Second, ShutdownTimeout: 20 * time.Second},
		},
		{
			name: "levels are case-insensitive and bounds are inclusive",
			vars: map[string]string{"LOG_LEVEL": "WARN", "PORT": "65535", "DRAIN_DELAY": "5m", "SHUTDOWN_TIMEOUT": "1s"},
			want: Config{Port: 65535, LogLevel: slog.LevelWarn, DrainDelay: 5 * time.Minute, ShutdownTimeout: time.Second},
		},
		{
			name: "error level",
			vars: map[string]string{"LOG_LEVEL": "error"},
			want: Config{Port: 8080, LogLevel: slog.LevelError, DrainDelay: 5 * time.Second, ShutdownTimeout: 20 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(env(tt.vars))
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Load() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadRejectsInvalidSettingsInOneLineNamingVariableValueAndAllowed(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"port not a number", map[string]string{"PORT": "http"},
			`invalid PORT "http": must be an integer between 0 and 65535 (e.g. 8080)`},
		{"port out of range", map[string]string{"PORT": "65536"},
			`invalid PORT "65536": must be an integer between 0 and 65535 (e.g. 8080)`},
		{"negative port", map[string]string{"PORT": "-1"},
			`invalid PORT "-1": must be an integer between 0 and 65535 (e.g. 8080)`},
		{"unknown level", map[string]string{"LOG_LEVEL": "verbose"},
			`invalid LOG_LEVEL "verbose": must be one of debug, info, warn, error`},
		{"drain delay not a duration", map[string]string{"DRAIN_DELAY": "abc"},
			`invalid DRAIN_DELAY "abc": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"drain delay without a unit", map[string]string{"DRAIN_DELAY": "5"},
			`invalid DRAIN_DELAY "5": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"negative drain delay", map[string]string{"DRAIN_DELAY": "-1s"},
			`invalid DRAIN_DELAY "-1s": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"drain delay too long", map[string]string{"DRAIN_DELAY": "6m"},
			`invalid DRAIN_DELAY "6m": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"shutdown timeout too short", map[string]string{"SHUTDOWN_TIMEOUT": "0s"},
			`invalid SHUTDOWN_TIMEOUT "0s": must be a Go duration between 1s and 5m (e.g. 20s)`},
		{"two bad variables are both named, on one line", map[string]string{"PORT": "x", "DRAIN_DELAY": "y"},
			`invalid PORT "x": must be an integer between 0 and 65535 (e.g. 8080); ` +
				`invalid DRAIN_DELAY "y": must be a Go duration between 0s and 5m (e.g. 5s)`},
		{"a value with a newline cannot break the one-line promise", map[string]string{"LOG_LEVEL": "info\nx"},
			`invalid LOG_LEVEL "info\nx": must be one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.vars))
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			if err.Error() != tt.want {
				t.Errorf("Load() error =\n  %s\nwant\n  %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}
