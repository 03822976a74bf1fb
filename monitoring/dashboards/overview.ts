/** The hello overview: traffic, errors, latency, saturation and the hello counter, from the service's own metrics. */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { Panels, SERVICE, USER_HANDLERS, serviceLinks, variables } from "./panels";

export const OVERVIEW_UID = "hello-overview";

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const requests = `http_requests_total{${SERVICE}, ${USER_HANDLERS}}`;
const failed = `http_requests_total{${SERVICE}, ${USER_HANDLERS}, code=~"5.."}`;
const buckets = `http_request_duration_seconds_bucket{${SERVICE}, ${USER_HANDLERS}}`;
// Without any 5xx yet there is no 5xx series: "or vector(0)" shows 0 instead of "No data".
const errorRatio = `(sum(${rate(failed)}) or vector(0)) / sum(${rate(requests)})`;
const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (${rate(buckets)}))`;

export function overviewDashboard(): dashboard.Dashboard {
    const p = new Panels();
    return new dashboard.DashboardBuilder("hello: overview")
        .uid(OVERVIEW_UID)
        .description("RED signals, saturation and the hello counter of the hello service, from its own /metrics.")
        .tags(["hello"])
        .editable()
        .tooltip(dashboard.DashboardCursorSync.Crosshair)
        .time({ from: "now-1h", to: "now" })
        .refresh("30s")
        .variables(variables())
        .link(serviceLinks("hello"))

        .withRow(p.row("Now"))
        .withPanel(p.stat({
            title: "Requests/s",
            description: "User requests per second: every handler but /healthz, /readyz and /metrics.",
            unit: "reqps", width: 4, height: 4,
            targets: [{ expr: `sum(${rate(requests)})` }],
        }))
        .withPanel(p.stat({
            title: "Error ratio (5xx)",
            description: "Share of user requests answered with a 5xx. 404s for unknown paths are not errors.",
            unit: "percentunit", width: 4, height: 4, decimals: 2,
            thresholds: [{ value: 0.001, color: "orange" }, { value: 0.05, color: "red" }],
            targets: [{ expr: errorRatio }],
        }))
        .withPanel(p.stat({
            title: "p99 latency",
            description: "99th percentile of user request latency, interpolated within histogram buckets.",
            unit: "s", width: 4, height: 4,
            thresholds: [{ value: 0.25, color: "orange" }, { value: 0.5, color: "red" }],
            targets: [{ expr: quantile(0.99) }],
        }))
        .withPanel(p.stat({
            title: "Pods up",
            description: "Pods Prometheus scrapes successfully.",
            unit: "none", width: 4, height: 4,
            targets: [{ expr: `sum(up{${SERVICE}})` }],
        }))
        .withPanel(p.stat({
            title: "Hellos served",
            description: "The hello counter: sum of every pod's hello_counter_total (a pod's counter restarts with the pod).",
            unit: "none", width: 4, height: 4,
            targets: [{ expr: `sum(hello_counter_total{${SERVICE}})` }],
        }))
        .withPanel(p.stat({
            title: "Version",
            description: "Versions running (build_info), with the number of pods each.",
            unit: "none", width: 4, height: 4,
            textMode: common.BigValueTextMode.ValueAndName,
            targets: [{ expr: `count by (version) (build_info{${SERVICE}})`, legend: "{{version}}" }],
        }))

        .withRow(p.row("Traffic and errors"))
        .withPanel(p.timeseries({
            title: "Requests/s by handler and code",
            description: "Every request, including probes (/healthz, /readyz), scrapes (/metrics) and unknown paths (unmatched).",
            unit: "reqps", width: 12, height: 8, stack: true,
            targets: [{ expr: `sum by (handler, code) (rate(http_requests_total{${SERVICE}}[$__rate_interval]))`, legend: "{{handler}} {{code}}" }],
        }))
        .withPanel(p.timeseries({
            title: "Error ratio (5xx)",
            description: "Share of user requests answered with a 5xx.",
            unit: "percentunit", width: 12, height: 8, thresholdLines: true,
            thresholds: [{ value: 0.05, color: "red" }],
            targets: [{ expr: errorRatio, legend: "5xx ratio" }],
        }))

        .withRow(p.row("Latency and concurrency"))
        .withPanel(p.timeseries({
            title: "Latency",
            description: "p50, p90 and p99 of user request latency, interpolated within histogram buckets (.005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 s).",
            unit: "s", width: 12, height: 8,
            targets: [
                { expr: quantile(0.5), legend: "p50" },
                { expr: quantile(0.9), legend: "p90" },
                { expr: quantile(0.99), legend: "p99" },
            ],
        }))
        .withPanel(p.timeseries({
            title: "In-flight requests",
            description: "Requests being served right now, per pod (http_requests_in_flight).",
            unit: "none", width: 12, height: 8,
            targets: [{ expr: `sum by (pod) (http_requests_in_flight{${SERVICE}})`, legend: "{{pod}}" }],
        }))

        .withRow(p.row("Resources"))
        .withPanel(p.timeseries({
            title: "CPU",
            description: "CPU used per pod, in cores (process_cpu_seconds_total).",
            unit: "none", width: 8, height: 8,
            targets: [{ expr: `sum by (pod) (${rate(`process_cpu_seconds_total{${SERVICE}}`)})`, legend: "{{pod}}" }],
        }))
        .withPanel(p.timeseries({
            title: "Memory (RSS)",
            description: "Resident memory per pod (process_resident_memory_bytes), and the Go heap in use.",
            unit: "bytes", width: 8, height: 8,
            targets: [
                { expr: `sum by (pod) (process_resident_memory_bytes{${SERVICE}})`, legend: "{{pod}} RSS" },
                { expr: `sum by (pod) (go_memstats_heap_inuse_bytes{${SERVICE}})`, legend: "{{pod}} heap in use" },
            ],
        }))
        .withPanel(p.timeseries({
            title: "Goroutines",
            description: "Goroutines per pod (go_goroutines). Steady growth under steady traffic is a leak.",
            unit: "none", width: 8, height: 8,
            targets: [{ expr: `sum by (pod) (go_goroutines{${SERVICE}})`, legend: "{{pod}}" }],
        }))

        .withRow(p.row("Hello counter"))
        .withPanel(p.timeseries({
            title: "Hello counter",
            description: "hello_counter_total per pod: the N in \"Hello, World! Counter: N\".",
            unit: "none", width: 12, height: 8,
            targets: [{ expr: `sum by (pod) (hello_counter_total{${SERVICE}})`, legend: "{{pod}}" }],
        }))
        .withPanel(p.timeseries({
            title: "Hellos/s",
            description: "Rate of the hello counter, per pod.",
            unit: "none", width: 12, height: 8,
            targets: [{ expr: `sum by (pod) (${rate(`hello_counter_total{${SERVICE}}`)})`, legend: "{{pod}}" }],
        }))
        .build();
}
