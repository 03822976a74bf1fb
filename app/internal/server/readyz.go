package server

import (
	"net/http"
	"sync/atomic"
)

// Readiness is the readiness probe. It answers 503 from the moment shutdown begins, so that load balancers stop
// sending new requests while the listener is still open (the drain delay).
type Readiness struct {
	draining atomic.Bool
}

// Drain makes the probe fail from now on.
func (rd *Readiness) Drain() { rd.draining.Store(true) }

// Draining reports whether shutdown has begun.
func (rd *Readiness) Draining() bool { return rd.draining.Load() }

func (rd *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if rd.Draining() {
		writeText(w, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}
