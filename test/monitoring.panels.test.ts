/**
 * How the hello dashboards read in Grafana: the time range and refresh each opens with, the variables' labels and
 * ordering, the link between the dashboards, and for every panel its kind, place, unit, decimals, colour thresholds
 * and series names. A change to any of these changes what an on-call engineer sees, so each is stated here; the
 * queries themselves are in monitoring.dashboards.test.ts and, against the real service, monitoring.live.test.ts.
 */
import * as assert from "node:assert/strict";
import { DashboardFile, dashboards } from "../monitoring/dashboards";
import { DEFAULT_SLO } from "../monitoring/slo";
import { panelsOf, variablesOf } from "./monitoring/dashboardQueries";

const [overview, slo] = dashboards({ slo: DEFAULT_SLO });

/** What a reader sees of one panel. */
interface PanelView {
    readonly type: string;
    readonly title: string;
    /** Grid place and size: [x, y, w, h]. */
    readonly grid: readonly [number, number, number, number];
    readonly unit: string;
    readonly decimals?: number;
    /** Colour steps above the base green: [value, colour]. */
    readonly thresholds?: readonly (readonly [number, string])[];
    /** Series names (legend format), one per query, in query order; `undefined` where Grafana names it. */
    readonly legends: readonly (string | undefined)[];
}

interface PanelJson {
    type: string;
    title: string;
    id: number;
    gridPos: { x: number; y: number; w: number; h: number };
    fieldConfig: { defaults: { unit: string; decimals?: number; min?: number; max?: number; thresholds: { mode: string; steps: { value: number | null; color: string }[] }; custom?: any } };
    options: any;
    targets: { refId: string; legendFormat?: string; range?: boolean }[];
}

function panels(d: DashboardFile): PanelJson[] {
    return panelsOf(d) as unknown as PanelJson[];
}

function view(p: PanelJson): PanelView {
    const d = p.fieldConfig.defaults;
    const steps = d.thresholds.steps.slice(1).map((s) => [s.value, s.color] as const);
    return {
        type: p.type,
        title: p.title,
        grid: [p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h],
        unit: d.unit,
        ...(d.decimals === undefined ? {} : { decimals: d.decimals }),
        ...(steps.length === 0 ? {} : { thresholds: steps as [number, string][] }),
        legends: p.targets.map((t) => t.legendFormat),
    };
}

const BURN = [[1, "yellow"], [3, "orange"], [6, "red"], [14.4, "dark-red"]] as const;
const BUDGET = [[0, "red"], [0.25, "orange"], [0.5, "green"]] as const;
const BURN_WINDOWS = ["5m", "1h", "6h", "1d", "3d"];

