// Package metrics owns the service's Prometheus registry and the metric names of its contract:
// http_requests_total, http_request_duration_seconds, http_requests_in_flight, build_info and hello_counter_total
// (plus the Go and process collectors). Dashboards and alerts depend on these names; change them only together.
package metrics

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// BuildInfo is exported as the build_info gauge.
type BuildInfo struct {
	Version   string
	Commit    string
	GoVersion string
}

// Metrics is the private registry and the HTTP metrics recorded into it.
type Metrics struct {
	// Registry is what /metrics serves. Private, so that nothing registers into it by accident.
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight atomic.Int64 // exported as the http_requests_in_flight gauge: one atomic add per change, no CAS loop
}

// New creates the registry with the Go and process collectors, build_info and the HTTP metrics.
func New(build BuildInfo) (*Metrics, error) {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests completed, by route pattern, method and status code.",
		}, []string{"handler", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"handler", "method", "code"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "http_requests_in_flight",
		Help: "HTTP requests being served.",
	}, func() float64 { return float64(m.inFlight.Load()) })
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit, "goversion": build.GoVersion},
	})
	buildInfo.Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo, m.requests, m.duration, inFlight,
	} {
		if err := m.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// RegisterCounterFunc exports a counter whose value is read from f at scrape time, which costs the hot path nothing.
func (m *Metrics) RegisterCounterFunc(name, help string, f func() float64) error {
	if err := m.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	return nil
}
