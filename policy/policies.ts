/**
 * The platform's guardrails for this project, as plain policy objects. `index.ts` only wraps them in a PolicyPack;
 * tests call `validateResource` directly (constructing a PolicyPack starts a gRPC server).
 *
 * Policies see each resource's inputs. Inside a `helm.v3.Release` they see values, not objects, so the policies
 * about pods render a local chart with the release's values (helm on PATH; without it they fail closed) and check
 * the objects it renders to; for a chart from a repository they check the values they know the meaning of.
 *
 * Enforcement: mandatory where a violation is a security or availability defect a platform team would not let
 * reach a cluster; advisory where it is hardening worth a look in review (see policy/README.md).
 */
import {
    ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, validateResourceOfType,
} from "@pulumi/policy";
import {
    APPROVED_LOCAL_CHARTS, APPROVED_REMOTE_CHARTS, approvedLocalChart, chartSource,
} from "./charts";
import { PROJECT_DIR, readChartYaml } from "../components/localChart";
import { POD_SECURITY_EXEMPTION } from "../components/podSecurity";
import { ENVIRONMENT_SCHEMA, EnvironmentConfig, resolveEnvironment, stackOfUrn } from "./environment";
import { ReleaseProps, ReleaseView, isUnknown, previewWithUnknowns, unproxied, viewRelease } from "./releases";
import * as kube from "./resourceTypes";
import { findSecrets } from "./secrets";
import {
    KubeObject, autoscalerOf, describeObject, imageProblems, missingResources, podSecurityProblems, podSpecOf,
    replicasOf, resourceProblems, writableRootProblems,
} from "./workloads";

/** Resource classes that run pods; the program creates none directly today, but a future one is covered. */
const WORKLOAD_CLASSES = [
    kube.Pod, kube.Deployment, kube.StatefulSet, kube.DaemonSet, kube.ReplicaSet, kube.Job, kube.CronJob,
] as const;

/** `kubernetes:apps/v1:Deployment` → `Deployment`: the kind, whether or not the inputs spell it. */
function kindOfType(type: string): string {
    return type.split(":").pop() ?? type;
}

/** A resource's inputs as a Kubernetes object. */
function asObject(props: unknown, args: ResourceValidationArgs): KubeObject {
    const obj = unproxied(props) as KubeObject;
    return { ...obj, kind: obj.kind ?? kindOfType(args.type), metadata: { name: args.name, ...obj.metadata } };
}

/** Runs `check` on every workload the program creates directly, reporting `<Kind> <ns>/<name>: <problem>`. */
function onWorkloads(check: (obj: KubeObject) => string[]): ResourceValidation[] {
    return WORKLOAD_CLASSES.map((cls) => validateResourceOfType(cls as any, (props: unknown, args, report) => {
        const obj = asObject(props, args);
        for (const problem of check(obj)) report(`${describeObject(obj)}: ${problem}`);
    }));
}

/** The pod-spec checks as object checks (objects that run no pods pass). */
function onPods(check: (podSpec: any) => string[]): (obj: KubeObject) => string[] {
    return (obj) => {
        const podSpec = podSpecOf(obj);
        return podSpec === undefined ? [] : check(podSpec);
    };
}

/**
 * Checks the objects a release installs. A local chart is rendered with the release's values and every object is
 * checked; when it cannot be rendered the policy fails closed (`failClosed`) or says so as advice. A chart from a
 * repository goes to `remote`, or the policy does not apply to it (`remoteReason`).
 */
