/** The hello SLO dashboard: objectives, attainment and error budget over the SLO window, and burn rates. */
import { DEFAULT_SLO, SloSettings } from "../slo";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { Panels, SERVICE, USER_HANDLERS, serviceLinks, variables } from "./panels";

export const SLO_UID = "hello-slo";

/** The burn-rate windows shown, each a recorded `slo:error_budget:burn_rate<window>`. */
const BURN_WINDOWS = ["5m", "1h", "6h", "1d", "3d"] as const;

/** The alerting burn-rate factors, drawn as threshold lines. */
const BURN_THRESHOLDS = [
    { value: 1, color: "yellow" },
    { value: 3, color: "orange" },
    { value: 6, color: "red" },
    { value: 14.4, color: "dark-red" },
];

const BUDGET_THRESHOLDS = [{ value: 0, color: "red" }, { value: 0.25, color: "orange" }, { value: 0.5, color: "green" }];

/**
 * The objectives and the latency threshold are the series the alerts compare against (recorded by the generated
 * group hello.slo-objectives), so the dashboard shows what Prometheus pages on. The window is the stack's.
 */
export function sloDashboard(slo: SloSettings = DEFAULT_SLO): dashboard.Dashboard {
    const w = slo.window;
    const p = new Panels();
    const objective = (name: string) => `max(slo:objective:ratio{job="$job", slo="${name}"})`;
    const requests = (range: string) => `sum(increase(http_requests_total{${SERVICE}, ${USER_HANDLERS}}[${range}]))`;
    const failed = (range: string) =>
        `(sum(increase(http_requests_total{${SERVICE}, ${USER_HANDLERS}, code=~"5.."}[${range}])) or vector(0))`;
    // The bucket whose `le` is the threshold: the same join as the latency SLI rules (either `le` spelling matches).
    const fast = (range: string) =>
        `sum(increase(http_request_duration_seconds_bucket{${SERVICE}, ${USER_HANDLERS}}[${range}]) and on (job, le) slo:latency_threshold:seconds)`;
    const counted = (range: string) => `sum(increase(http_request_duration_seconds_count{${SERVICE}, ${USER_HANDLERS}}[${range}]))`;
    const availability = `1 - ${failed(w)} / ${requests(w)}`;
    const withinThreshold = `${fast(w)} / ${counted(w)}`;
    const burn = (name: string) =>
        BURN_WINDOWS.map((win) => ({
            expr: `slo:error_budget:burn_rate${win}{${SERVICE}, slo="${name}"}`,
            legend: win,
        }));

    return new dashboard.DashboardBuilder("hello: SLOs")
        .uid(SLO_UID)
        .description(`Service level objectives of the hello service over ${w}: attainment, error budget and burn rates.`)
        .tags(["hello", "slo"])
        .editable()
        .tooltip(dashboard.DashboardCursorSync.Crosshair)
        .time({ from: "now-7d", to: "now" })
        .refresh("1m")
        .variables(variables())
        .link(serviceLinks("hello"))

        .withRow(p.row(`Availability: requests answered without a 5xx, over ${w}`))
        .withPanel(p.stat({
            title: "Objective",
            description: "The stack's availability objective (slo:objective:ratio), as the alerts use it.",
            unit: "percentunit", width: 4, height: 5, decimals: 3,
            targets: [{ expr: objective("availability") }],
        }))
        .withPanel(p.stat({
            title: `Availability over ${w}`,
            description: `Share of user requests (every handler but /healthz, /readyz, /metrics) not answered with a 5xx over the last ${w}.`,
            unit: "percentunit", width: 4, height: 5, decimals: 3,
            targets: [{ expr: availability }],
        }))
        .withPanel(p.gauge({
            title: "Error budget remaining",
            description: `Share of the ${w} error budget (1 - objective) not yet spent. Below 0: the objective is missed.`,
            unit: "percentunit", width: 4, height: 5, decimals: 1, min: 0, max: 1,
            thresholds: BUDGET_THRESHOLDS,
            targets: [{ expr: `1 - (1 - (${availability})) / (1 - ${objective("availability")})` }],
        }))
        .withPanel(p.timeseries({
            title: "Availability burn rate",
            description: "How fast the error budget burns: 1 spends it in exactly the window. Alerts page above 14.4 (1h and 5m) or 6 (6h and 30m), open a ticket above 3 (1d and 2h) or 1 (3d and 6h).",
            unit: "none", width: 12, height: 10, thresholdLines: true, thresholds: BURN_THRESHOLDS,
            targets: burn("availability"),
        }))

        .withRow(p.row(`Latency: requests answered within the threshold, over ${w}`))
        .withPanel(p.stat({
            title: "Objective",
            description: "The stack's latency objective (slo:objective:ratio): share of requests within the threshold.",
            unit: "percentunit", width: 4, height: 5, decimals: 2,
            targets: [{ expr: objective("latency") }],
        }))
        .withPanel(p.stat({
            title: "Threshold",
            description: "The stack's latency threshold (slo:latency_threshold:seconds), a histogram bucket boundary.",
            unit: "s", width: 4, height: 5,
            targets: [{ expr: `max(slo:latency_threshold:seconds{job="$job"})` }],
        }))
        .withPanel(p.stat({
            title: `Within threshold over ${w}`,
            description: `Share of user requests answered within the threshold over the last ${w}.`,
            unit: "percentunit", width: 4, height: 5, decimals: 3,
            targets: [{ expr: withinThreshold }],
        }))
        .withPanel(p.gauge({
            title: "Error budget remaining",
            description: `Share of the ${w} latency error budget (1 - objective) not yet spent. Below 0: the objective is missed.`,
            unit: "percentunit", width: 4, height: 5, decimals: 1, min: 0, max: 1,
            thresholds: BUDGET_THRESHOLDS,
            targets: [{ expr: `1 - (1 - ${withinThreshold}) / (1 - ${objective("latency")})` }],
        }))
        .withPanel(p.timeseries({
            title: "Latency burn rate",
            description: "How fast the latency error budget burns; same windows and factors as availability.",
            unit: "none", width: 8, height: 10, thresholdLines: true, thresholds: BURN_THRESHOLDS,
            targets: burn("latency"),
        }))
        .build();
}
