package server

import (
	"net/http"

	"example.com/hello/internal/metrics"
)

// Routes is the service's routing table: four exact paths, GET (and so HEAD) only. Each route is measured under its
// path as the handler label; a request no route takes (404 for an unknown path, 405 for another method on a known
// one) is measured under handler="unmatched", so unknown paths cannot create series.
//
// A switch on the path, not http.ServeMux: for a fixed table of exact paths it is the simplest router and the cheapest
// (ServeMux's pattern matching cost about 2% of a request in the benchmark), and the label is decided here, once.
// The answers match ServeMux's: "404 page not found", and 405 with an Allow header.
func Routes(instr *metrics.HTTP, hello, ready, metricsHandler http.Handler) http.Handler {
	return &router{
		hello:      instr.Instrument("/", hello),
		healthz:    instr.Instrument("/healthz", http.HandlerFunc(Healthz)),
		readyz:     instr.Instrument("/readyz", ready),
		metrics:    instr.Instrument("/metrics", metricsHandler),
		notFound:   instr.Instrument(metrics.Unmatched, http.HandlerFunc(http.NotFound)),
		notAllowed: instr.Instrument(metrics.Unmatched, http.HandlerFunc(methodNotAllowed)),
	}
}

type router struct {
	hello, healthz, readyz, metrics, notFound, notAllowed http.Handler
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h http.Handler
	switch r.URL.Path {
	case "/":
		h = rt.hello
	case "/healthz":
		h = rt.healthz
	case "/readyz":
		h = rt.readyz
	case "/metrics":
		h = rt.metrics
	default:
		rt.notFound.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h = rt.notAllowed
	}
	h.ServeHTTP(w, r)
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}
