/**
 * The typed settings of one stack: every key a platform engineer may put in `Pulumi.<stack>.yaml`
 * under the project's namespace, what each one means and which values it accepts.
 *
 * This file is the one place that knows the keys. Defaults per environment live in `environments.ts`,
 * rules that span several keys in `rules.ts`, and `load.ts` turns raw Pulumi config into settings.
 */
import { z } from "zod";
import { LATENCY_BUCKET_BOUNDARIES, MIN_OBJECTIVE, isValidObjective } from "../monitoring/slo";
import { IMAGE_BY_DIGEST } from "../components/imageReference";

/** How Pulumi stores a key: every config value reaches a program as a string, decoded by its kind. */
export type ConfigKind = "string" | "integer" | "number" | "boolean" | "array";

/** One stack setting: its schema (with messages that say what is allowed) and its documentation. */
export interface SettingSpec<S extends z.ZodType = z.ZodType> {
    readonly kind: ConfigKind;
    readonly schema: S;
    /** One line for Pulumi.yaml and the error messages. */
    readonly description: string;
    /** Accepted only as a secret (`pulumi config set --secret`); its value is never printed. */
    readonly secret?: boolean;
}

function setting<S extends z.ZodType>(kind: ConfigKind, schema: S, description: string, secret = false): SettingSpec<S> {
    return { kind, schema, description, secret };
}

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
        error: "must be a Kubernetes name: lowercase letters, digits and '-', at most 63 characters",
    });
const hostname = z
    .string()
    .regex(/^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
        error: "must be a DNS host name such as hello.example.com",
    });
const cpuQuantity = z.string().regex(/^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/, {
    error: "must be a CPU quantity such as 100m, 0.5 or 2",
});
const memoryQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, {
    error: "must be a memory quantity such as 64Mi, 512Mi or 2Gi",
});
const goDuration = z.string().regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, {
    error: "must be a Go duration such as 500ms, 5s or 1m30s",
});
const promDuration = z.string().regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/, {
    error: "must be a Prometheus duration such as 6h, 7d or 2w",
});
// A schema's `error` is the message of its checks and refinements too.
const wholeNumber = (min: number, max: number) =>
    z.number({ error: `must be a whole number from ${min} to ${max}` }).int().min(min).max(max);
const flag = z.boolean({ error: "must be true or false" });
/** A base image from a mirror: what the Dockerfile pins, in another registry, still by digest. */
const mirroredImage = z.string().regex(IMAGE_BY_DIGEST, {
    error: "must be an image by digest such as mirror.example.com/library/golang:1.26.8@sha256:<64 hex digits>",
});
/** A Helm chart repository, or an OCI registry path that holds the chart. */
const chartRepository = z.string().regex(/^(https?|oci):\/\/[a-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~\/-]*)?$/, {
    error: "must be a Helm repository URL (https://charts.example.com/prometheus-community) or an OCI registry path (oci://registry.example.com/charts)",
});
/** A Helm release name (Helm's own rule: a DNS subdomain of at most 53 characters). */
const releaseName = z.string().regex(/^(?=.{1,53}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: "must be a Helm release name such as kube-prometheus-stack: lowercase letters, digits, '-' and '.', at most 53 characters",
});
/** A Kubernetes label key: a name of at most 63 characters, optionally after a DNS prefix and '/'. */
const labelKey = z.string().regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, {
        error: "must be a Kubernetes label key such as grafana_dashboard or example.com/dashboard",
    });
