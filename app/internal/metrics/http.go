package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the handler label of requests that matched no route (404, 405): unknown paths must not create series.
const Unmatched = "unmatched"

// methodLabel maps the request method to the method label: the same values promhttp uses (lower case), and
// "unknown" for any other method, so that arbitrary methods cannot create series either.
func methodLabel(m string) string {
	switch m {
	case "GET", "get":
		return "get"
	case "HEAD", "head":
		return "head"
	case "POST", "post":
		return "post"
	case "PUT", "put":
		return "put"
	case "PATCH", "patch":
		return "patch"
	case "DELETE", "delete":
		return "delete"
	case "CONNECT", "connect":
		return "connect"
	case "OPTIONS", "options":
		return "options"
	case "TRACE", "trace":
		return "trace"
	case "NOTIFY", "notify":
		return "notify"
	}
	return "unknown"
}

// HTTP records http_requests_total, http_request_duration_seconds and http_requests_in_flight.
//
// It does what promhttp.InstrumentHandler{Counter,Duration,InFlight} curried with a handler label do, with the same
// label values, but without their per-request cost (a label map, a label hash and a delegator allocation per
// request): each route keeps the children it has used, so the hot path is an atomic load and a short scan.
// The outer Middleware measures; Route, wrapped around each handler in the mux, names the route. A request that
// reaches no Route (the mux's 404 and 405) is counted under handler="unmatched".
type HTTP struct {
	m         *Metrics
	unmatched *route
	recorders sync.Pool
}

// NewHTTP returns the instrumentation for one mux.
func (m *Metrics) NewHTTP() *HTTP {
	h := &HTTP{m: m}
	h.unmatched = h.newRoute(Unmatched)
	h.recorders.New = func() any { return new(recorder) }
	return h
}

// Middleware measures every request that next serves. Wrap it around the mux whose routes are wrapped with Route.
func (h *HTTP) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.m.inFlight.Inc()
		defer h.m.inFlight.Dec()

		rec := h.recorders.Get().(*recorder)
		rec.ResponseWriter, rec.status, rec.route = w, 0, h.unmatched
		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK // net/http's default when the handler writes nothing
		}
		s := rec.route.series(methodLabel(r.Method), status)
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())

		*rec = recorder{}
		h.recorders.Put(rec)
	})
}

// Route names the route that next serves; label is the handler label, the route's pattern (e.g. "/healthz").
func (h *HTTP) Route(label string, next http.Handler) http.Handler {
	rt := h.newRoute(label)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = rt
		}
		next.ServeHTTP(w, r)
	})
}

// route caches the metric children of one handler label. Methods and status codes are bounded, so is the cache.
type route struct {
	requests *prometheus.CounterVec
	duration prometheus.ObserverVec
	label    string

	mu    sync.Mutex               // serialises additions
	known atomic.Pointer[[]series] // copy-on-write: readers never lock
}

type series struct {
	method   string
	code     int
	requests prometheus.Counter
	duration prometheus.Observer
}

func (h *HTTP) newRoute(label string) *route {
	return &route{
		requests: h.m.requests.MustCurryWith(prometheus.Labels{"handler": label}),
		duration: h.m.duration.MustCurryWith(prometheus.Labels{"handler": label}),
		label:    label,
	}
}

func (rt *route) series(method string, code int) *series {
	if known := rt.known.Load(); known != nil {
		for i := range *known {
			if s := &(*known)[i]; s.method == method && s.code == code {
				return s
			}
		}
	}
	return rt.add(method, code)
}

func (rt *route) add(method string, code int) *series {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var known []series
	if p := rt.known.Load(); p != nil {
		known = *p
		for i := range known {
			if s := &known[i]; s.method == method && s.code == code {
				return s
			}
		}
	}
	c := strconv.Itoa(code)
	grown := append(known[:len(known):len(known)], series{
		method:   method,
		code:     code,
		requests: rt.requests.WithLabelValues(method, c),
		duration: rt.duration.WithLabelValues(method, c),
	})
	rt.known.Store(&grown)
	return &grown[len(grown)-1]
}

// recorder remembers the status code and the route. It is pooled: handlers must not keep w after returning,
// which net/http requires anyway.
type recorder struct {
	http.ResponseWriter
	status int
	route  *route
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 { // 1xx responses are informational; the final status follows
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// WriteString keeps net/http's allocation-free path for io.WriteString.
func (r *recorder) WriteString(s string) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if sw, ok := r.ResponseWriter.(interface{ WriteString(string) (int, error) }); ok {
		return sw.WriteString(s)
	}
	return r.ResponseWriter.Write([]byte(s))
}

// Unwrap lets http.ResponseController reach Flush, Hijack and deadlines on the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
