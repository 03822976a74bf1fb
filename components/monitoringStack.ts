import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { componentType, withFormerType } from "./componentType";
import { securedNamespace } from "./namespace";

/** The kube-prometheus-stack chart this program installs; upgrade it deliberately, here. */
export const KUBE_PROMETHEUS_STACK = {
    chart: "kube-prometheus-stack",
    version: "88.5.0",
    repo: "https://prometheus-community.github.io/helm-charts",
} as const;

/** Where Helm fetches a chart: a name in a chart repository, or a full `oci://` reference. */
export interface ChartSource {
    readonly chart: string;
    readonly repositoryOpts?: { readonly repo: string };
}

/**
 * kube-prometheus-stack's chart from its own repository, or from a mirror: another Helm repository
 * (`http(s)://...`, the chart under the same name) or an OCI registry path (`oci://host/path`, the chart pushed
 * there as `<path>/kube-prometheus-stack`). The version is pinned either way.
 */
export function monitoringChartSource(mirror?: string): ChartSource {
    const { chart, repo } = KUBE_PROMETHEUS_STACK;
    if (mirror?.startsWith("oci://")) return { chart: `${mirror.replace(/\/+$/, "")}/${chart}` };
    return { chart, repositoryOpts: { repo: mirror ?? repo } };
}

/** Fixed release name: Service names such as `kube-prometheus-stack-grafana` derive from it. */
export const MONITORING_RELEASE = "kube-prometheus-stack";

/** The label, and its value, by which Grafana's dashboard sidecar loads ConfigMaps. */
export interface DashboardLabel {
    readonly name: string;
    readonly value: string;
}

/** kube-prometheus-stack's own default (`grafana.sidecar.dashboards.label` and `labelValue`). */
export const DEFAULT_DASHBOARD_LABEL: DashboardLabel = { name: "grafana_dashboard", value: "1" };

/**
 * A kube-prometheus-stack as a service's monitoring objects see it: what they must be labelled with for it to pick
 * them up, and where it runs. {@link MonitoringStack.target} for the one a stack installs,
 * {@link existingMonitoringStack} for one the cluster already runs.
 */
export interface MonitoringTarget {
    /** Namespace of its Prometheus (which must be let in to scrape the service) and Grafana. */
    readonly namespace: string;
    /** Labels its Prometheus selects ServiceMonitors and PrometheusRules by; `{}` when it selects every release's. */
    readonly selectorLabels: Readonly<Record<string, string>>;
    /** The label its Grafana sidecar loads dashboard ConfigMaps by. */
    readonly dashboardLabel: DashboardLabel;
    /** How to open its Grafana: its URL, or the port-forward command that makes it local. */
    readonly grafanaAccess: string;
}

/**
 * The name of the Grafana Service of a kube-prometheus-stack release: the Grafana chart's full name, which is the
 * release name alone when that already contains "grafana" (its `grafana.fullname` helper).
 */
export function grafanaServiceName(release: string): string {
    return (release.includes("grafana") ? release : `${release}-grafana`).slice(0, 63).replace(/-+$/, "");
}

/** How to open a Grafana: its Ingress URL, or the port-forward command to its Service. */
function grafanaAccess(namespace: string, release: string, host?: string): string {
    return host
        ? `http://${host}`
        : `kubectl --namespace ${namespace} port-forward svc/${grafanaServiceName(release)} 3000:80, then http://localhost:3000`;
}

/**
 * A kube-prometheus-stack the cluster already runs (installed by its platform team, not by this program), as chart
 * defaults make it select: ServiceMonitors and PrometheusRules labelled `release: <its release>`, dashboards labelled
 * `grafana_dashboard: "1"` (unless its values say otherwise). Nothing is created.
 */
