import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
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
}): Record<string, unknown> {
    const { profile } = args;
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
                    label: "grafana_dashboard",
                    labelValue: "1",
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
 * Alertmanager and the node exporter) as a Helm release with a fixed name and a pinned chart version.
 */
export class MonitoringStack extends pulumi.ComponentResource {
    readonly namespace: pulumi.Output<string>;
    /** The Helm release; custom resources (ServiceMonitor, PrometheusRule) must depend on it for the CRDs. */
    readonly release: k8s.helm.v3.Release;
    /** Grafana's admin password (secret). */
    readonly grafanaAdminPassword: pulumi.Output<string>;
    /** How to open Grafana: its URL, or the port-forward command that makes it local. */
    readonly grafanaAccess: string;
    readonly revision: pulumi.Output<number>;

    constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("hello:platform:MonitoringStack", name, {}, opts);

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
            }),
            atomic: true,
            cleanupOnFail: true,
            timeout: args.timeoutSeconds ?? 600,
            maxHistory: 10,
        }, { parent: this, dependsOn });

        this.namespace = namespace.metadata.name;
        this.grafanaAdminPassword = pulumi.secret(password);
        this.grafanaAccess = args.grafanaHost
            ? `http://${args.grafanaHost}`
            : `kubectl --namespace ${args.namespace} port-forward svc/${MONITORING_RELEASE}-grafana 3000:80, then http://localhost:3000`;
        this.revision = this.release.status.revision;
        this.registerOutputs({
            namespace: this.namespace,
            grafanaAccess: this.grafanaAccess,
            revision: this.revision,
        });
    }
}
