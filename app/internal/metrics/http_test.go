package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func newMetrics(t testing.TB) *Metrics {
	t.Helper()
	m, err := New(BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return m
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

func inFlight(t *testing.T, m *Metrics) float64 {
	t.Helper()
	return families(t, m)["http_requests_in_flight"].GetMetric()[0].GetGauge().GetValue()
}

func TestInstrumentLabelsByHandlerMethodAndStatus(t *testing.T) {
	m := newMetrics(t)
	h := m.NewHTTP().Instrument("/items/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("case") {
		case "missing":
			http.NotFound(w, r)
		case "early":
			w.WriteHeader(http.StatusEarlyHints) // informational: the final status comes next
			w.WriteHeader(http.StatusAccepted)
		case "silent": // writes nothing: net/http answers 200
		default:
			_, _ = w.Write([]byte("item"))
		}
	}))
	for _, req := range []struct{ method, target string }{
		{"GET", "/items/1"}, {"GET", "/items/2"}, {"HEAD", "/items/3"}, {"GET", "/items/4?case=missing"},
		{"GET", "/items/5?case=early"}, {"GET", "/items/6?case=silent"}, {"POST", "/items/7"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.target, nil))
	}

	want := map[sample]float64{
		{"/items/{id}", "get", "200"}:  3, // 1, 2, silent
		{"/items/{id}", "head", "200"}: 1,
		{"/items/{id}", "get", "404"}:  1,
		{"/items/{id}", "get", "202"}:  1,
		{"/items/{id}", "post", "200"}: 1,
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
	m := newMetrics(t)
	h := m.NewHTTP().Instrument("/any", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, method := range []string{"BREW", "PROPFIND", "X-1", "X-2", "Get"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/any", nil))
	}
	got := requestSeries(t, m)
	if len(got) != 1 || got[sample{"/any", "unknown", "200"}] != 5 {
		t.Errorf("series = %v, want only {/any unknown 200} = 5", got)
	}
}

func TestInFlightCountsRequestsBeingServed(t *testing.T) {
	m := newMetrics(t)
	var during float64
	h := m.NewHTTP().Instrument("/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		during = inFlight(t, m)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	if after := inFlight(t, m); during != 1 || after != 0 {
		t.Errorf("in flight = %v during the request and %v after, want 1 and 0", during, after)
	}
}

func TestInFlightIsReleasedWhenAHandlerPanics(t *testing.T) {
	m := newMetrics(t)
	h := m.NewHTTP().Instrument("/", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	func() {
		defer func() { _ = recover() }() // net/http recovers per connection
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if v := inFlight(t, m); v != 0 {
		t.Errorf("in flight = %v after a panic, want 0", v)
	}
}

func TestRecorderLetsResponseControllerReachTheConnection(t *testing.T) {
	m := newMetrics(t)
	h := m.NewHTTP().Instrument("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the recorder: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !rec.Flushed {
		t.Error("the underlying writer was not flushed")
	}
}

// The per-request cost of the instrumentation; the hot path must not allocate.
func BenchmarkInstrument(b *testing.B) {
	h := newMetrics(b).NewHTTP().Instrument("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

func TestInstrumentDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	h := newMetrics(t).NewHTTP().Instrument("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	h.ServeHTTP(w, r) // creates the series
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}
