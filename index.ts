/**
 * The hello service, from source to a monitored deployment, for the stack being run.
 * Composition only: settings come from `stacks/`, resources from `components/`, monitoring content from `monitoring/`.
 *
 * The program is a function, so that both drivers run the same code: the Pulumi CLI (`pulumi up` in this folder)
 * calls it as the project's entry point, and the real-engine tests call it as an Automation API inline program.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { MonitoringStack } from "./components/monitoringStack";
import { ServiceImage, sourceRevision } from "./components/serviceImage";
import { ServiceMonitoring } from "./components/serviceMonitoring";
import { ServiceRelease } from "./components/serviceRelease";
import { DASHBOARD_FOLDER, dashboards } from "./monitoring/dashboards";
import { ruleGroups } from "./monitoring/ruleGroups";
import { joinedMonitoringStack, monitoringStackArgs } from "./stacks/monitoring";
import { deploying, preflight } from "./stacks/preflight";
import { stackSettings } from "./stacks/pulumiConfig";
import { sloSettings } from "./stacks/slo";
import { version } from "./package.json";

export = async function helloService() {
    const settings = stackSettings();

    // Every Kubernetes resource goes through this provider: a stack never deploys to the current context. The
    // kubeconfig is the ambient one ($KUBECONFIG, else ~/.kube/config), never recorded: the SDK would otherwise record
    // its path, and the same stack would preview as changed from a checkout where the file lies elsewhere. Which cluster
    // it is, is the context: changing it replaces every resource, as moving to another cluster must.
    const cluster = new k8s.Provider("cluster", {
        kubeconfig: "",
        context: settings.kubeContext,
        clusterIdentifier: settings.kubeContext,
        // A rotated secret updates its Secret in place. Replaced (the provider's default), the Secret would be missing
        // for a moment: a pull or a Grafana restart in that moment would fail.
        enableSecretMutable: true,
    });

    const registryServer = settings.registry.split("/")[0];
    const credentials = settings.registryUsername !== undefined && settings.registryPassword !== undefined
        ? { server: registryServer, username: settings.registryUsername, password: pulumi.secret(settings.registryPassword) }
        : undefined;

    // Before anything changes: a cluster or registry that is away fails the update here, naming it.
    if (deploying()) await preflight(settings);

    const image = new ServiceImage("hello", {
        context: "./app",
        repository: `${settings.registry}/${settings.imageName}`,
        tag: settings.imageTag,
        platform: settings.platform,
        version,
        revision: sourceRevision(path.join(__dirname, "app")),
        buildArgs: {
            ...(settings.builderImage && { BUILDER_IMAGE: settings.builderImage }),
            ...(settings.runtimeImage && { RUNTIME_IMAGE: settings.runtimeImage }),
        },
        registry: credentials,
        prebuilt: settings.prebuiltImage,
    });

    // Install kube-prometheus-stack, or join the one the cluster already runs: then nothing of it is this stack's.
    const joined = joinedMonitoringStack(settings);
    const monitoring = joined ? undefined : new MonitoringStack("monitoring", monitoringStackArgs(settings), { providers: [cluster] });
    const target = joined ?? monitoring!.target;

    const service = new ServiceRelease("hello", {
        namespace: settings.namespace,
        imageRef: image.imageRef,
        repository: image.repository,
        spec: settings,
        pullCredentials: credentials,
        timeoutSeconds: settings.helmTimeout,
        kubeContext: settings.kubeContext,
        monitoringStack: monitoring,
        serviceMonitorLabels: target.selectorLabels,
    }, { providers: [cluster] });

    const slo = sloSettings(settings);
    new ServiceMonitoring("hello", {
        namespace: service.namespace,
        ruleGroups: ruleGroups({ slo, runbookBaseUrl: settings.runbookBaseUrl }),
        dashboards: dashboards({ slo }),
        folder: DASHBOARD_FOLDER,
        monitoringStack: monitoring,
        labels: target.selectorLabels,
        dashboardLabel: target.dashboardLabel,
        timeoutSeconds: settings.helmTimeout,
    }, { providers: [cluster] });

    return {
        /** What runs: the image by digest. */
        imageRef: image.imageRef,
        namespace: service.namespace,
        serviceName: service.serviceName,
        /** How to reach the service. */
        serviceAccess: service.serviceAccess,
        /**
         * How to reach Grafana. Installed: user `admin`, `pulumi stack output grafanaAdminPassword --show-secrets`;
         * joined: the platform team's Grafana, with its login (no grafanaAdminPassword output).
         */
        grafanaAccess: target.grafanaAccess,
        ...(monitoring && { grafanaAdminPassword: monitoring.grafanaAdminPassword }),
        /** Helm revisions: what `helm history` / `helm rollback` refer to (only this stack's releases). */
        releaseRevisions: { service: service.revision, ...(monitoring && { monitoring: monitoring.revision }) },
    };
};
