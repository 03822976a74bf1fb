import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentType, withFormerType } from "./componentType";
import { CHART_CHECKSUM_ANNOTATION, chartChecksum, DASHBOARDS_CHART, projectPath, readChartYaml } from "./localChart";
import { DashboardLabel, DEFAULT_DASHBOARD_LABEL } from "./monitoringStack";

/** A Prometheus rule group, as in a rule file's `groups:` list. */
export interface RuleGroup {
    /** Unique among the groups of one PrometheusRule. */
    readonly name: string;
    /** How often its rules are evaluated. @default Prometheus' evaluation_interval */
    readonly interval?: string;
    /** Recording (`record`) and alerting (`alert`) rules, as in a rule file. */
    readonly rules: readonly Record<string, unknown>[];
}

/** A Grafana dashboard model, to be shipped to Grafana's dashboard sidecar. */
export interface Dashboard {
    /**
     * Stable id, unique in the Grafana instance (the dashboards of every service share it); also names the ConfigMap
     * (`dashboard-<uid>`, unique in its namespace) and the file the sidecar writes (`<uid>.json`).
     */
    readonly uid: string;
    /** The dashboard's title. */
    readonly title: string;
    /** The dashboard JSON model. */
    readonly json: object;
}

/** Inputs of {@link ServiceMonitoring}. */
export interface ServiceMonitoringArgs {
    /** Namespace of the service; the PrometheusRule and the dashboards' release go there. */
    readonly namespace: pulumi.Input<string>;
    /** Alerting and recording rules, evaluated by the Prometheus that scrapes the service. */
    readonly ruleGroups: readonly RuleGroup[];
    /** The service's dashboards. */
    readonly dashboards: readonly Dashboard[];
    /** Grafana folder of the dashboards, named for the service. */
    readonly folder: string;
    /**
     * What installs the Prometheus Operator CRDs (a `MonitoringStack`): the PrometheusRule waits for it (it cannot be
     * created before its CRD). The dashboards do not: Grafana's sidecar reads their ConfigMaps whenever it starts.
     * @default none: the CRDs exist already (a kube-prometheus-stack the cluster runs)
     */
    readonly monitoringStack?: pulumi.Resource;
    /**
     * Labels added to the PrometheusRule and the dashboards' ConfigMaps: those the Prometheus selects rules by
     * (`MonitoringTarget.selectorLabels`, e.g. `{ release: "kube-prometheus-stack" }`).
     * @default {}
     */
    readonly labels?: Readonly<Record<string, string>>;
    /**
     * The label Grafana's sidecar loads dashboard ConfigMaps by (`MonitoringTarget.dashboardLabel`).
     * @default `grafana_dashboard: "1"`
     */
    readonly dashboardLabel?: DashboardLabel;
    /**
     * Seconds the dashboards' release may take before Helm rolls it back.
     * @default 300
     */
    readonly timeoutSeconds?: number;
}

/** The PrometheusRule manifest's spec for a set of groups: plain data, checked by promtool in the tests. */
export function prometheusRuleSpec(groups: readonly RuleGroup[]) {
    return { groups: groups.map((g) => ({ ...g, rules: [...g.rules] })) };
}

/**
 * The values of charts/grafana-dashboards for a set of dashboards: each dashboard a structured value (not a JSON
 * string), so that a preview of a change to one panel shows that panel's changed fields, not the whole dashboard.
 * `chartChecksum` (of the chart's files) makes a template change show in the preview and upgrade the release.
 */
export function dashboardValues(dashboards: readonly Dashboard[], folder: string, opts: {
    readonly labels?: Readonly<Record<string, string>>;
    readonly chartChecksum?: string;
    readonly dashboardLabel?: DashboardLabel;
} = {}) {
    const sidecar = opts.dashboardLabel ?? DEFAULT_DASHBOARD_LABEL;
    return {
        folder,
        sidecarLabel: { name: sidecar.name, value: sidecar.value },
        labels: { ...opts.labels },
        annotations: opts.chartChecksum ? { [CHART_CHECKSUM_ANNOTATION]: opts.chartChecksum } : {},
        dashboards: Object.fromEntries(dashboards.map((d) => [d.uid, d.json])),
    };
}

/**
 * Wires a service into kube-prometheus-stack: its alert rules as the PrometheusRule `<name>-rules`, and its dashboards
 * as ConfigMaps for the Grafana sidecar, installed by the release `<name>-dashboards` of charts/grafana-dashboards. Both
 * are named after the component, so services of different names can share a namespace.
 */
export class ServiceMonitoring extends pulumi.ComponentResource {
    /** Name of the PrometheusRule: `<name>-rules`. */
    readonly ruleName: pulumi.Output<string>;
    /** The Helm release of the dashboards' ConfigMaps: `<name>-dashboards`. */
    readonly dashboardsRelease: k8s.helm.v3.Release;

    constructor(name: string, args: ServiceMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ServiceMonitoring"), name, {}, withFormerType("ServiceMonitoring", opts));
        const labels = { "app.kubernetes.io/part-of": name, ...args.labels };

        const rule = new k8s.apiextensions.CustomResource(`${name}-rules`, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: {
                name: `${name}-rules`,
                namespace: args.namespace,
                labels,
                // The provider deletes in the foreground by default: the object then waits for the garbage collector,
                // which can take its resync period (measured: 12 s of a 17 s destroy) to notice a new kind. A rule
                // has no dependents to wait for.
                annotations: { "pulumi.com/deletionPropagationPolicy": "background" },
            },
            spec: prometheusRuleSpec(args.ruleGroups),
        }, { parent: this, dependsOn: args.monitoringStack ? [args.monitoringStack] : [] });

        this.dashboardsRelease = new k8s.helm.v3.Release(`${name}-dashboards`, {
            name: `${name}-dashboards`,
            chart: DASHBOARDS_CHART,
            version: readChartYaml(projectPath(DASHBOARDS_CHART)).version,
            namespace: args.namespace,
            values: dashboardValues(args.dashboards, args.folder, {
                labels, chartChecksum: chartChecksum(projectPath(DASHBOARDS_CHART)), dashboardLabel: args.dashboardLabel,
            }),
            // A dashboard's nulls (a threshold's base step) reach Grafana as they are.
            allowNullValues: true,
            atomic: true,
            cleanupOnFail: true,
            timeout: args.timeoutSeconds ?? 300,
            maxHistory: 10,
        // Not after the monitoring stack: ConfigMaps need no CRD, and the sidecar reads them whenever it starts.
        }, { parent: this });

        this.ruleName = rule.metadata.name;
        this.registerOutputs({ ruleName: this.ruleName });
    }
}
