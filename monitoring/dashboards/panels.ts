/**
 * The pieces both dashboards share: the data source and the namespace/job variables, and panel builders with this
 * project's defaults (Prometheus targets on `$datasource`, legends shown, stable panel ids).
 */
import type { Builder, Dataquery } from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as gauge from "@grafana/grafana-foundation-sdk/gauge";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

/** Every panel and variable queries the Prometheus chosen in the `datasource` variable. */
export const DATASOURCE: dashboard.DataSourceRef = { type: "prometheus", uid: "${datasource}" };

/** The series of the selected service: the ServiceMonitor gives every series `namespace` and `job`. */
export const SERVICE = `namespace="$namespace", job="$job"`;

/**
 * User traffic: every handler but the kubelet's probes and Prometheus's scrapes. The same filter as the RED and SLO
 * rules (monitoring/rules/hello-red.rules.yaml), so dashboards and alerts agree.
 */
export const USER_HANDLERS = `handler!~"/healthz|/readyz|/metrics"`;

/** The default of the `job` variable: the job label of the hello service. */
export const DEFAULT_JOB = "hello";

/**
 * The template variables: data source, namespace, job. Namespace and job list what has
 * `http_request_duration_seconds_count`, i.e. the services instrumented like hello.
 */
export function variables(): Builder<dashboard.VariableModel>[] {
    return [
        new dashboard.DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"),
        new dashboard.QueryVariableBuilder("namespace")
            .label("Namespace")
            .datasource(DATASOURCE)
            .query("label_values(http_request_duration_seconds_count, namespace)")
            .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
            .sort(dashboard.VariableSort.AlphabeticalAsc),
        new dashboard.QueryVariableBuilder("job")
            .label("Job")
            .datasource(DATASOURCE)
            .query(`label_values(http_request_duration_seconds_count{namespace="$namespace"}, job)`)
            .current({ text: DEFAULT_JOB, value: DEFAULT_JOB })
            .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
            .sort(dashboard.VariableSort.AlphabeticalAsc),
    ];
}

/** A link to the other dashboards of the service (same tag), keeping time range and variables. */
export function serviceLinks(tag: string): Builder<dashboard.DashboardLink> {
    return new dashboard.DashboardLinkBuilder(`${tag} dashboards`)
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([tag])
        .asDropdown(false)
        .includeVars(true)
        .keepTime(true);
}

/** One query of a panel. */
export interface Target {
    readonly expr: string;
    /** Legend, e.g. `{{pod}}`. @default none: Grafana names the series by its labels */
    readonly legend?: string;
}

/** What every panel states. */
export interface PanelOptions {
    readonly title: string;
    /** Shown in the panel's info tooltip: what it shows and what counts. */
    readonly description: string;
    /** Grafana unit id, e.g. `reqps`, `s`, `percentunit`, `bytes`. */
    readonly unit: string;
    readonly targets: readonly Target[];
    /** Width in grid columns (of 24). */
    readonly width: number;
    /** Height in grid rows. */
    readonly height: number;
    /** Threshold steps above the base colour (green), e.g. `[{ value: 0.01, color: "red" }]`. @default none */
    readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
    /** Decimals shown. @default Grafana's choice */
    readonly decimals?: number;
}

/** Panel builders numbering panels in the order they are created, so ids are stable from one build to the next. */
export class Panels {
    private nextId = 1;

    row(title: string) {
        return new dashboard.RowBuilder(title).id(this.nextId++);
    }

    timeseries(o: PanelOptions & { readonly stack?: boolean; readonly thresholdLines?: boolean }) {
        const p = this.begin(new timeseries.PanelBuilder(), o)
            .fillOpacity(10)
            .lineWidth(1)
            .showPoints(common.VisibilityMode.Never)
            .legend(
                new common.VizLegendOptionsBuilder()
                    .showLegend(true)
                    .displayMode(common.LegendDisplayMode.List)
                    .placement(common.LegendPlacement.Bottom),
            )
            .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
        this.end(p, o);
        if (o.stack) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
        if (o.thresholdLines) {
            p.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
        }
        return p;
    }

    stat(o: PanelOptions & { readonly textMode?: common.BigValueTextMode }) {
        const p = this.begin(new stat.PanelBuilder(), o)
            .graphMode(common.BigValueGraphMode.Area)
            .colorMode(common.BigValueColorMode.Value)
            .textMode(o.textMode ?? common.BigValueTextMode.Value)
            .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
        return this.end(p, o);
    }

    gauge(o: PanelOptions & { readonly min: number; readonly max: number }) {
        const p = this.begin(new gauge.PanelBuilder(), o)
            .min(o.min)
            .max(o.max)
            .showThresholdMarkers(true)
            .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
        return this.end(p, o);
    }

    /** What every panel starts with: the next id, its words, the data source, the unit and its size. */
    private begin<P extends PanelBuilder>(p: P, o: PanelOptions): P {
        return p.id(this.nextId++).title(o.title).description(o.description).datasource(DATASOURCE).unit(o.unit)
            .span(o.width).height(o.height);
    }

    /** What every panel ends with: its colour steps, its queries and its decimals. */
    private end<P extends PanelBuilder>(p: P, o: PanelOptions): P {
        p.thresholds(thresholds(o.thresholds)).targets(queries(o.targets));
        if (o.decimals !== undefined) p.decimals(o.decimals);
        return p;
    }
}

/** The calls the SDK's timeseries, stat and gauge panel builders have in common. */
interface PanelBuilder {
    id(id: number): this;
    title(title: string): this;
    description(description: string): this;
    datasource(datasource: dashboard.DataSourceRef): this;
    unit(unit: string): this;
    span(w: number): this;
    height(h: number): this;
    thresholds(thresholds: Builder<dashboard.ThresholdsConfig>): this;
    targets(targets: Builder<Dataquery>[]): this;
    decimals(decimals: number): this;
}

function thresholds(steps: PanelOptions["thresholds"] = []) {
    return new dashboard.ThresholdsConfigBuilder()
        .mode(dashboard.ThresholdsMode.Absolute)
        .steps([{ value: null, color: "green" }, ...steps.map((s) => ({ value: s.value, color: s.color }))]);
}

function queries(targets: readonly Target[]) {
    return targets.map((t, i) => {
        const q = new prometheus.DataqueryBuilder()
            .datasource(DATASOURCE)
            .refId(String.fromCharCode(65 + i))
            .expr(t.expr)
            .range();
        if (t.legend !== undefined) q.legendFormat(t.legend);
        return q;
    });
}
