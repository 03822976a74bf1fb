/**
 * Per-environment defaults: what a stack gets for every key it does not set.
 *
 * A stack picks its profile with `hello-service:environment` (default: the stack name), so a new stack
 * such as `qa` can reuse the staging profile. Secure and reliable values are the base; dev opts out
 * of what a laptop cluster cannot or need not run.
 */
import type { Environment, SettingKey, StackSettings } from "./settings";

export type Defaults = { readonly [K in SettingKey]?: StackSettings[K] };

/** Defaults shared by every environment. */
export const BASE_DEFAULTS: Defaults = {
    namespace: "hello",
    imageName: "hello",
    platform: "linux/amd64",
    logLevel: "info",
    replicas: 2,
    autoscaling: false,
    autoscalingMinReplicas: 2,
    autoscalingMaxReplicas: 6,
    autoscalingTargetCpu: 70,
    cpuRequest: "100m",
    memoryLimit: "128Mi",
    drainDelay: "5s",
    shutdownTimeout: "20s",
    serviceType: "ClusterIP",
    allowLoadBalancer: false,
    ingressClassName: "nginx",
    ingressNamespaces: ["ingress-nginx"],
    // Both releases: kube-prometheus-stack's first install pulls about ten images.
    helmTimeout: 600,
    monitoringNamespace: "monitoring",
    // kube-prometheus-stack's own default (grafana.sidecar.dashboards).
    grafanaDashboardLabel: "grafana_dashboard",
    grafanaDashboardLabelValue: "1",
    alertmanager: true,
    controlPlaneMonitoring: true,
    defaultDashboards: true,
    nodeExporter: true,
    prometheusRetention: "7d",
    prometheusStorage: true,
    prometheusStorageSize: "20Gi",
    prometheusCpuRequest: "200m",
    prometheusMemoryRequest: "1Gi",
    prometheusMemoryLimit: "2Gi",
    sloAvailability: 99.9,
    sloLatencyThreshold: 0.25,
    sloLatencyTarget: 99,
};

/** What each environment changes on top of the base. */
export const ENVIRONMENT_DEFAULTS: { readonly [E in Environment]: Defaults } = {
    // A laptop cluster (kind): one pod, slim monitoring, nothing persistent.
    dev: {
        logLevel: "debug",
        replicas: 1,
        alertmanager: false,
        controlPlaneMonitoring: false,
        defaultDashboards: false,
        nodeExporter: false,
        prometheusRetention: "6h",
        prometheusStorage: false,
        prometheusCpuRequest: "100m",
        prometheusMemoryRequest: "256Mi",
        prometheusMemoryLimit: "1Gi",
    },
    staging: {
        replicas: 2,
        prometheusRetention: "7d",
        prometheusStorageSize: "20Gi",
    },
    // Production: autoscaled from 3 pods, longer retention, bigger Prometheus.
    prod: {
        autoscaling: true,
        autoscalingMinReplicas: 3,
        autoscalingMaxReplicas: 10,
        replicas: 3,
        cpuRequest: "200m",
        memoryLimit: "256Mi",
        prometheusRetention: "15d",
        prometheusStorageSize: "50Gi",
        prometheusCpuRequest: "500m",
        prometheusMemoryRequest: "2Gi",
        prometheusMemoryLimit: "4Gi",
    },
};

/** The defaults a stack of this environment starts from. */
export function defaultsFor(environment: Environment): Defaults {
    return { ...BASE_DEFAULTS, ...ENVIRONMENT_DEFAULTS[environment] };
}
