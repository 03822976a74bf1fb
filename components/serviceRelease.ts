import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { componentType, withFormerType } from "./componentType";
import { ImageReference, parseImageRef } from "./imageReference";
import { CHART_CHECKSUM_ANNOTATION, SERVICE_CHART, chartChecksum, projectPath, readChartYaml } from "./localChart";
import { watchRollout } from "./rolloutDiagnostics";
import { securedNamespace } from "./namespace";

/**
 * How the service runs: the subset of a stack's settings the chart needs (a stack's settings are one; the same keys,
 * documented in Pulumi.yaml, with per-environment defaults in stacks/environments.ts).
 */
export interface ServiceSpec {
    /** Pods when the autoscaler is off. */
    readonly replicas: number;
    /** Run a HorizontalPodAutoscaler instead of a fixed count. */
    readonly autoscaling: boolean;
    /** Fewest pods the autoscaler keeps. */
    readonly autoscalingMinReplicas: number;
    /** Most pods the autoscaler runs. */
    readonly autoscalingMaxReplicas: number;
    /** Average CPU, in percent of the request, the autoscaler aims for. */
    readonly autoscalingTargetCpu: number;
    /** CPU request of each pod, e.g. `100m`. */
    readonly cpuRequest: string;
    /** CPU limit of each pod. @default no CPU limit */
    readonly cpuLimit?: string;
    /** Memory request and limit alike: a Go heap grows towards GOMEMLIMIT, and a pod above its request is evicted first. */
    readonly memoryLimit: string;
    /** LOG_LEVEL of the service: debug, info, warn or error. */
    readonly logLevel: string;
    /** Go duration between failing readiness and closing the listener. */
    readonly drainDelay: string;
    /** Go duration in-flight requests get to finish. */
    readonly shutdownTimeout: string;
    /** The Service's type; a LoadBalancer listens on port 80 and lets the world reach the pods. */
    readonly serviceType: "ClusterIP" | "LoadBalancer";
    /** Host name of an Ingress for the service. @default no Ingress */
    readonly ingressHost?: string;
    /** IngressClass of that Ingress. */
    readonly ingressClassName: string;
    /** Namespaces, besides the monitoring one, allowed to reach the service port. */
    readonly ingressNamespaces: readonly string[];
    /** Namespace of the Prometheus that scrapes the service (its NetworkPolicy lets it in). */
    readonly monitoringNamespace: string;
}

/**
 * The chart values for a service spec. Pure and deterministic; the image digest may be an Output so that
 * a preview shows every other value even before the image is built.
 */
export function buildServiceValues<T>(spec: ServiceSpec, image: ImageReference<T>, opts: {
    /** Name of a dockerconfigjson Secret to pull with. */
    readonly pullSecretName?: string;
    /** Checksum of the chart's files: makes a template change visible in previews and roll the pods. */
    readonly chartChecksum?: string;
    /** Labels of the ServiceMonitor, which the scraping Prometheus selects it by. @default {} */
    readonly serviceMonitorLabels?: Readonly<Record<string, string>>;
} = {}) {
    const loadBalancer = spec.serviceType === "LoadBalancer";
    return {
        image: { repository: image.repository, digest: image.digest },
        imagePullSecrets: opts.pullSecretName ? [{ name: opts.pullSecretName }] : [],
        replicaCount: spec.replicas,
        logLevel: spec.logLevel,
        shutdown: { drainDelay: spec.drainDelay, timeout: spec.shutdownTimeout },
        resources: {
            requests: { cpu: spec.cpuRequest, memory: spec.memoryLimit },
            limits: { memory: spec.memoryLimit, ...(spec.cpuLimit && { cpu: spec.cpuLimit }) },
        },
        service: { type: spec.serviceType, port: 80 },
        ingress: spec.ingressHost
            ? { enabled: true, className: spec.ingressClassName, host: spec.ingressHost }
            : { enabled: false },
        autoscaling: {
            enabled: spec.autoscaling,
            minReplicas: spec.autoscalingMinReplicas,
            maxReplicas: spec.autoscalingMaxReplicas,
            targetCPUUtilizationPercentage: spec.autoscalingTargetCpu,
        },
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        networkPolicy: {
            enabled: true,
            ingress: {
                namespaces: [spec.monitoringNamespace, ...spec.ingressNamespaces],
                // A load balancer's traffic comes from outside every namespace.
                cidrs: loadBalancer ? ["0.0.0.0/0"] : [],
            },
        },
        serviceMonitor: {
            enabled: true,
            interval: "30s",
            ...(opts.serviceMonitorLabels && Object.keys(opts.serviceMonitorLabels).length > 0 && { labels: { ...opts.serviceMonitorLabels } }),
        },
        podAnnotations: opts.chartChecksum ? { [CHART_CHECKSUM_ANNOTATION]: opts.chartChecksum } : {},
    };
}