/** A Kubernetes label value: at most 63 characters, empty allowed. */
const labelValue = z.string().regex(/^(?=.{0,63}$)([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, {
    error: "must be a Kubernetes label value such as 1 or true: letters, digits, '-', '_' and '.', at most 63 characters",
});
// The objectives the SLO alerts can page on (monitoring/slo.ts), written in percent.
const objectivePercent = (() => {
    const min = Math.ceil(MIN_OBJECTIVE * 10000) / 100;
    const error = `must be a percentage from ${min} to below 100, such as 99.9 (lower, and the fast burn-rate page could never fire)`;
    return z.number({ error }).refine((percent) => isValidObjective(percent / 100));
})();

/**
 * Every key of the project's config namespace. The key is what goes after `hello-service:` in a stack file.
 */
export const SETTINGS = {
    // Where the stack deploys.
    environment: setting("string", z.enum(ENVIRONMENTS, { error: "must be one of dev, staging, prod" }),
        "Environment profile that supplies the defaults and rules. Defaults to the stack name."),
    kubeContext: setting("string", z.string().min(1, { error: "must name a context in your kubeconfig" }),
        "Kubeconfig context to deploy to. Required: a stack never deploys to whatever context is current."),
    namespace: setting("string", dnsLabel, "Namespace of the service (created with Pod Security Standards restricted)."),

    // The image.
    registry: setting("string",
        z.string().regex(/^[a-z0-9.-]+(:[0-9]{1,5})?(\/[a-z0-9._\/-]+)?$/, {
            error: "must be a registry host[:port][/path] such as ghcr.io/acme or localhost:5001",
        }),
        "Registry the image is pushed to, e.g. ghcr.io/acme. Required."),
    imageName: setting("string",
        z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, {
            error: "must be a lowercase image name such as hello",
        }),
        "Image name inside the registry."),
    imageTag: setting("string",
        z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, {
            error: "must be a Docker tag: letters, digits, '_', '.', '-', at most 128 characters",
        }),
        "Tag pushed with each build (the build cache source); the release always runs the digest. Defaults to the stack name."),
    registryUsername: setting("string", z.string().min(1, { error: "must not be empty" }),
        "User for the registry; set with registryPassword, or neither to use your docker login."),
    registryPassword: setting("string", z.string().min(1, { error: "must not be empty" }),
        "Password or token for the registry. Secret only.", true),
    prebuiltImage: setting("string",
        z.string().regex(IMAGE_BY_DIGEST, { error: "must be an image by digest: <registry>/<imageName>@sha256:<64 hex digits>" }),
        "An image already built, scanned and signed (by CI) to deploy instead of building one; by digest."),
    platform: setting("string", z.enum(["linux/amd64", "linux/arm64"], { error: "must be linux/amd64 or linux/arm64" }),
        "Platform the image is built for."),
    builderImage: setting("string", mirroredImage,
        "Go toolchain image the build compiles in, from a mirror; by digest. Unset: app/Dockerfile's pinned golang image."),
    runtimeImage: setting("string", mirroredImage,
        "Base image the service runs on, from a mirror; by digest. Unset: app/Dockerfile's pinned distroless image."),

    // The service.
    logLevel: setting("string", z.enum(["debug", "info", "warn", "error"], { error: "must be one of debug, info, warn, error" }),
        "LOG_LEVEL of the service."),
    replicas: setting("integer", wholeNumber(1, 50), "Pods when the autoscaler is off."),
    autoscaling: setting("boolean", flag, "Run a HorizontalPodAutoscaler instead of a fixed replica count."),
    autoscalingMinReplicas: setting("integer", wholeNumber(1, 50), "Fewest pods the autoscaler keeps."),
    autoscalingMaxReplicas: setting("integer", wholeNumber(1, 100), "Most pods the autoscaler runs."),
    autoscalingTargetCpu: setting("integer", wholeNumber(10, 95), "CPU utilisation (% of request) the autoscaler aims for."),
    cpuRequest: setting("string", cpuQuantity, "CPU request of each pod."),
    cpuLimit: setting("string", cpuQuantity, "CPU limit of each pod; unset means none (GOMAXPROCS then follows the request)."),
    memoryLimit: setting("string", memoryQuantity,
        "Memory of each pod: request and limit alike (Go grows its heap to GOMEMLIMIT, set below it)."),
    drainDelay: setting("string", goDuration, "DRAIN_DELAY: time between failing readiness and closing the listener."),
    shutdownTimeout: setting("string", goDuration, "SHUTDOWN_TIMEOUT: time in-flight requests get to finish."),
    serviceType: setting("string", z.enum(["ClusterIP", "LoadBalancer"], { error: "must be ClusterIP or LoadBalancer" }),
        "Service type; LoadBalancer listens on port 80."),
    allowLoadBalancer: setting("boolean", flag, "Allow serviceType LoadBalancer in prod (a public endpoint is a deliberate choice)."),
    ingressHost: setting("string", hostname, "Host name of an Ingress for the service; unset means no Ingress."),
    ingressClassName: setting("string", dnsLabel, "IngressClass of that Ingress."),
    ingressNamespaces: setting("array",
        z.array(dnsLabel, { error: "must be a list of namespace names, e.g. [ingress-nginx]" }),
        "Namespaces allowed to reach the service port besides monitoring (the ingress controller's)."),
    helmTimeout: setting("integer", wholeNumber(60, 3600),
        "Seconds an install or upgrade of either Helm release (the service, kube-prometheus-stack) may take before it is rolled back."),

    // Monitoring.
    monitoringNamespace: setting("string", dnsLabel,
        "Namespace of kube-prometheus-stack: the one the stack installs, or the existing one it joins (existingMonitoringRelease)."),
    existingMonitoringRelease: setting("string", releaseName,
        "Helm release of a kube-prometheus-stack the cluster already runs in monitoringNamespace, to join instead of " +
        "installing one: the service's ServiceMonitor and rules are labelled release: <it>, which that Prometheus selects " +
        "by. Unset: the stack installs its own."),
    grafanaDashboardLabel: setting("string", labelKey,
        "Label Grafana's sidecar loads dashboard ConfigMaps by (kube-prometheus-stack's grafana.sidecar.dashboards.label)."),
    grafanaDashboardLabelValue: setting("string", labelValue,
        "Value of that label (grafana.sidecar.dashboards.labelValue)."),
    monitoringChartRepository: setting("string", chartRepository,
        "Mirror of kube-prometheus-stack's chart: a Helm repository (http(s)://...) or an OCI registry path (oci://...) " +
        "holding the same chart at the pinned version. Unset: the chart's own repository."),
    alertmanager: setting("boolean", flag, "Run Alertmanager."),
    controlPlaneMonitoring: setting("boolean", flag,
        "Scrape etcd, scheduler, controller manager and kube-proxy (kind binds them to localhost: off in dev)."),
    defaultDashboards: setting("boolean", flag, "Install Grafana's stock Kubernetes dashboards."),
    nodeExporter: setting("boolean", flag, "Run the node exporter (needs a privileged namespace)."),
    prometheusRetention: setting("string", promDuration, "How long Prometheus keeps data."),
    prometheusStorage: setting("boolean", flag, "Keep Prometheus data on a persistent volume."),
    prometheusStorageSize: setting("string", memoryQuantity, "Size of that volume."),
    storageClass: setting("string", dnsLabel, "StorageClass of the volume; unset means the cluster default."),
    prometheusCpuRequest: setting("string", cpuQuantity, "CPU request of Prometheus."),
    prometheusMemoryRequest: setting("string", memoryQuantity, "Memory request of Prometheus."),
    prometheusMemoryLimit: setting("string", memoryQuantity, "Memory limit of Prometheus."),
    grafanaHost: setting("string", hostname, "Host name of an Ingress for Grafana; unset means reach it by port-forward."),
    grafanaAdminPassword: setting("string", z.string().min(12, { error: "must be at least 12 characters" }),
        "Grafana admin password. Secret only; unset means a generated one.", true),
    runbookBaseUrl: setting("string", z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://github.com/acme/hello/blob/main/" }),
        "Where this repository is browsed: alerts' runbook_url links resolve against it. Unset leaves repository paths."),
    alertWebhookUrl: setting("string", z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
        "Webhook that receives alerts from Alertmanager (staging and prod). Secret only.", true),

    // Service level objectives.
    sloAvailability: setting("number", objectivePercent, "Availability objective in percent of non-5xx requests over 30 days."),
    sloLatencyThreshold: setting("number",
        z.number({ error: `must be one of the histogram buckets: ${LATENCY_BUCKET_BOUNDARIES.join(", ")} (seconds)` })
            .refine((v) => (LATENCY_BUCKET_BOUNDARIES as readonly number[]).includes(v), {
                error: `must be one of the histogram buckets: ${LATENCY_BUCKET_BOUNDARIES.join(", ")} (seconds)`,
            }),
        "Latency objective threshold in seconds; must be a histogram bucket boundary."),
    sloLatencyTarget: setting("number", objectivePercent, "Share of requests, in percent, that must be faster than the threshold."),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(name: string): name is SettingKey {
    return Object.prototype.hasOwnProperty.call(SETTINGS, name);
}

/** Keys a stack must set: no environment supplies a default. */
export const REQUIRED_KEYS: readonly SettingKey[] = ["kubeContext", "registry"];

type Schemas = { [K in SettingKey]: (typeof SETTINGS)[K]["schema"] };
const shape = Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].schema])) as Schemas;

/** Keys that may stay unset once defaults are applied. */
const OPTIONAL_KEYS = [
    "registryUsername", "registryPassword", "prebuiltImage", "builderImage", "runtimeImage", "cpuLimit",
    "ingressHost", "storageClass", "monitoringChartRepository", "existingMonitoringRelease", "grafanaHost", "grafanaAdminPassword",
    "alertWebhookUrl", "runbookBaseUrl",
] as const satisfies readonly SettingKey[];
type OptionalKey = (typeof OPTIONAL_KEYS)[number];
export function isOptional(key: SettingKey): boolean {
    return (OPTIONAL_KEYS as readonly string[]).includes(key);
}

/** The settings of one stack after defaults, decoding and validation. */
export type StackSettings = {
    readonly [K in Exclude<SettingKey, OptionalKey>]: z.infer<Schemas[K]>;
} & {
    readonly [K in OptionalKey]?: z.infer<Schemas[K]>;
};

/** The schema of a whole stack's settings (defaults already applied). */
export const stackSettingsSchema = z.object(
    Object.fromEntries(
        SETTING_KEYS.map((k) => [k, isOptional(k) ? shape[k].optional() : shape[k]]),
    ) as unknown as { [K in SettingKey]: z.ZodType },
);
