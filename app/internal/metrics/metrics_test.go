package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// families gathers the registry into name -> family.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	return byName
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func TestNewExportsBuildInfoAndTheRuntimeCollectors(t *testing.T) {
	m, err := New(BuildInfo{Version: "1.2.3", Commit: "abc123", GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	fams := families(t, m)

	bi := fams["build_info"]
	if bi == nil || bi.GetType() != dto.MetricType_GAUGE || len(bi.GetMetric()) != 1 {
		t.Fatalf("build_info = %v, want one gauge", bi)
	}
	want := map[string]string{"version": "1.2.3", "commit": "abc123", "goversion": "go1.26.8"}
	if got := labelsOf(bi.GetMetric()[0]); len(got) != len(want) || got["version"] != "1.2.3" ||
		got["commit"] != "abc123" || got["goversion"] != "go1.26.8" {
		t.Errorf("build_info labels = %v, want %v", got, want)
	}
	if v := bi.GetMetric()[0].GetGauge().GetValue(); v != 1 {
		t.Errorf("build_info = %v, want 1", v)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "http_requests_in_flight"} {
		if fams[name] == nil {
			t.Errorf("%s is missing from the registry", name)
		}
	}
}

func TestRegisterCounterFuncReadsTheValueAtScrapeTime(t *testing.T) {
	m, err := New(BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	if err := m.RegisterCounterFunc("hello_counter_total", "help", func() float64 { return n }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []float64{0, 42} {
		n = want
		c := families(t, m)["hello_counter_total"]
		if c.GetType() != dto.MetricType_COUNTER || c.GetMetric()[0].GetCounter().GetValue() != want {
			t.Errorf("hello_counter_total = %v, want counter %v", c, want)
		}
	}
	if err := m.RegisterCounterFunc("hello_counter_total", "help", func() float64 { return 0 }); err == nil {
		t.Error("registering the same name twice succeeded, want an error")
	}
}