function onRelease(opts: {
    readonly check: (objects: readonly KubeObject[], args: ResourceValidationArgs) => string[];
    readonly failClosed: boolean;
    readonly remote?: (release: ReleaseProps, view: ReleaseView, args: ResourceValidationArgs, report: ReportViolation) => void;
    readonly remoteReason?: string;
    /** Runs first; may call args.notApplicable(). */
    readonly guard?: (args: ResourceValidationArgs) => void;
}): ResourceValidation {
    return validateResourceOfType(kube.Release, async (release, args, report) => {
        opts.guard?.(args);
        const view = await viewRelease(release as ReleaseProps, args.name);
        if (view.kind === "remote") {
            if (opts.remote) opts.remote(release as ReleaseProps, view, args, report);
            else args.notApplicable(`${view.label}: ${opts.remoteReason}`);
            return;
        }
        if (!view.rendered.ok) {
            report(`${view.label}: cannot check the objects it installs, ${view.rendered.reason}` +
                (opts.failClosed ? " (mandatory policies fail closed: the release is not deployed unchecked)" : ""));
            return;
        }
        for (const problem of opts.check(view.rendered.objects, args)) report(`${view.label} → ${problem}`);
    });
}

/** Per-object checks over rendered objects, each problem prefixed with the object. */
function eachObject(check: (obj: KubeObject) => string[]): (objects: readonly KubeObject[]) => string[] {
    return (objects) => objects.flatMap((obj) => check(obj).map((problem) => `${describeObject(obj)}: ${problem}`));
}

const remoteChartPods = "a chart from a repository cannot be rendered here; its pods are admitted by its " +
    "namespace's Pod Security level (namespace-pod-security), its images pinned by its chart version (pinned-helm-charts)";

export const imagesByDigest: ResourceValidationPolicy = {
    name: "images-by-digest",
    description: "Every container runs an image pinned by digest (<repository>@sha256:<64 hex>): what runs is exactly what CI built, scanned and signed, and a rollout happens exactly when the content changes.",
    enforcementLevel: "mandatory",
    validateResource: [
        ...onWorkloads(onPods(imageProblems)),
        onRelease({ check: eachObject(onPods(imageProblems)), failClosed: true, remoteReason: remoteChartPods }),
    ],
};

export const podSecurityRestricted: ResourceValidationPolicy = {
    name: "pod-security-restricted",
    description: "Every pod meets Pod Security Standards \"restricted\": non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, no host namespaces, ports or paths.",
    enforcementLevel: "mandatory",
    validateResource: [
        ...onWorkloads(onPods(podSecurityProblems)),
        onRelease({ check: eachObject(onPods(podSecurityProblems)), failClosed: true, remoteReason: remoteChartPods }),
    ],
};

export const readOnlyRootFilesystem: ResourceValidationPolicy = {
    name: "read-only-root-filesystem",
    description: "Containers run with a read-only root filesystem (writable paths are emptyDir mounts). Hardening beyond Pod Security Standards: advice for review, not a gate.",
    enforcementLevel: "advisory",
    validateResource: [
        ...onWorkloads(onPods(writableRootProblems)),
        onRelease({ check: eachObject(onPods(writableRootProblems)), failClosed: false, remoteReason: remoteChartPods }),
    ],
};

/** kube-prometheus-stack's Prometheus: the one workload of that chart whose size the program decides. */
function prometheusResourceProblems(values: any): string[] {
    const missing = missingResources(values?.prometheus?.prometheusSpec?.resources)
        .map((field) => `prometheus.prometheusSpec.resources.${field}`);
    return missing.length > 0 ? [`${missing.join(", ")} must be set: Prometheus' memory grows with its series`] : [];
}

export const containerResources: ResourceValidationPolicy = {
    name: "container-resources",
    description: "Every container requests CPU and memory and has a memory limit, so the scheduler places it and the kernel bounds it. A CPU limit is optional (throttling hurts latency).",
    enforcementLevel: "mandatory",
    validateResource: [
        ...onWorkloads(onPods(resourceProblems)),
        onRelease({
            check: eachObject(onPods(resourceProblems)),
            failClosed: true,
            remote: (release, view, args, report) => {
                if (!view.chart.endsWith("kube-prometheus-stack")) {
                    args.notApplicable(`${view.label}: a chart from a repository whose resources values the pack does not know`);
                    return;
                }
                for (const problem of prometheusResourceProblems(unproxied(release.values))) report(`${view.label}: ${problem}`);
            },
        }),
    ],
};