export function existingMonitoringStack(args: {
    /** Its namespace. */
    readonly namespace: string;
    /** Its Helm release name. */
    readonly release: string;
    /** @default {@link DEFAULT_DASHBOARD_LABEL} */
    readonly dashboardLabel?: DashboardLabel;
    /**
     * Host name of its Grafana's Ingress, for {@link MonitoringTarget.grafanaAccess}.
     * @default undefined: a port-forward to its Grafana Service
     */
    readonly grafanaHost?: string;
}): MonitoringTarget {
    return {
        namespace: args.namespace,
        selectorLabels: { release: args.release },
        dashboardLabel: args.dashboardLabel ?? DEFAULT_DASHBOARD_LABEL,
        grafanaAccess: grafanaAccess(args.namespace, args.release, args.grafanaHost),
    };
}
const GRAFANA_ADMIN_SECRET = "grafana-admin";
const ALERTMANAGER_CONFIG_SECRET = "alertmanager-config";

/** How much of kube-prometheus-stack runs, and how big. */
export interface MonitoringProfile {
    /** Run Alertmanager. */
    readonly alertmanager: boolean;
    /** Run the node exporter DaemonSet (it needs a privileged namespace). */
    readonly nodeExporter: boolean;
    /**
     * Scrape etcd, the scheduler, the controller manager and kube-proxy. A kind cluster binds them to
     * localhost, where scraping fails and every scrape would raise an alert.
     * @default true
     */
    readonly controlPlane?: boolean;
    /**
     * Install Grafana's stock Kubernetes dashboards.
     * @default true
     */
    readonly defaultDashboards?: boolean;
    /** Prometheus retention, e.g. `15d`. */
    readonly retention: string;
    /**
     * A persistent volume for Prometheus; unset keeps data in an emptyDir (lost on restart).
     * @default undefined
     */
    readonly storage?: { readonly size: string; readonly storageClass?: string };
    /** Prometheus container resources. */
    readonly resources: { readonly cpuRequest: string; readonly memoryRequest: string; readonly memoryLimit: string };
}

/** Inputs of {@link MonitoringStack}. */
export interface MonitoringStackArgs {
    /** Namespace to create and install into. */
    readonly namespace: string;
    /** How much of kube-prometheus-stack runs, and how big. */
    readonly profile: MonitoringProfile;
    /**
     * Grafana admin password; unset generates one. Either way it lives only in a Kubernetes Secret
     * referenced by `grafana.admin.existingSecret`, never in Helm values.
     * @default a generated 24-character password
     */
    readonly grafanaAdminPassword?: pulumi.Input<string>;
    /**
     * Host name of an Ingress for Grafana; unset means reach it with `kubectl port-forward`.
     * @default undefined
     */
    readonly grafanaHost?: string;
    /**
     * IngressClass for Grafana's Ingress.
     * @default the cluster's default class
     */
    readonly ingressClassName?: string;
    /**
     * Webhook that receives every alert (secret). Its alertmanager.yaml goes into a Secret the chart
     * references, never into Helm values.
     * @default none: the chart's own config, which routes every alert to a null receiver
     */
    readonly alertWebhookUrl?: pulumi.Input<string>;
    /**
     * Seconds the install or upgrade may take before Helm rolls it back.
     * @default 600
     */
    readonly timeoutSeconds?: number;
    /**
     * A mirror of the chart's repository: `http(s)://...` or `oci://...` (see {@link monitoringChartSource}).
     * @default the chart's own repository
     */
    readonly chartMirror?: string;
    /**
     * The label Grafana's dashboard sidecar loads ConfigMaps by.
     * @default {@link DEFAULT_DASHBOARD_LABEL}
     */
    readonly dashboardLabel?: DashboardLabel;
}

/**
 * alertmanager.yaml that sends every alert to one webhook (critical ones re-sent hourly, the rest every
 * 4 hours) and drops the stack's always-firing Watchdog. The result holds the URL: keep it secret.
 */
