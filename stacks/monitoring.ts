/**
 * The kube-prometheus-stack a stack's settings ask for: the one it installs (the args of `MonitoringStack`), or the one
 * the cluster already runs and the stack joins (`existingMonitoringRelease`).
 */
import * as pulumi from "@pulumi/pulumi";
import { DashboardLabel, existingMonitoringStack, MonitoringStackArgs, MonitoringTarget } from "../components/monitoringStack";
import type { StackSettings } from "./settings";

/** The label Grafana's sidecar loads dashboards by, in both modes. */
export function dashboardLabel(s: StackSettings): DashboardLabel {
    return { name: s.grafanaDashboardLabel, value: s.grafanaDashboardLabelValue };
}

/** What `MonitoringStack` installs for a stack that installs its own (secrets marked secret). */
export function monitoringStackArgs(s: StackSettings): MonitoringStackArgs {
    return {
        namespace: s.monitoringNamespace,
        profile: {
            alertmanager: s.alertmanager,
            nodeExporter: s.nodeExporter,
            controlPlane: s.controlPlaneMonitoring,
            defaultDashboards: s.defaultDashboards,
            retention: s.prometheusRetention,
            storage: s.prometheusStorage ? { size: s.prometheusStorageSize, storageClass: s.storageClass } : undefined,
            resources: {
                cpuRequest: s.prometheusCpuRequest,
                memoryRequest: s.prometheusMemoryRequest,
                memoryLimit: s.prometheusMemoryLimit,
            },
        },
        chartMirror: s.monitoringChartRepository,
        timeoutSeconds: s.helmTimeout,
        grafanaAdminPassword: s.grafanaAdminPassword && pulumi.secret(s.grafanaAdminPassword),
        grafanaHost: s.grafanaHost,
        ingressClassName: s.ingressClassName,
        alertWebhookUrl: s.alertWebhookUrl && pulumi.secret(s.alertWebhookUrl),
        dashboardLabel: dashboardLabel(s),
    };
}

/** The existing kube-prometheus-stack a stack joins; undefined when the stack installs its own. */
export function joinedMonitoringStack(s: StackSettings): MonitoringTarget | undefined {
    return s.existingMonitoringRelease === undefined ? undefined : existingMonitoringStack({
        namespace: s.monitoringNamespace,
        release: s.existingMonitoringRelease,
        dashboardLabel: dashboardLabel(s),
        grafanaHost: s.grafanaHost,
    });
}