/** Inputs of {@link ServiceRelease}. */
export interface ServiceReleaseArgs {
    /**
     * Namespace to install into. Created (Pod Security Standards restricted) unless `createNamespace` is false; a
     * namespace this component creates is deleted with it, with everything in it.
     */
    readonly namespace: string;
    /**
     * Create `namespace`. False installs into a namespace that exists already, or that another resource of the program
     * creates (then pass it in `dependsOn`): the way two services share one.
     * @default true
     */
    readonly createNamespace?: boolean;
    /** `repository@sha256:...` of the image to run. */
    readonly imageRef: pulumi.Input<string>;
    /** Repository of that image (known before the build, so previews show it). */
    readonly repository: string;
    /** How the service runs. */
    readonly spec: ServiceSpec;
    /**
     * Credentials for a private registry: an image pull Secret is created from them and used.
     * @default none: the nodes pull anonymously
     */
    readonly pullCredentials?: { readonly server: string; readonly username: string; readonly password: pulumi.Input<string> };
    /**
     * What installs the Prometheus Operator CRDs the chart's ServiceMonitor needs (a `MonitoringStack`): the
     * release waits for it.
     * @default none: the CRDs exist already (a kube-prometheus-stack the cluster runs)
     */
    readonly monitoringStack?: pulumi.Resource;
    /**
     * Labels of the service's ServiceMonitor: those the scraping Prometheus selects ServiceMonitors by
     * (`MonitoringTarget.selectorLabels`, e.g. `{ release: "kube-prometheus-stack" }`).
     * @default {}: only a Prometheus that selects every release's ServiceMonitors scrapes the service
     */
    readonly serviceMonitorLabels?: Readonly<Record<string, string>>;
    /**
     * Helm release name; the chart names its objects (Deployment, Service, ServiceMonitor, ...) after it, and the pull
     * Secret is `<releaseName>-pull`. Unique in its namespace.
     * @default the component's name
     */
    readonly releaseName?: string;
    /**
     * Seconds an install or upgrade may take before Helm rolls it back (atomic).
     * @default 300
     */
    readonly timeoutSeconds?: number;
    /**
     * The kubeconfig context of the stack's provider. Given, `pulumi up` reports why the release's pods are not
     * becoming ready (the namespace's Warning events) while Helm waits, instead of only Helm's timeout at the end.
     * @default undefined: only Helm's result
     */
    readonly kubeContext?: string;
}

/**
 * A Go service installed from `charts/go-service` as a Helm release, pinned to an image digest, with a ServiceMonitor
 * for Prometheus. Everything it creates is named after its `releaseName` (default: the component's name), so services
 * of different names can share a namespace.
 */
export class ServiceRelease extends pulumi.ComponentResource {
    /** The namespace the service runs in (known once it exists, so that what uses it waits for it). */
    readonly namespace: pulumi.Output<string>;
    /** Name of the service's Kubernetes Service (and Deployment, and ServiceMonitor): the release name. */
    readonly serviceName: string;
    /** The Helm revision installed: what `helm history` and `helm rollback` refer to. */
    readonly revision: pulumi.Output<number>;
    /** How to reach the service: its Ingress URL, or the port-forward command that makes it local. */
    readonly serviceAccess: string;
    /** The Helm release. */
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: ServiceReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ServiceRelease"), name, {}, withFormerType("ServiceRelease", opts));
        const releaseName = args.releaseName ?? name;
        const namespace: pulumi.Output<string> = args.createNamespace === false
            ? pulumi.output(args.namespace)
            : securedNamespace(args.namespace, { enforce: "restricted" }, { parent: this }).metadata.name;

        let pullSecret: k8s.core.v1.Secret | undefined;
        if (args.pullCredentials) {
            const { server, username, password } = args.pullCredentials;
            pullSecret = new k8s.core.v1.Secret(`${name}-pull`, {
                metadata: { name: `${releaseName}-pull`, namespace },
                type: "kubernetes.io/dockerconfigjson",
                stringData: {
                    ".dockerconfigjson": pulumi.secret(pulumi.output(password).apply((p) => JSON.stringify({
                        auths: { [server]: { username, password: p, auth: Buffer.from(`${username}:${p}`).toString("base64") } },
                    }))),
                },
            }, { parent: this });
        }

        const digest = pulumi.output(args.imageRef).apply((ref) => parseImageRef(ref).digest);
        const chartDir = projectPath(SERVICE_CHART);
        this.release = new k8s.helm.v3.Release(name, {
            name: releaseName,
            chart: SERVICE_CHART,
            // Stated, not left to the provider: while any value is unknown (the image being built) its check reports
            // the version of a local chart as "", which a preview shows as a change and the chart policy refuses.
            version: readChartYaml(chartDir).version,
            namespace,
            values: buildServiceValues(args.spec, { repository: args.repository, digest }, {
                pullSecretName: pullSecret ? `${releaseName}-pull` : undefined,
                chartChecksum: chartChecksum(chartDir),
                serviceMonitorLabels: args.serviceMonitorLabels,
            }),
            // Keeps a value that is unknown in a preview (the digest of the image this run builds) as unknown: without
            // it the provider's check drops the key, and the preview shows the digest deleted. The program never
            // passes null, so Helm's meaning of null (delete the chart's default) never applies.
            allowNullValues: true,
            atomic: true,
            cleanupOnFail: true,
            timeout: args.timeoutSeconds ?? 300,
            maxHistory: 10,
        }, { parent: this, dependsOn: [...(args.monitoringStack ? [args.monitoringStack] : []), ...(pullSecret ? [pullSecret] : [])] });

        if (args.kubeContext !== undefined && !pulumi.runtime.isDryRun()) {
            watchRollout({
                context: args.kubeContext,
                namespace: args.namespace,
                release: releaseName,
                until: new Promise((resolve) => this.release.status.apply(resolve)),
                timeoutMs: (args.timeoutSeconds ?? 300) * 1000,
                // On this component, not on the release: a log line waits for its resource's URN, and the release's
                // arrives only when Helm is done.
                report: (line) => void pulumi.log.warn(line, this),
            });
        }

        this.namespace = namespace;
        this.serviceName = releaseName; // the chart names its objects after the release
        this.revision = this.release.status.revision;
        const port = 80;
        this.serviceAccess = args.spec.ingressHost
            ? `http://${args.spec.ingressHost}`
            : `kubectl --namespace ${args.namespace} port-forward svc/${this.serviceName} 8080:${port}, then http://localhost:8080`;
        this.registerOutputs({ namespace: this.namespace, serviceName: this.serviceName, revision: this.revision });
    }
}
