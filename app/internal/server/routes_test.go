package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"example.com/hello/internal/metrics"
)

// seriesCount is the number of series the registry exposes, over every family.

func seriesCount(t *testing.T, m *metrics.Metrics) int {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}

func requestsTotal(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "http_requests_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[fmt.Sprintf("%s %s %s", l["handler"], l["method"], l["code"])] = s.GetCounter().GetValue()
		}
	}
	return got
}

func TestRoutesAnswerAndAreCountedUnderTheirPattern(t *testing.T) {
	tests := []struct {
		method, target string
		code           int
		bodyPrefix     string
		series         string // handler method code
	}{
		{"GET", "/", 200, "Hello, World! Counter: 1", "/ get 200"},
		{"HEAD", "/", 200, "", "/ head 200"},
		{"GET", "/healthz", 200, "ok\n", "/healthz get 200"},
		{"GET", "/readyz", 200, "ok\n", "/readyz get 200"},
		{"GET", "/metrics", 200, "# HELP", "/metrics get 200"},
		{"GET", "/index.html", 404, "404 page not found", "unmatched get 404"},
		{"GET", "/healthz/extra", 404, "404 page not found", "unmatched get 404"},
		{"POST", "/", 405, "Method Not Allowed", "unmatched post 405"},
		{"DELETE", "/healthz", 405, "Method Not Allowed", "unmatched delete 405"},
		{"GET", "//healthz", 404, "404 page not found", "unmatched get 404"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			h, m := newTestServer(t)
			rec := get(h, tt.method, tt.target)

			if rec.Code != tt.code || !strings.HasPrefix(rec.Body.String(), tt.bodyPrefix) {
				t.Errorf("%s %s = %d %.40q, want %d %q...", tt.method, tt.target, rec.Code, rec.Body.String(), tt.code, tt.bodyPrefix)
			}
			if got := requestsTotal(t, m); got[tt.series] != 1 || len(got) != 1 {
				t.Errorf("http_requests_total = %v, want only {%s} = 1", got, tt.series)
			}
		})
	}
}

func TestAnotherMethodOnAKnownPathSaysWhichMethodsAreAllowed(t *testing.T) {
	h, _ := newTestServer(t)
	rec := get(h, "POST", "/healthz")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /healthz = %d with Allow %q, want 405 with Allow \"GET, HEAD\"", rec.Code, rec.Header().Get("Allow"))
	}
	if rec := get(h, "GET", "/nowhere"); rec.Header().Get("Allow") != "" {
		t.Errorf("a 404 carries Allow %q", rec.Header().Get("Allow"))
	}
}

func TestMetricsExposeTheContract(t *testing.T) {
	h, _ := newTestServer(t)
	for range 3 {
		get(h, "GET", "/")
	}
	body := get(h, "GET", "/metrics").Body.String()

	for _, want := range []string{
		`# TYPE http_requests_total counter`,
		`http_requests_total{code="200",handler="/",method="get"} 3`,
		`# TYPE http_request_duration_seconds histogram`,
		`http_request_duration_seconds_bucket{code="200",handler="/",method="get",le="0.1"} 3`,
		`http_request_duration_seconds_bucket{code="200",handler="/",method="get",le="0.25"} 3`,
		`http_request_duration_seconds_bucket{code="200",handler="/",method="get",le="0.5"} 3`,
		`# TYPE http_requests_in_flight gauge`,
		`http_requests_in_flight 1`, // the scrape itself
		`build_info{commit="test",goversion="go",version="test"} 1`,
		`# TYPE hello_counter_total counter`,
		`hello_counter_total 3`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestHelloCounterTotalEqualsTheCounterInTheAnswer(t *testing.T) {
	h, m := newTestServer(t)
	var last string
	for range 7 {
		last = get(h, "GET", "/").Body.String()
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "hello_counter_total" {
			if v, want := mf.GetMetric()[0].GetCounter().GetValue(), strings.TrimPrefix(last, "Hello, World! Counter: "); fmt.Sprint(v) != want {
				t.Errorf("hello_counter_total = %v, last answer says %s", v, want)
			}
			if mf.GetType() != dto.MetricType_COUNTER {
				t.Errorf("hello_counter_total is a %v, want a counter", mf.GetType())
			}
			return
		}
	}
	t.Error("hello_counter_total is not exported")
}

func TestTenThousandUnknownPathsAddNotASingleSeries(t *testing.T) {
	h, m := newTestServer(t)
	get(h, "GET", "/first-unknown") // creates the unmatched series once
	before := seriesCount(t, m)

	for i := range 10_000 {
		if rec := get(h, "GET", fmt.Sprintf("/unknown/%d?q=%d", i, i)); rec.Code != http.StatusNotFound {
			t.Fatalf("GET /unknown/%d = %d, want 404", i, rec.Code)
		}
	}

	if after := seriesCount(t, m); after != before {
		t.Errorf("10,000 unknown paths changed the series count from %d to %d", before, after)
	}
	if got := requestsTotal(t, m)["unmatched get 404"]; got != 10_001 {
		t.Errorf("http_requests_total{handler=unmatched,method=get,code=404} = %v, want 10001", got)
	}
}

func TestArbitraryMethodsAddNotASingleSeries(t *testing.T) {
	h, m := newTestServer(t)
	get(h, "FIRST", "/") // creates {unmatched, unknown, 405} once
	before := seriesCount(t, m)

	for i := range 1_000 {
		get(h, fmt.Sprintf("M%d", i), "/")
	}

	if after := seriesCount(t, m); after != before {
		t.Errorf("1,000 distinct methods changed the series count from %d to %d", before, after)
	}
	if got := requestsTotal(t, m)["unmatched unknown 405"]; got != 1_001 {
		t.Errorf("http_requests_total{handler=unmatched,method=unknown,code=405} = %v, want 1001", got)
	}
}

// The whole stack in process: router, instrumentation and handler, for GET /.
