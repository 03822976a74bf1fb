package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"example.com/hello/internal/metrics"
)

// newTestServer returns the service's full handler (routes, instrumentation, /metrics) and its metrics.
func newTestServer(t *testing.T) (http.Handler, *metrics.Metrics) {
	t.Helper()
	m, err := metrics.New(metrics.BuildInfo{Version: "test", Commit: "test", GoVersion: "go"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Metrics: m, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s.http.Handler, m
}

func get(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestServerBoundsSlowAndOversizedClients(t *testing.T) {
	s, err := New(Options{Metrics: mustMetrics(t), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]int64{
		"ReadHeaderTimeout": int64(s.http.ReadHeaderTimeout), "ReadTimeout": int64(s.http.ReadTimeout),
		"WriteTimeout": int64(s.http.WriteTimeout), "IdleTimeout": int64(s.http.IdleTimeout),
		"MaxHeaderBytes": int64(s.http.MaxHeaderBytes),
	} {
		if v <= 0 {
			t.Errorf("http.Server.%s is unset: a slow or oversized client could hold the server", name)
		}
	}
}

func mustMetrics(t *testing.T) *metrics.Metrics {
	t.Helper()
	m, err := metrics.New(metrics.BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func BenchmarkRoutesHello(b *testing.B) {
	m, err := metrics.New(metrics.BuildInfo{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Metrics: m, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{header: http.Header{}}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for pb.Next() {
			s.http.Handler.ServeHTTP(w, r)
		}
	})
}