/** Pod Security Standards levels, weakest last. */
const PSS_LEVELS = ["restricted", "baseline", "privileged"] as const;
type PssLevel = (typeof PSS_LEVELS)[number];


/**
 * Namespaces the platform team exempted from enforcing restricted, and the weakest level each may enforce.
 * kube-prometheus-stack's node exporter reads the host (hostNetwork, hostPID, hostPath).
 */
export const DEFAULT_POD_SECURITY_EXEMPTIONS: Readonly<Record<string, Exclude<PssLevel, "restricted">>> = {
    monitoring: "privileged",
};

interface NamespaceConfig {
    readonly podSecurityExemptions?: Readonly<Record<string, Exclude<PssLevel, "restricted">>>;
}

export const namespacePodSecurity: ResourceValidationPolicy = {
    name: "namespace-pod-security",
    description: "Every namespace the program creates enforces Pod Security Standards restricted, and audits and warns at restricted; only a namespace the platform team exempted may enforce less, up to its exempted level, and it records why (annotation hello.platform/pod-security-exemption).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            podSecurityExemptions: {
                type: "object",
                description: "Namespace name → the weakest Pod Security level it may enforce (baseline or privileged).",
                additionalProperties: { type: "string", enum: ["baseline", "privileged"] },
                default: { ...DEFAULT_POD_SECURITY_EXEMPTIONS },
            },
        },
    },
    validateResource: validateResourceOfType(kube.Namespace, (ns, args, report) => {
        const meta = (unproxied(ns) as KubeObject).metadata ?? {};
        const name = meta.name ?? args.name;
        const labels = meta.labels ?? {};
        const exemptions = args.getConfig<NamespaceConfig>().podSecurityExemptions ?? DEFAULT_POD_SECURITY_EXEMPTIONS;
        const enforce = labels["pod-security.kubernetes.io/enforce"] as PssLevel | undefined;
        if (enforce === undefined || !PSS_LEVELS.includes(enforce)) {
            report(`Namespace ${name}: label pod-security.kubernetes.io/enforce must be restricted (found ${enforce === undefined ? "none" : `"${enforce}"`})`);
        } else if (enforce !== "restricted") {
            const allowed = exemptions[name];
            if (allowed === undefined) {
                report(`Namespace ${name}: enforces "${enforce}", but only restricted is allowed; it is not among the exempted namespaces (${Object.keys(exemptions).join(", ") || "none"})`);
            } else if (PSS_LEVELS.indexOf(enforce) > PSS_LEVELS.indexOf(allowed)) {
                report(`Namespace ${name}: enforces "${enforce}", weaker than its exemption allows ("${allowed}")`);
            }
            if (!meta.annotations?.[POD_SECURITY_EXEMPTION]?.trim()) {
                report(`Namespace ${name}: enforces "${enforce}" without saying why: annotate it with ${POD_SECURITY_EXEMPTION}: <reason>`);
            }
        }
        for (const mode of ["audit", "warn"]) {
            const level = labels[`pod-security.kubernetes.io/${mode}`];
            if (level !== "restricted") {
                report(`Namespace ${name}: label pod-security.kubernetes.io/${mode} must be restricted (found ${level === undefined ? "none" : `"${level}"`}), so that what restricted would refuse shows up`);
            }
        }
    }),
};

/** Skips a prod-only policy outside prod. */
function prodOnly(args: ResourceValidationArgs): void {
    const { environment, source } = resolveEnvironment(args.urn, args.getConfig<EnvironmentConfig>());
    if (environment !== "prod") args.notApplicable(`prod only; this stack's environment is ${environment} (${source})`);
}