describe("monitoring: how the dashboards read in Grafana", function () {
    it("opens the overview on the last hour, refreshing every 30s, and the SLO dashboard on the last 7 days, every minute", function () {
        const settings = (d: DashboardFile) => {
            const j = d.json as any;
            return { time: j.time, refresh: j.refresh, tags: j.tags, editable: j.editable, graphTooltip: j.graphTooltip };
        };
        // graphTooltip 1: a shared crosshair, so a spike lines up across panels.
        assert.deepEqual(settings(overview), { time: { from: "now-1h", to: "now" }, refresh: "30s", tags: ["hello"], editable: true, graphTooltip: 1 });
        assert.deepEqual(settings(slo), { time: { from: "now-7d", to: "now" }, refresh: "1m", tags: ["hello", "slo"], editable: true, graphTooltip: 1 });
    });

    it("describes each dashboard, the SLO one with the stack's window", function () {
        assert.equal((overview.json as any).description, "RED signals, saturation and the hello counter of the hello service, from its own /metrics.");
        assert.equal((slo.json as any).description, "Service level objectives of the hello service over 30d: attainment, error budget and burn rates.");
    });

    it("links each dashboard to the other hello dashboards, keeping the time range and the chosen variables", function () {
        for (const d of [overview, slo]) {
            const links = (d.json as any).links as any[];
            assert.deepEqual(links.map((l) => [l.title, l.type, l.tags, l.asDropdown, l.includeVars, l.keepTime]), [
                ["hello dashboards", "dashboards", ["hello"], false, true, true],
            ], d.title);
        }
    });

    it("labels the variables, lists namespaces and jobs alphabetically and refreshes them with the time range", function () {
        for (const d of [overview, slo]) {
            const vars = variablesOf(d) as any[];
            assert.deepEqual(vars.map((v) => [v.name, v.label]), [["datasource", "Data source"], ["namespace", "Namespace"], ["job", "Job"]], d.title);
            assert.equal(vars[1].query, "label_values(http_request_duration_seconds_count, namespace)");
            assert.equal(vars[2].query, 'label_values(http_request_duration_seconds_count{namespace="$namespace"}, job)');
            assert.deepEqual(vars[2].current, { text: "hello", value: "hello" });
            // refresh 2: on time range change (a namespace that appeared shows up); sort 1: alphabetical, ascending.
            for (const v of vars.slice(1)) assert.deepEqual([v.refresh, v.sort], [2, 1], `${d.title}: ${v.name}`);
        }
    });

    it("groups the overview's panels in rows: Now, Traffic and errors, Latency and concurrency, Resources, Hello counter", function () {
        const rows = (overview.json as any).panels.filter((p: any) => p.type === "row").map((p: any) => p.title);
        assert.deepEqual(rows, ["Now", "Traffic and errors", "Latency and concurrency", "Resources", "Hello counter"]);
        const sloRows = (slo.json as any).panels.filter((p: any) => p.type === "row").map((p: any) => p.title);
        assert.deepEqual(sloRows, [
            "Availability: requests answered without a 5xx, over 30d",
            "Latency: requests answered within the threshold, over 30d",
        ]);
    });

    it("numbers rows and panels 1, 2, 3, ... in reading order, so ids stay stable", function () {
        for (const d of [overview, slo]) {
            const ids = (d.json as any).panels.map((p: any) => p.id);
            assert.deepEqual(ids, ids.map((_: unknown, i: number) => i + 1), d.title);
        }
    });

    it("shows on the overview each signal in its unit, with colours where a value is bad", function () {
        assert.deepEqual(panels(overview).map(view), [
            { type: "stat", title: "Requests/s", grid: [0, 1, 4, 4], unit: "reqps", legends: [undefined] },
            { type: "stat", title: "Error ratio (5xx)", grid: [4, 1, 4, 4], unit: "percentunit", decimals: 2, thresholds: [[0.001, "orange"], [0.05, "red"]], legends: [undefined] },
            { type: "stat", title: "p99 latency", grid: [8, 1, 4, 4], unit: "s", thresholds: [[0.25, "orange"], [0.5, "red"]], legends: [undefined] },
            { type: "stat", title: "Pods up", grid: [12, 1, 4, 4], unit: "none", legends: [undefined] },
            { type: "stat", title: "Hellos served", grid: [16, 1, 4, 4], unit: "none", legends: [undefined] },
            { type: "stat", title: "Version", grid: [20, 1, 4, 4], unit: "none", legends: ["{{version}}"] },
            { type: "timeseries", title: "Requests/s by handler and code", grid: [0, 6, 12, 8], unit: "reqps", legends: ["{{handler}} {{code}}"] },
            { type: "timeseries", title: "Error ratio (5xx)", grid: [12, 6, 12, 8], unit: "percentunit", thresholds: [[0.05, "red"]], legends: ["5xx ratio"] },
            { type: "timeseries", title: "Latency", grid: [0, 15, 12, 8], unit: "s", legends: ["p50", "p90", "p99"] },
            { type: "timeseries", title: "In-flight requests", grid: [12, 15, 12, 8], unit: "none", legends: ["{{pod}}"] },
            { type: "timeseries", title: "CPU", grid: [0, 24, 8, 8], unit: "none", legends: ["{{pod}}"] },
            { type: "timeseries", title: "Memory (RSS)", grid: [8, 24, 8, 8], unit: "bytes", legends: ["{{pod}} RSS", "{{pod}} heap in use"] },
            { type: "timeseries", title: "Goroutines", grid: [16, 24, 8, 8], unit: "none", legends: ["{{pod}}"] },
            { type: "timeseries", title: "Hello counter", grid: [0, 33, 12, 8], unit: "none", legends: ["{{pod}}"] },
            { type: "timeseries", title: "Hellos/s", grid: [12, 33, 12, 8], unit: "none", legends: ["{{pod}}"] },
        ]);
    });

    it("shows on the SLO dashboard objectives and attainment in percent, budgets as gauges and burn rates against the alert factors", function () {
        assert.deepEqual(panels(slo).map(view), [
            { type: "stat", title: "Objective", grid: [0, 1, 4, 5], unit: "percentunit", decimals: 3, legends: [undefined] },
            { type: "stat", title: "Availability over 30d", grid: [4, 1, 4, 5], unit: "percentunit", decimals: 3, legends: [undefined] },
            { type: "gauge", title: "Error budget remaining", grid: [8, 1, 4, 5], unit: "percentunit", decimals: 1, thresholds: BUDGET, legends: [undefined] },
            { type: "timeseries", title: "Availability burn rate", grid: [12, 1, 12, 10], unit: "none", thresholds: BURN, legends: BURN_WINDOWS },
            { type: "stat", title: "Objective", grid: [0, 12, 4, 5], unit: "percentunit", decimals: 2, legends: [undefined] },
            { type: "stat", title: "Threshold", grid: [4, 12, 4, 5], unit: "s", legends: [undefined] },
            { type: "stat", title: "Within threshold over 30d", grid: [8, 12, 4, 5], unit: "percentunit", decimals: 3, legends: [undefined] },
            { type: "gauge", title: "Error budget remaining", grid: [12, 12, 4, 5], unit: "percentunit", decimals: 1, thresholds: BUDGET, legends: [undefined] },
            { type: "timeseries", title: "Latency burn rate", grid: [16, 12, 8, 10], unit: "none", thresholds: BURN, legends: BURN_WINDOWS },
        ]);
    });

    it("starts every panel's colours at green, with absolute steps", function () {
        for (const p of [...panels(overview), ...panels(slo)]) {
            const t = p.fieldConfig.defaults.thresholds;
            assert.deepEqual([t.mode, t.steps[0]], ["absolute", { value: null, color: "green" }], p.title);
        }
    });

    it("draws time series as thin lines without points, legend listed below, tooltip with every series, largest first", function () {
        for (const p of [...panels(overview), ...panels(slo)].filter((x) => x.type === "timeseries")) {
            const custom = p.fieldConfig.defaults.custom;
            assert.deepEqual([custom.fillOpacity, custom.lineWidth, custom.showPoints], [10, 1, "never"], p.title);
            assert.deepEqual(p.options.legend, { displayMode: "list", placement: "bottom", showLegend: true, calcs: [] }, p.title);
            assert.deepEqual(p.options.tooltip, { mode: "multi", sort: "desc" }, p.title);
        }
    });

    it("stacks only the requests by handler and code, and dashes the threshold lines of the error ratio and the burn rates", function () {
        const series = [...panels(overview), ...panels(slo)].filter((x) => x.type === "timeseries");
        assert.deepEqual(series.filter((p) => p.fieldConfig.defaults.custom.stacking?.mode === "normal").map((p) => p.title),
            ["Requests/s by handler and code"]);
        assert.deepEqual(series.filter((p) => p.fieldConfig.defaults.custom.thresholdsStyle?.mode === "dashed").map((p) => p.title),
            ["Error ratio (5xx)", "Availability burn rate", "Latency burn rate"]);
    });

    it("shows stats as the last value, coloured, over a sparkline; Version with the version's name", function () {
        for (const p of [...panels(overview), ...panels(slo)].filter((x) => x.type === "stat")) {
            const o = p.options;
            assert.deepEqual([o.graphMode, o.colorMode, o.reduceOptions], ["area", "value", { calcs: ["lastNotNull"], values: false }], p.title);
            assert.equal(o.textMode, p.title === "Version" ? "value_and_name" : "value", p.title);
        }
    });

    it("draws budgets as gauges from 0% to 100% with threshold markers, on the last value", function () {
        const gauges = panels(slo).filter((x) => x.type === "gauge");
        assert.equal(gauges.length, 2);
        for (const p of gauges) {
            assert.deepEqual([p.fieldConfig.defaults.min, p.fieldConfig.defaults.max], [0, 1], p.title);
            assert.equal(p.options.showThresholdMarkers, true);
            assert.deepEqual(p.options.reduceOptions, { calcs: ["lastNotNull"], values: false });
        }
    });

    it("names each panel's queries A, B, C, ... and runs them over the time range", function () {
        for (const p of [...panels(overview), ...panels(slo)]) {
            assert.deepEqual(p.targets.map((t) => t.refId), p.targets.map((_, i) => String.fromCharCode(65 + i)), p.title);
            for (const t of p.targets) assert.equal(t.range, true, p.title);
        }
    });
});
