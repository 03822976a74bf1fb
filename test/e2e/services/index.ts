/**
 * Many services, one cluster: the project's components deploying each service that `services:list` names, with its
 * own ServiceMonitor, rules and dashboards, beside the kube-prometheus-stack the stack's settings ask for (installed,
 * or the cluster's own with `existingMonitoringRelease`). It is what the README's "Add a service" describes, as the
 * real-engine tier (test/e2e/services.test.ts) and the mocks (test/program.services.test.ts) run it: a program of a
 * platform team, whose services are not `hello`.
 *
 * The stack's settings are the project's (stacks/settings.ts); `services:list` is this program's own key, a JSON list
 * of `ServiceEntry` (services.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MonitoringStack } from "../../../components/monitoringStack";
import { ServiceMonitoring } from "../../../components/serviceMonitoring";
import { ServiceRelease } from "../../../components/serviceRelease";
import { joinedMonitoringStack, monitoringStackArgs } from "../../../stacks/monitoring";
import { stackSettings } from "../../../stacks/pulumiConfig";
import { ServiceEntry, serviceDashboards, serviceRules } from "./services";

export = async function services() {
    const settings = stackSettings();
    const list = new pulumi.Config("services").requireObject<ServiceEntry[]>("list");
    const cluster = new k8s.Provider("cluster", { kubeconfig: "", context: settings.kubeContext, clusterIdentifier: settings.kubeContext });

    const joined = joinedMonitoringStack(settings);
    const monitoring = joined ? undefined : new MonitoringStack("monitoring", monitoringStackArgs(settings), { providers: [cluster] });
    const target = joined ?? monitoring!.target;
    const pullCredentials = settings.registryUsername !== undefined && settings.registryPassword !== undefined
        ? { server: settings.registry.split("/")[0], username: settings.registryUsername, password: pulumi.secret(settings.registryPassword) }
        : undefined;

    /** The release that creates each namespace: a later service in it waits for it. */
    const creators = new Map<string, ServiceRelease>();
    const outputs: Record<string, unknown> = { grafanaAccess: target.grafanaAccess };
    for (const entry of list) {
        const creator = creators.get(entry.namespace);
        const service = new ServiceRelease(entry.name, {
            namespace: entry.namespace,
            createNamespace: entry.createNamespace,
            imageRef: entry.image,
            repository: entry.image.split("@")[0],
            spec: settings,
            pullCredentials,
            timeoutSeconds: settings.helmTimeout,
            monitoringStack: monitoring,
            serviceMonitorLabels: target.selectorLabels,
        }, { providers: [cluster], dependsOn: creator ? [creator] : [] });
        if (entry.createNamespace !== false) creators.set(entry.namespace, service);
        new ServiceMonitoring(entry.name, {
            namespace: service.namespace,
            ruleGroups: serviceRules(entry.name),
            dashboards: serviceDashboards(entry.name),
            folder: entry.name,
            monitoringStack: monitoring,
            labels: target.selectorLabels,
            dashboardLabel: target.dashboardLabel,
            timeoutSeconds: settings.helmTimeout,
        }, { providers: [cluster] });
        outputs[entry.name] = { namespace: service.namespace, serviceName: service.serviceName, serviceAccess: service.serviceAccess };
    }
    return outputs;
};