/** Skips the LoadBalancer policy where it does not apply: outside prod, or where the platform team allowed one. */
function prodWithoutLoadBalancerException(args: ResourceValidationArgs): void {
    prodOnly(args);
    if (args.getConfig<EnvironmentConfig>().allowLoadBalancer === true) {
        args.notApplicable("the platform team allowed this stack a LoadBalancer (allowLoadBalancer in its policy config)");
    }
}

/** LoadBalancer Services in a remote chart's values: any `<...>service.type` (grafana.service.type, ...). */
export function loadBalancerValuePaths(values: unknown, route = ""): string[] {
    if (!values || typeof values !== "object") return [];
    return Object.entries(values as Record<string, unknown>).flatMap(([key, value]) => {
        const here = route ? `${route}.${key}` : key;
        const typed = value as { type?: unknown } | null;
        const self = /service$/i.test(key) && typed !== null && typeof typed === "object" && typed.type === "LoadBalancer"
            ? [`${here}.type`] : [];
        return [...self, ...loadBalancerValuePaths(value, here)];
    });
}

function loadBalancerMessage(args: ResourceValidationArgs): string {
    const stack = stackOfUrn(args.urn) ?? "<stack>";
    return "is a LoadBalancer, a public endpoint: prod has one only where the platform team set " +
        `"allowLoadBalancer": true for the stack in policy/config/${stack}.json (and the stack sets ` +
        "hello-service:allowLoadBalancer: true); otherwise use ClusterIP behind the Ingress";
}

export const noLoadBalancerInProd: ResourceValidationPolicy = {
    name: "no-load-balancer-in-prod",
    description: "No Service of type LoadBalancer in prod unless the platform team allowed it for the stack (policy config allowLoadBalancer): prod is reached through the Ingress.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            ...ENVIRONMENT_SCHEMA.properties,
            allowLoadBalancer: {
                type: "boolean",
                default: false,
                description: "The platform team allowed this prod stack a LoadBalancer Service (a deliberate public endpoint).",
            },
        },
    },
    validateResource: [
        validateResourceOfType(kube.Service, (svc, args, report) => {
            prodWithoutLoadBalancerException(args);
            const obj = asObject(svc, args);
            if (obj.spec?.type === "LoadBalancer") report(`${describeObject(obj)} ${loadBalancerMessage(args)}`);
        }),
        onRelease({
            guard: prodWithoutLoadBalancerException,
            failClosed: true,
            check: (objects, args) => objects
                .filter((obj) => obj.kind === "Service" && obj.spec?.type === "LoadBalancer")
                .map((obj) => `${describeObject(obj)} ${loadBalancerMessage(args)}`),
            remote: (release, view, args, report) => {
                for (const at of loadBalancerValuePaths(unproxied(release.values))) {
                    report(`${view.label}: values ${at} ${loadBalancerMessage(args)}`);
                }
            },
        }),
    ],
};

const MIN_PROD_REPLICAS = 2;

/** Replica problems among objects that ship together: an autoscaler there decides its target's count. */
export function replicaProblems(objects: readonly KubeObject[]): string[] {
    const scalers = objects.map((obj) => ({ obj, hpa: autoscalerOf(obj) })).filter((s) => s.hpa !== undefined);
    const problems: string[] = [];
    for (const { obj, hpa } of scalers) {
        if (hpa!.min < MIN_PROD_REPLICAS) {
            problems.push(`${describeObject(obj)}: minReplicas is ${hpa!.min}; prod keeps at least ${MIN_PROD_REPLICAS} pods, so one failure or node drain never takes the service down`);
        }
    }
    for (const obj of objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet")) {
        const scaled = scalers.some(({ hpa }) => hpa!.targetKind === obj.kind && hpa!.targetName === obj.metadata?.name);
        if (!scaled && replicasOf(obj) < MIN_PROD_REPLICAS) {
            problems.push(`${describeObject(obj)}: runs ${replicasOf(obj)} replica(s); prod needs at least ${MIN_PROD_REPLICAS} (or an autoscaler with minReplicas >= ${MIN_PROD_REPLICAS} shipped with it)`);
        }
    }
    return problems;
}