export function buildAlertmanagerConfig(webhookUrl: string): string {
    return stringify({
        route: {
            receiver: "webhook",
            group_by: ["alertname", "namespace", "job"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            routes: [
                { receiver: "null", matchers: ['alertname = "Watchdog"'] },
                { receiver: "webhook", matchers: ['severity = "critical"'], repeat_interval: "1h" },
            ],
        },
        // A critical alert silences the warnings of the same alert and namespace.
        inhibit_rules: [{
            source_matchers: ['severity = "critical"'],
            target_matchers: ['severity = "warning"'],
            equal: ["alertname", "namespace"],
        }],
        receivers: [
            { name: "null" },
            { name: "webhook", webhook_configs: [{ url: webhookUrl, send_resolved: true }] },
        ],
    });
}

/**
 * The Pod Security Standards level the monitoring namespace can enforce, and why it is not restricted:
 * the node exporter reads the host (hostNetwork, hostPID, hostPath); without it, baseline, because the
 * chart's own pods (admission webhook jobs, Grafana's init containers) are not all restricted-compliant
 * in every chart version.
 */
export function monitoringPodSecurity(profile: MonitoringProfile) {
    return profile.nodeExporter
        ? { enforce: "privileged" as const, reason: "the node exporter DaemonSet uses hostNetwork, hostPID and hostPath to read node metrics" }
        : { enforce: "baseline" as const, reason: "kube-prometheus-stack's pods are not all restricted-compliant across chart versions" };
}

/** kube-prometheus-stack values for a profile. Pure: contains no secret, only references to Secrets. */
export function buildMonitoringValues(args: {
    readonly profile: MonitoringProfile;
    readonly grafanaHost?: string;
    readonly ingressClassName?: string;
    readonly alertmanagerConfigSecret?: string;
    readonly dashboardLabel?: DashboardLabel;
}): Record<string, unknown> {
    const { profile } = args;
    const dashboardLabel = args.dashboardLabel ?? DEFAULT_DASHBOARD_LABEL;
    const controlPlane = profile.controlPlane ?? true;
    return {
        crds: { enabled: true },
        alertmanager: {
            enabled: profile.alertmanager,
            alertmanagerSpec: args.alertmanagerConfigSecret
                ? { useExistingSecret: true, configSecret: args.alertmanagerConfigSecret }
                : {},
        },
        nodeExporter: { enabled: profile.nodeExporter },
        kubeEtcd: { enabled: controlPlane },
        kubeScheduler: { enabled: controlPlane },
        kubeControllerManager: { enabled: controlPlane },
        kubeProxy: { enabled: controlPlane },
        prometheus: {
            prometheusSpec: {
                // Select ServiceMonitors, PodMonitors, PrometheusRules, Probes and ScrapeConfigs of every
                // release, not only those labelled `release: kube-prometheus-stack`.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                ruleSelectorNilUsesHelmValues: false,
                probeSelectorNilUsesHelmValues: false,
                scrapeConfigSelectorNilUsesHelmValues: false,
                retention: profile.retention,
                resources: {
                    requests: { cpu: profile.resources.cpuRequest, memory: profile.resources.memoryRequest },
                    limits: { memory: profile.resources.memoryLimit },
                },
                ...(profile.storage && {
                    storageSpec: {
                        volumeClaimTemplate: {
                            spec: {
                                ...(profile.storage.storageClass && { storageClassName: profile.storage.storageClass }),
                                accessModes: ["ReadWriteOnce"],
                                resources: { requests: { storage: profile.storage.size } },
                            },
                        },
                    },
                }),
            },
        },
        grafana: {
            defaultDashboardsEnabled: profile.defaultDashboards ?? true,
            admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
            sidecar: {
                dashboards: {
                    enabled: true,
                    label: dashboardLabel.name,
                    labelValue: dashboardLabel.value,
                    searchNamespace: "ALL",
                    // A dashboard ConfigMap's `grafana_folder` annotation names its folder.
                    folderAnnotation: "grafana_folder",
                    provider: { foldersFromFilesStructure: true },
                },
            },
            ingress: args.grafanaHost
                ? {
                    enabled: true,
                    hosts: [args.grafanaHost],
                    ...(args.ingressClassName && { ingressClassName: args.ingressClassName }),
                }
                : { enabled: false },
        },
    };
}

/**
 * kube-prometheus-stack (Prometheus Operator, Prometheus, Grafana, kube-state-metrics, optionally
 * Alertmanager and the node exporter) as a Helm release with a fixed name and a pinned chart version, selecting the
 * ServiceMonitors, PrometheusRules and dashboards of every release in the cluster. For a cluster that already runs one,
 * use {@link existingMonitoringStack} instead.
 */
export class MonitoringStack extends pulumi.ComponentResource {
    /** The namespace it runs in (created by this component). */
    readonly namespace: pulumi.Output<string>;
    /** The Helm release; custom resources (ServiceMonitor, PrometheusRule) must depend on it for the CRDs. */
    readonly release: k8s.helm.v3.Release;
    /** Grafana's admin password (secret). */
    readonly grafanaAdminPassword: pulumi.Output<string>;
    /** How to open Grafana: its URL, or the port-forward command that makes it local. */
    readonly grafanaAccess: string;
    /** The Helm revision installed: what `helm history` and `helm rollback` refer to. */
    readonly revision: pulumi.Output<number>;
    /** What a service's monitoring objects need to be picked up by this stack. */
    readonly target: MonitoringTarget;

    constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("MonitoringStack"), name, {}, withFormerType("MonitoringStack", opts));

        const namespace = securedNamespace(args.namespace, monitoringPodSecurity(args.profile), { parent: this });

        const password = args.grafanaAdminPassword !== undefined
            ? pulumi.secret(args.grafanaAdminPassword)
            : new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this }).result;
        const adminSecret = new k8s.core.v1.Secret(`${name}-grafana-admin`, {
            metadata: { name: GRAFANA_ADMIN_SECRET, namespace: namespace.metadata.name },
            type: "Opaque",
            stringData: { "admin-user": "admin", "admin-password": password },
        }, { parent: this });

        const dependsOn: pulumi.Resource[] = [adminSecret];
        let alertmanagerConfigSecret: string | undefined;
        if (args.alertWebhookUrl !== undefined && args.profile.alertmanager) {
            // The chart expects alertmanager.yaml under this key; the secret keeps receivers' URLs out of values.
            dependsOn.push(new k8s.core.v1.Secret(`${name}-alertmanager-config`, {
                metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace: namespace.metadata.name },
                type: "Opaque",
                stringData: { "alertmanager.yaml": pulumi.secret(args.alertWebhookUrl).apply(buildAlertmanagerConfig) },
            }, { parent: this }));
            alertmanagerConfigSecret = ALERTMANAGER_CONFIG_SECRET;
        }

        this.release = new k8s.helm.v3.Release(name, {
            name: MONITORING_RELEASE,
            ...monitoringChartSource(args.chartMirror),
            version: KUBE_PROMETHEUS_STACK.version,
            namespace: namespace.metadata.name,
            values: buildMonitoringValues({
                profile: args.profile,
                grafanaHost: args.grafanaHost,
                ingressClassName: args.ingressClassName,
                alertmanagerConfigSecret,
                dashboardLabel: args.dashboardLabel,
            }),
            atomic: true,
            cleanupOnFail: true,
            timeout: args.timeoutSeconds ?? 600,
            maxHistory: 10,
        }, { parent: this, dependsOn });

        this.namespace = namespace.metadata.name;
        this.grafanaAdminPassword = pulumi.secret(password);
        this.grafanaAccess = grafanaAccess(args.namespace, MONITORING_RELEASE, args.grafanaHost);
        this.target = {
            namespace: args.namespace,
            // buildMonitoringValues makes its Prometheus select every release's monitors and rules.
            selectorLabels: {},
            dashboardLabel: args.dashboardLabel ?? DEFAULT_DASHBOARD_LABEL,
            grafanaAccess: this.grafanaAccess,
        };
        this.revision = this.release.status.revision;
        this.registerOutputs({
            namespace: this.namespace,
            grafanaAccess: this.grafanaAccess,
            revision: this.revision,
        });
    }
}
