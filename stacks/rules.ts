/**
 * Rules that span several keys or depend on the environment. Each returns issues in the user's words;
 * `load.ts` reports them together with the per-key problems.
 */
import type { SettingIssue } from "./issues";
import { SETTINGS, SettingKey, StackSettings } from "./settings";

/**
 * Keys that configure the kube-prometheus-stack a stack installs. A stack that joins an existing one
 * (`existingMonitoringRelease`) installs none, so none of them would take effect there.
 */
export const INSTALLED_MONITORING_KEYS = [
    "monitoringChartRepository", "alertmanager", "controlPlaneMonitoring", "defaultDashboards", "nodeExporter",
    "prometheusRetention", "prometheusStorage", "prometheusStorageSize", "storageClass", "prometheusCpuRequest",
    "prometheusMemoryRequest", "prometheusMemoryLimit", "grafanaAdminPassword", "alertWebhookUrl",
] as const satisfies readonly SettingKey[];

/** Tags that move: a deployment that names one cannot say what it runs. */
export const FLOATING_TAGS = ["latest", "stable", "edge", "nightly", "main", "master", "head", "current"];

/** Registries a production cluster cannot pull from. */
const LOCAL_REGISTRY = /^(localhost|127\.[0-9.]+|\[?::1\]?|0\.0\.0\.0|host\.docker\.internal|kind-registry|[^/:]+\.local)(:[0-9]+)?(\/|$)/;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bytes in a memory quantity such as `64Mi` (already validated by the schema). */
export function memoryBytes(quantity: string): number {
    const [, digits, unit = ""] = /^([0-9]+)([A-Za-z]*)$/.exec(quantity) ?? [];
    return Number(digits) * (BINARY[unit] ?? DECIMAL[unit] ?? 1);
}

/** Millicores in a CPU quantity such as `250m` or `1.5`. */
export function cpuMillis(quantity: string): number {
    return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

export interface RuleResult {
    readonly errors: SettingIssue[];
    /** Worth a line in every preview, but not worth refusing to deploy. */
    readonly warnings: SettingIssue[];
}

/**
 * Applies every cross-key and per-environment rule. `key` turns a setting into its full config key; `given` holds the
 * keys the stack sets itself (not from its environment's defaults).
 */
export function checkRules(s: StackSettings, key: (k: SettingKey) => string, given: ReadonlySet<SettingKey> = new Set()): RuleResult {
    const errors: SettingIssue[] = [];
    const warnings: SettingIssue[] = [];
    const prod = s.environment === "prod";
    // Joining an existing kube-prometheus-stack: its Prometheus, Alertmanager and Grafana are its own team's.
    const joined = s.existingMonitoringRelease;
    const installs = joined === undefined;

    if (!installs) {
        for (const k of INSTALLED_MONITORING_KEYS.filter((k) => given.has(k))) {
            errors.push({
                key: key(k), value: s[k], secret: SETTINGS[k].secret,
                message: `configures the kube-prometheus-stack a stack installs; this stack joins the existing release ` +
                    `${joined} in namespace ${s.monitoringNamespace} (existingMonitoringRelease) and installs none: remove it`,
            });
        }
    }

    if (FLOATING_TAGS.includes(s.imageTag.toLowerCase())) {
        errors.push({
            key: key("imageTag"), value: s.imageTag,
            message: `a floating tag cannot be pushed; use a name that does not move (e.g. the environment or a version), not ${FLOATING_TAGS.join(", ")}`,
        });
    }
    const repository = `${s.registry}/${s.imageName}`;
    if (s.prebuiltImage !== undefined && s.prebuiltImage.split("@")[0] !== repository) {
        errors.push({
            key: key("prebuiltImage"), value: s.prebuiltImage,
            message: `must come from this stack's repository ${repository} (registry/imageName)`,
        });
    }
    if ((s.registryUsername === undefined) !== (s.registryPassword === undefined)) {
        const missing = s.registryUsername === undefined ? "registryUsername" : "registryPassword";
        errors.push({
            key: key(missing),
            message: `registryUsername and registryPassword go together: set both, or neither to use your docker login`,
        });
    }
    if (s.autoscaling && s.autoscalingMinReplicas > s.autoscalingMaxReplicas) {
        errors.push({
            key: key("autoscalingMinReplicas"), value: s.autoscalingMinReplicas,
            message: `must not exceed autoscalingMaxReplicas (${s.autoscalingMaxReplicas})`,
        });
    }
    if (s.cpuLimit !== undefined && cpuMillis(s.cpuRequest) > cpuMillis(s.cpuLimit)) {
        errors.push({
            key: key("cpuRequest"), value: s.cpuRequest,
            message: `must not exceed cpuLimit (${s.cpuLimit})`,
        });
    }
    if (installs && memoryBytes(s.prometheusMemoryRequest) > memoryBytes(s.prometheusMemoryLimit)) {
        errors.push({
            key: key("prometheusMemoryRequest"), value: s.prometheusMemoryRequest,
            message: `must not exceed prometheusMemoryLimit (${s.prometheusMemoryLimit})`,
        });
    }

    if (installs && s.environment !== "dev" && s.monitoringChartRepository?.startsWith("http://")) {
        errors.push({
            key: key("monitoringChartRepository"), value: s.monitoringChartRepository,
            message: `a chart fetched over plain HTTP can be altered on the way into ${s.environment}; use https:// or oci://`,
        });
    }

    if (prod) {
        if (!s.autoscaling && s.replicas < 2) {
            errors.push({
                key: key("replicas"), value: s.replicas,
                message: "prod needs at least 2 replicas (or autoscaling with autoscalingMinReplicas of 2 or more)",
            });
        }
        if (s.autoscaling && s.autoscalingMinReplicas < 2) {
            errors.push({
                key: key("autoscalingMinReplicas"), value: s.autoscalingMinReplicas,
                message: "prod needs the autoscaler to keep at least 2 replicas",
            });
        }
        if (installs && !s.prometheusStorage) {
            errors.push({
                key: key("prometheusStorage"), value: s.prometheusStorage,
                message: "prod needs persistent Prometheus storage (true), or a restart loses its history",
            });
        }
        if (LOCAL_REGISTRY.test(s.registry)) {
            errors.push({
                key: key("registry"), value: s.registry,
                message: "prod needs a registry its cluster can pull from, not a local one (localhost, 127.0.0.1, *.local, kind-registry)",
            });
        }
        if (installs && !s.alertmanager) {
            errors.push({
                key: key("alertmanager"), value: s.alertmanager,
                message: "prod needs Alertmanager (true): without it no alert reaches anyone",
            });
        }
        if (s.serviceType === "LoadBalancer" && !s.allowLoadBalancer) {
            errors.push({
                key: key("serviceType"), value: s.serviceType,
                message: "a LoadBalancer in prod is a public endpoint: set allowLoadBalancer: true to mean it, or use ClusterIP with an Ingress",
            });
        }
    }

    if (installs && s.alertmanager && s.alertWebhookUrl === undefined && s.environment !== "dev") {
        warnings.push({
            key: key("alertWebhookUrl"),
            message: `not set: Alertmanager in ${s.environment} has no receiver, so alerts reach no one. ` +
                `Set it with: pulumi config set --secret ${key("alertWebhookUrl")} <url>`,
        });
    }
    if (installs && s.alertWebhookUrl !== undefined && !s.alertmanager) {
        warnings.push({
            key: key("alertWebhookUrl"), secret: true, value: s.alertWebhookUrl,
            message: "is ignored: Alertmanager is off in this stack (alertmanager: false)",
        });
    }
    return { errors, warnings };
}