export const minReplicasInProd: ResourceValidationPolicy = {
    name: "min-replicas-in-prod",
    description: "In prod every Deployment and StatefulSet runs at least 2 pods, or is scaled by an autoscaler whose minReplicas is at least 2.",
    enforcementLevel: "mandatory",
    configSchema: ENVIRONMENT_SCHEMA,
    validateResource: [
        ...[kube.Deployment, kube.StatefulSet, kube.HorizontalPodAutoscalerV2, kube.HorizontalPodAutoscalerV1]
            .map((cls) => validateResourceOfType(cls as any, (props: unknown, args, report) => {
                prodOnly(args);
                for (const problem of replicaProblems([asObject(props, args)])) report(problem);
            })),
        onRelease({
            guard: prodOnly,
            failClosed: true,
            check: (objects) => replicaProblems(objects),
            remoteReason: "a chart from a repository: its replica counts are the chart's",
        }),
    ],
};

/** Rules for charts whose values the platform team knows, beyond the generic scan. */
function chartSecretRules(chart: string, values: any): string[] {
    if (!chart.endsWith("kube-prometheus-stack")) return [];
    const problems: string[] = [];
    if (values?.grafana?.enabled !== false && !(typeof values?.grafana?.admin?.existingSecret === "string" && values.grafana.admin.existingSecret)) {
        problems.push("grafana.admin.existingSecret must name the Secret with Grafana's admin credentials; without it Grafana takes its admin password from values (the chart's default is well known)");
    }
    const receivers = (values?.alertmanager?.config?.receivers ?? []) as Record<string, unknown>[];
    if (receivers.some((r) => Object.keys(r ?? {}).some((k) => k.endsWith("_configs")))) {
        problems.push("alertmanager.config holds receivers, whose URLs and keys end up in the release's values; ship alertmanager.yaml in a Secret (alertmanager.alertmanagerSpec.useExistingSecret and configSecret)");
    }
    return problems;
}

export const noSecretsInHelmValues: ResourceValidationPolicy = {
    name: "no-secrets-in-helm-values",
    description: "No credential in any helm.v3.Release's values (Helm keeps values in plaintext in the cluster, Pulumi in the state): values name Secrets (existingSecret, configSecret, secretName), never hold what is in them.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(kube.Release, (release, args, report) => {
        const values = unproxied(release.values);
        const name = (release as ReleaseProps).name ?? args.name;
        for (const finding of findSecrets(values, isUnknown)) {
            report(`release "${name}": values ${finding.path} ${finding.reason}; put it in a Kubernetes Secret and reference that Secret from the values`);
        }
        const chart = String(release.chart ?? "");
        for (const problem of chartSecretRules(chart, values)) {
            report(`release "${name}" (${chart}): ${problem}`);
        }
    }),
};

