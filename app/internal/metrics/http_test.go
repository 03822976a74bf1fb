package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newInstrumented returns a fresh registry and a mux, with routes added by register, behind Middleware.
func newInstrumented(t *testing.T, register func(mux *http.ServeMux, h *HTTP)) (*Metrics, http.Handler) {
	t.Helper()
	m, err := New(BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	h := m.NewHTTP()
	mux := http.NewServeMux()
	register(mux, h)
	return m, h.Middleware(mux)
}

type sample struct {
	handler, method, code string
}

// requestSeries returns http_requests_total by labels, and checks the histogram has exactly the same series.
func requestSeries(t *testing.T, m *Metrics) map[sample]float64 {
	t.Helper()
	fams := families(t, m)
	got := map[sample]float64{}
	for _, s := range fams["http_requests_total"].GetMetric() {
		l := labelsOf(s)
		got[sample{l["handler"], l["method"], l["code"]}] = s.GetCounter().GetValue()
	}
	hist := fams["http_request_duration_seconds"]
	if n := len(hist.GetMetric()); n != len(got) {
		t.Errorf("%d duration series for %d request series", n, len(got))
	}
	for _, s := range hist.GetMetric() {
		l := labelsOf(s)
		if want := got[sample{l["handler"], l["method"], l["code"]}]; float64(s.GetHistogram().GetSampleCount()) != want {
			t.Errorf("duration count %d for %v, want %v", s.GetHistogram().GetSampleCount(), l, want)
		}
	}
	return got
}

func TestMiddlewareLabelsByRouteMethodAndCode(t *testing.T) {
	m, handler := newInstrumented(t, func(mux *http.ServeMux, h *HTTP) {
		mux.Handle("GET /items/{id}", h.Route("/items/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.PathValue("id") {
			case "missing":
				http.NotFound(w, r)
			case "early":
				w.WriteHeader(http.StatusEarlyHints) // informational: the final status comes next
				w.WriteHeader(http.StatusAccepted)
			case "silent": // writes nothing: net/http answers 200
			default:
				_, _ = w.Write([]byte("item"))
			}
		})))
	})
	for _, req := range []struct{ method, target string }{
		{"GET", "/items/1"}, {"GET", "/items/2"}, {"HEAD", "/items/3"}, {"GET", "/items/missing"},
		{"GET", "/items/early"}, {"GET", "/items/silent"}, {"POST", "/items/1"}, {"GET", "/nowhere"},
	} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.target, nil))
	}

	want := map[sample]float64{
		{"/items/{id}", "get", "200"}:  3, // 1, 2, silent
		{"/items/{id}", "head", "200"}: 1,
		{"/items/{id}", "get", "404"}:  1, // the route matched; the handler said 404
		{"/items/{id}", "get", "202"}:  1,
		{"unmatched", "post", "405"}:   1, // known path, wrong method: no route ran
		{"unmatched", "get", "404"}:    1,
	}
	got := requestSeries(t, m)
	if len(got) != len(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("http_requests_total%v = %v, want %v", k, got[k], v)
		}
	}
}

func TestUnknownMethodsShareOneMethodLabel(t *testing.T) {
	m, handler := newInstrumented(t, func(mux *http.ServeMux, h *HTTP) {
		mux.Handle("/any", h.Route("/any", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	})
	for _, method := range []string{"BREW", "PROPFIND", "X-1", "X-2", "Get"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/any", nil))
	}
	got := requestSeries(t, m)
	if len(got) != 1 || got[sample{"/any", "unknown", "200"}] != 5 {
		t.Errorf("series = %v, want only {/any unknown 200} = 5", got)
	}
}

func TestInFlightCountsRequestsBeingServed(t *testing.T) {
	var m *Metrics
	var during float64
	m, handler := newInstrumented(t, func(mux *http.ServeMux, h *HTTP) {
		mux.Handle("/", h.Route("/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			during = families(t, m)["http_requests_in_flight"].GetMetric()[0].GetGauge().GetValue()
		})))
	})
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	after := families(t, m)["http_requests_in_flight"].GetMetric()[0].GetGauge().GetValue()
	if during != 1 || after != 0 {
		t.Errorf("in flight = %v during the request and %v after, want 1 and 0", during, after)
	}
}

func TestInFlightIsReleasedWhenAHandlerPanics(t *testing.T) {
	m, handler := newInstrumented(t, func(mux *http.ServeMux, h *HTTP) {
		mux.Handle("/", h.Route("/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(http.ErrAbortHandler)
		})))
	})
	func() {
		defer func() { _ = recover() }() // net/http recovers per connection
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if v := families(t, m)["http_requests_in_flight"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("in flight = %v after a panic, want 0", v)
	}
}

func TestRecorderLetsResponseControllerReachTheConnection(t *testing.T) {
	_, handler := newInstrumented(t, func(mux *http.ServeMux, h *HTTP) {
		mux.Handle("/", h.Route("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush through the recorder: %v", err)
			}
		})))
	})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed {
		t.Error("the underlying writer was not flushed")
	}
}

// The per-request cost of the instrumentation: the hot path must not allocate.
func BenchmarkMiddleware(b *testing.B) {
	m, err := New(BuildInfo{})
	if err != nil {
		b.Fatal(err)
	}
	h := m.NewHTTP()
	noop := h.Middleware(h.Route("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		for pb.Next() {
			noop.ServeHTTP(w, r)
		}
	})
}
