import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A Prometheus rule group, as in a rule file's `groups:` list. */
export interface RuleGroup {
    readonly name: string;
    readonly interval?: string;
    readonly rules: readonly Record<string, unknown>[];
}

/** A Grafana dashboard model, to be shipped to Grafana's dashboard sidecar. */
export interface Dashboard {
    /** Stable id; also names the ConfigMap and the file the sidecar writes. */
    readonly uid: string;
    readonly title: string;
    /** The dashboard JSON model. */
    readonly json: object;
}

/** Inputs of {@link ServiceMonitoring}. */
export interface ServiceMonitoringArgs {
    /** Namespace of the service; the PrometheusRule and the dashboard ConfigMaps go there. */
    readonly namespace: pulumi.Input<string>;
    /** Alerting and recording rules, evaluated by the Prometheus that scrapes the service. */
    readonly ruleGroups: readonly RuleGroup[];
    readonly dashboards: readonly Dashboard[];
    /** Grafana folder of the dashboards, named for the service. */
    readonly folder: string;
    /**
     * The monitoring stack that installs the Prometheus Operator CRDs and Grafana's sidecar; every object
     * here waits for it (a PrometheusRule cannot be created before its CRD).
     */
    readonly monitoringStack: pulumi.Resource;
    /**
     * Labels added to the PrometheusRule and ConfigMaps.
     * @default {}
     */
    readonly labels?: Readonly<Record<string, string>>;
}

/** The PrometheusRule manifest's spec for a set of groups: plain data, checked by promtool in the tests. */
export function prometheusRuleSpec(groups: readonly RuleGroup[]) {
    return { groups: groups.map((g) => ({ ...g, rules: [...g.rules] })) };
}

/** The ConfigMap data for one dashboard, labelled and annotated for the Grafana sidecar. */
export function dashboardConfigMap(dashboard: Dashboard, folder: string, labels: Readonly<Record<string, string>> = {}) {
    return {
        metadata: {
            name: `dashboard-${dashboard.uid}`,
            labels: { ...labels, grafana_dashboard: "1" },
            annotations: { grafana_folder: folder },
        },
        data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard.json) },
    };
}

/**
 * Wires a service into kube-prometheus-stack: its alert rules as a PrometheusRule and its dashboards as
 * ConfigMaps for the Grafana sidecar.
 */
export class ServiceMonitoring extends pulumi.ComponentResource {
    readonly ruleName: pulumi.Output<string>;
    readonly dashboardNames: pulumi.Output<string>[];

    constructor(name: string, args: ServiceMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hello:platform:ServiceMonitoring", name, {}, opts);
        const labels = { "app.kubernetes.io/part-of": name, ...args.labels };

        const rule = new k8s.apiextensions.CustomResource(`${name}-rules`, {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PrometheusRule",
            metadata: { name: `${name}-rules`, namespace: args.namespace, labels },
            spec: prometheusRuleSpec(args.ruleGroups),
        }, { parent: this, dependsOn: [args.monitoringStack] });

        const maps = args.dashboards.map((d) => {
            const cm = dashboardConfigMap(d, args.folder, labels);
            return new k8s.core.v1.ConfigMap(`${name}-${cm.metadata.name}`, {
                ...cm,
                metadata: { ...cm.metadata, namespace: args.namespace },
            }, { parent: this, dependsOn: [args.monitoringStack] });
        });

        this.ruleName = rule.metadata.name;
        this.dashboardNames = maps.map((m) => m.metadata.name);
        this.registerOutputs({ ruleName: this.ruleName });
    }
}