/** Config of pinned-helm-charts: the mirrors the platform team approved for a stack (policy/config/<stack>.json). */
export interface ChartPinConfig {
    /** Chart name → the one other repository it may come from: a Helm repository URL or an `oci://` registry path. */
    readonly mirrors?: Readonly<Record<string, string>>;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * Why a release's chart is not an approved chart at its approved version (pure; `projectDir` holds local charts). A
 * chart from a repository comes from its approved repository, or from the mirror `config` names for it.
 */
export function chartPinProblems(release: ReleaseProps, config: ChartPinConfig = {}, projectDir = PROJECT_DIR): string[] {
    const chart = String(release.chart ?? "");
    const version = release.version;
    const source = chartSource(chart, release.repositoryOpts?.repo, projectDir);
    if (source.kind === "remote") {
        const approved = APPROVED_REMOTE_CHARTS.find((c) => c.name === source.name);
        if (!approved) {
            const names = [...APPROVED_REMOTE_CHARTS, ...APPROVED_LOCAL_CHARTS].map((c) => c.name).join(", ");
            return [`chart "${chart}" is not approved (approved: ${names}); a new chart is added to policy/charts.ts with the platform team`];
        }
        const problems: string[] = [];
        const mirror = config.mirrors?.[approved.name];
        const allowed = [approved.repo, ...(mirror ? [mirror] : [])].map(withoutTrailingSlash);
        if (!allowed.includes(withoutTrailingSlash(source.repo ?? ""))) {
            problems.push(`chart "${chart}" must come from ${allowed.join(" or its approved mirror ")} (its repository is ` +
                `${source.repo ?? "unset"}); a mirror is approved per stack in policy/config/<stack>.json (mirrors)`);
        }
        if (version !== approved.version) {
            problems.push(`chart "${chart}" must be pinned to the approved version ${approved.version} (version is ` +
                `${version ?? "unset, which installs whatever is latest"}); a new version is approved in policy/charts.ts`);
        }
        return problems;
    }
    const approved = approvedLocalChart(source.dir, projectDir);
    if (!approved) {
        return [`local chart "${chart}" is not approved (approved: ${APPROVED_LOCAL_CHARTS.map((c) => c.path).join(", ")})`];
    }
    const problems: string[] = [];
    const actual = readChartYaml(source.dir).version;
    if (actual !== approved.version) {
        problems.push(`chart ${approved.path} is version ${actual ?? "unknown (no Chart.yaml)"}, the approved version is ` +
            `${approved.version}: approve the new version in policy/charts.ts with the platform team`);
    }
    // "" is not a version: it is how the provider reports a local chart it did not load in this preview.
    if (version !== undefined && !previewWithUnknowns(release) && version !== approved.version) {
        problems.push(`version ${version} does not match the approved version ${approved.version} of ${approved.path}`);
    }
    return problems;
}

export const pinnedHelmCharts: ResourceValidationPolicy = {
    name: "pinned-helm-charts",
    description: "Every helm.v3.Release installs a chart the platform team approved, at the approved version (policy/charts.ts): an upgrade is a reviewed change, never a side effect of a repository update.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            mirrors: {
                type: "object",
                description: "Chart name → the mirror (Helm repository URL or oci:// registry path) this stack may install it from, as its hello-service:monitoringChartRepository says.",
                additionalProperties: { type: "string", pattern: "^(https?|oci)://" },
                default: {},
            },
        },
    },
    validateResource: validateResourceOfType(kube.Release, (release, args, report) => {
        for (const problem of chartPinProblems(unproxied(release) as ReleaseProps, args.getConfig<ChartPinConfig>())) {
            report(`release "${release.name ?? args.name}": ${problem}`);
        }
    }),
};

export const atomicHelmReleases: ResourceValidationPolicy = {
    name: "atomic-helm-releases",
    description: "Helm releases are atomic (a failed upgrade rolls itself back) and keep a bounded history (maxHistory). Advice: a release may opt out for a reason.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(kube.Release, (release, args, report) => {
        const label = `release "${release.name ?? args.name}"`;
        if (release.atomic !== true) report(`${label}: atomic should be true, so that a failed upgrade rolls back instead of leaving a half-upgraded release`);
        if (release.skipAwait === true) report(`${label}: skipAwait should not be true, or Pulumi reports success before the pods are ready`);
        if (typeof release.maxHistory !== "number" || release.maxHistory < 1) report(`${label}: maxHistory should be set, so that release history (a Secret per revision) stays bounded`);
    }),
};

/** Every policy of the pack, in the order they are reported. */
export const POLICIES: readonly ResourceValidationPolicy[] = [
    imagesByDigest,
    podSecurityRestricted,
    readOnlyRootFilesystem,
    containerResources,
    namespacePodSecurity,
    noLoadBalancerInProd,
    minReplicasInProd,
    noSecretsInHelmValues,
    pinnedHelmCharts,
    atomicHelmReleases,
];
