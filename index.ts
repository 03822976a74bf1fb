/**
 * The hello service, from source to a monitored deployment, for the stack being run.
 * Composition only: settings come from `stacks/`, resources from `components/`, monitoring content from `monitoring/`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MonitoringStack } from "./components/monitoringStack";
import { ServiceImage, sourceCommit } from "./components/serviceImage";
import { ServiceMonitoring } from "./components/serviceMonitoring";
import { ServiceRelease } from "./components/serviceRelease";
import { DASHBOARD_FOLDER, dashboards } from "./monitoring/dashboards";
import { ruleGroups } from "./monitoring/ruleGroups";
import { stackSettings } from "./stacks/pulumiConfig";
import { sloSettings } from "./stacks/slo";
import { version } from "./package.json";

const settings = stackSettings();

// Every Kubernetes resource goes through this provider: a stack never deploys to the current context.
const cluster = new k8s.Provider("cluster", { context: settings.kubeContext });

const registryServer = settings.registry.split("/")[0];
const credentials = settings.registryUsername !== undefined && settings.registryPassword !== undefined
    ? { server: registryServer, username: settings.registryUsername, password: pulumi.secret(settings.registryPassword) }
    : undefined;

const image = new ServiceImage("hello", {
    context: "./app",
    repository: `${settings.registry}/${settings.imageName}`,
    tag: settings.imageTag,
    platform: settings.platform,
    version,
    commit: sourceCommit("."),
    registry: credentials,
    prebuilt: settings.prebuiltImage,
});

const monitoring = new MonitoringStack("monitoring", {
    namespace: settings.monitoringNamespace,
    profile: {
        alertmanager: settings.alertmanager,
        nodeExporter: settings.nodeExporter,
        controlPlane: settings.controlPlaneMonitoring,
        defaultDashboards: settings.defaultDashboards,
        retention: settings.prometheusRetention,
        storage: settings.prometheusStorage
            ? { size: settings.prometheusStorageSize, storageClass: settings.storageClass }
            : undefined,
        resources: {
            cpuRequest: settings.prometheusCpuRequest,
            memoryRequest: settings.prometheusMemoryRequest,
            memoryLimit: settings.prometheusMemoryLimit,
        },
    },
    grafanaAdminPassword: settings.grafanaAdminPassword && pulumi.secret(settings.grafanaAdminPassword),
    grafanaHost: settings.grafanaHost,
    ingressClassName: settings.ingressClassName,
    alertWebhookUrl: settings.alertWebhookUrl && pulumi.secret(settings.alertWebhookUrl),
}, { providers: [cluster] });

const service = new ServiceRelease("hello", {
    namespace: settings.namespace,
    imageRef: image.imageRef,
    repository: image.repository,
    spec: settings,
    pullCredentials: credentials,
    timeoutSeconds: settings.helmTimeout,
    monitoringStack: monitoring,
}, { providers: [cluster] });

const slo = sloSettings(settings);
new ServiceMonitoring("hello", {
    namespace: service.namespace,
    ruleGroups: ruleGroups({ slo, runbookBaseUrl: settings.runbookBaseUrl }),
    dashboards: dashboards({ slo }),
    folder: DASHBOARD_FOLDER,
    monitoringStack: monitoring,
}, { providers: [cluster] });

/** What runs: the image by digest. */
export const imageRef = image.imageRef;
export const namespace = service.namespace;
export const serviceName = service.serviceName;
/** How to reach the service. */
export const serviceAccess = service.serviceAccess;
/** How to reach Grafana (user `admin`; `pulumi stack output grafanaAdminPassword --show-secrets`). */
export const grafanaAccess = monitoring.grafanaAccess;
export const grafanaAdminPassword = monitoring.grafanaAdminPassword;
/** Helm revisions: what `helm history` / `helm rollback` refer to. */
export const releaseRevisions = { service: service.revision, monitoring: monitoring.revision };
