package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// epoch is the origin of request timings: time.Since(epoch) reads only the monotonic clock, which costs half of
// time.Now (wall and monotonic) on the hot path.
var epoch = time.Now()

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

// HTTP records http_requests_total, http_request_duration_seconds and http_requests_in_flight for the handlers it
// wraps.
//
// It does what promhttp.InstrumentHandler{InFlight,Duration,Counter} do on vectors curried with a handler label,
// with the same label values, but without their per-request cost (a label map, a label hash and a delegator
// allocation per request, about 2 µs against 0.2 µs here; see BenchmarkInstrument): each wrapped handler keeps the
// children it has used, so the hot path is an atomic load and a short scan, and allocates nothing.
type HTTP struct {
	m         *Metrics
	recorders sync.Pool
}

// NewHTTP returns the instrumentation for a set of handlers.
func (m *Metrics) NewHTTP() *HTTP {
	h := &HTTP{m: m}
	h.recorders.New = func() any { return new(recorder) }
	return h
}

// Instrument measures every request next serves under handler=label. label is the route's pattern (e.g. "/healthz"),
// or Unmatched, never a raw path: it must come from a fixed set.
func (h *HTTP) Instrument(label string, next http.Handler) http.Handler {
	rt := &route{
		requests: h.m.requests.MustCurryWith(prometheus.Labels{"handler": label}),
		duration: h.m.duration.MustCurryWith(prometheus.Labels{"handler": label}),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Since(epoch)
		h.m.inFlight.Add(1)
		defer h.m.inFlight.Add(-1)

		rec := h.recorders.Get().(*recorder)
		rec.ResponseWriter, rec.status = w, 0
		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK // net/http's default when the handler writes nothing
		}
		s := rt.series(methodLabel(r.Method), status)
		s.requests.Inc()
		s.duration.Observe((time.Since(epoch) - start).Seconds())

		*rec = recorder{}
		h.recorders.Put(rec)
	})
}

// route caches the metric children of one handler label. Methods and status codes are bounded, so is the cache.
type route struct {
	requests *prometheus.CounterVec
	duration prometheus.ObserverVec

	mu    sync.Mutex               // serialises additions
	known atomic.Pointer[[]series] // copy-on-write: readers never lock
}

type series struct {
	method   string
	code     int
	requests prometheus.Counter
	duration prometheus.Observer
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

// recorder remembers the status code. It is pooled: handlers must not keep w after returning, which net/http
// requires anyway.
type recorder struct {
	http.ResponseWriter
	status int
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

// WriteString keeps net/http's copy-free path for io.WriteString.
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
