/**
 * What the policies check on Kubernetes objects, as pure functions over plain data: the same checks run on the
 * objects the program creates directly and on the objects a chart renders to. Each returns the problems in words
 * a reviewer can act on (field paths as in the manifest), never the values of secrets.
 */

import { IMAGE_BY_DIGEST } from "../components/imageReference";

/** A Kubernetes object as a policy sees it: the program's inputs, or a rendered manifest. */
export interface KubeObject {
    readonly apiVersion?: string;
    readonly kind?: string;
    readonly metadata?: {
        readonly name?: string;
        readonly namespace?: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly spec?: any;
    readonly [field: string]: unknown;
}

/** Kinds that run pods, and where their pod spec is. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    Pod: ["spec"],
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const WORKLOAD_KINDS = Object.keys(POD_SPEC_PATHS);

/** `Deployment hello/hello`: how messages name an object. */
export function describeObject(obj: KubeObject, fallbackName = "<unnamed>"): string {
    const name = obj.metadata?.name ?? fallbackName;
    return `${obj.kind ?? "object"} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${name}`;
}

/** The pod spec of a workload, or undefined for objects that run no pods. */
export function podSpecOf(obj: KubeObject): any | undefined {
    const route = obj.kind ? POD_SPEC_PATHS[obj.kind] : undefined;
    if (!route) return undefined;
    let node: any = obj;
    for (const key of route) node = node?.[key];
    return node ?? {};
}

interface Container {
    readonly name?: string;
    readonly image?: string;
    readonly securityContext?: any;
    readonly resources?: any;
    readonly ports?: readonly any[];
}

/** Every container of a pod spec, init and ephemeral ones included, with a label for messages. */
function containersOf(podSpec: any): { readonly label: string; readonly container: Container; readonly ephemeral: boolean }[] {
    const groups: [string, string, boolean][] = [
        ["containers", "container", false],
        ["initContainers", "init container", false],
        ["ephemeralContainers", "ephemeral container", true],
    ];
    return groups.flatMap(([field, word, ephemeral]) =>
        ((podSpec?.[field] ?? []) as Container[]).map((container, i) => ({
            label: `${word} "${container?.name ?? `#${i}`}"`,
            container: container ?? {},
            ephemeral,
        })));
}

/** Volume types Pod Security Standards "restricted" allows. */
const RESTRICTED_VOLUME_TYPES = new Set([
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
]);

/**
 * Pod Security Standards "restricted" (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
 * no host namespaces, ports or paths, no privileged containers, non-root, no privilege escalation, every
 * capability dropped (NET_BIND_SERVICE may be added back), RuntimeDefault or Localhost seccomp.
 */
export function podSecurityProblems(podSpec: any): string[] {
    const problems: string[] = [];
    const pod = podSpec?.securityContext ?? {};
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
        if (podSpec?.[field] === true) problems.push(`spec.${field} must not be true`);
    }
    for (const volume of (podSpec?.volumes ?? []) as Record<string, unknown>[]) {
        const types = Object.keys(volume ?? {}).filter((k) => k !== "name");
        const bad = types.filter((t) => !RESTRICTED_VOLUME_TYPES.has(t));
        if (bad.length > 0) problems.push(`volume "${String(volume.name)}" is of type ${bad.join(", ")}, which restricted does not allow`);
    }
    const seccompOk = (ctx: any) => ["RuntimeDefault", "Localhost"].includes(ctx?.seccompProfile?.type);
    for (const { label, container } of containersOf(podSpec)) {
        const ctx = container.securityContext ?? {};
        if (ctx.privileged === true) problems.push(`${label}: securityContext.privileged must not be true`);
        if (ctx.allowPrivilegeEscalation !== false) {
            problems.push(`${label}: securityContext.allowPrivilegeEscalation must be false`);
        }
        if ((ctx.runAsNonRoot ?? pod.runAsNonRoot) !== true) {
            problems.push(`${label}: runAsNonRoot must be true (in the container's or the pod's securityContext)`);
        }
        if ((ctx.runAsUser ?? pod.runAsUser) === 0) problems.push(`${label}: runAsUser must not be 0 (root)`);
        if (!seccompOk(ctx) && !(ctx.seccompProfile === undefined && seccompOk(pod))) {
            problems.push(`${label}: seccompProfile.type must be RuntimeDefault or Localhost (in the container's or the pod's securityContext)`);
        }
        const drop = (ctx.capabilities?.drop ?? []) as string[];
        if (!drop.includes("ALL")) problems.push(`${label}: securityContext.capabilities.drop must include ALL`);
        const added = ((ctx.capabilities?.add ?? []) as string[]).filter((c) => c !== "NET_BIND_SERVICE");
        if (added.length > 0) problems.push(`${label}: securityContext.capabilities.add may only hold NET_BIND_SERVICE, not ${added.join(", ")}`);
        for (const port of container.ports ?? []) {
            if (port?.hostPort) problems.push(`${label}: hostPort ${port.hostPort} must not be used`);
        }
    }
    return problems;
}

/** Containers whose root filesystem is writable (`securityContext.readOnlyRootFilesystem` not true). */
export function writableRootProblems(podSpec: any): string[] {
    return containersOf(podSpec)
        .filter(({ container, ephemeral }) => !ephemeral && container.securityContext?.readOnlyRootFilesystem !== true)
        .map(({ label }) => `${label}: securityContext.readOnlyRootFilesystem should be true (mount an emptyDir where it writes)`);
}

/**
 * Requests for CPU and memory and a memory limit on every container. A CPU limit is not required: CFS throttling
 * hurts latency, and Go services size GOMAXPROCS from the request (charts/go-service/README.md).
 */
export function resourceProblems(podSpec: any): string[] {
    const problems: string[] = [];
    for (const { label, container, ephemeral } of containersOf(podSpec)) {
        if (ephemeral) continue; // ephemeral containers cannot have resources
        const missing = missingResources(container.resources).map((field) => `resources.${field}`);
        if (missing.length > 0) problems.push(`${label}: ${missing.join(", ")} must be set`);
    }
    return problems;
}

/** The fields of a container's `resources` every workload must set: `requests.cpu`, `requests.memory`, `limits.memory`. */
export function missingResources(resources: any): string[] {
    return [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]
        .filter(([kind, name]) => resources?.[kind]?.[name] === undefined || resources?.[kind]?.[name] === "")
        .map(([kind, name]) => `${kind}.${name}`);
}

export function imageProblems(podSpec: any): string[] {
    return containersOf(podSpec)
        .filter(({ container }) => typeof container.image !== "string" || !IMAGE_BY_DIGEST.test(container.image))
        .map(({ label, container }) =>
            `${label}: image "${String(container.image)}" must be pinned by digest (<repository>@sha256:<64 hex>), not a tag`);
}

/** The replicas a workload runs when no autoscaler manages it (Kubernetes defaults an unset count to 1). */
export function replicasOf(obj: KubeObject): number {
    const replicas = obj.spec?.replicas;
    return typeof replicas === "number" ? replicas : 1;
}

/** The minimum of a HorizontalPodAutoscaler (Kubernetes defaults an unset minimum to 1) and its target. */
export function autoscalerOf(obj: KubeObject): { readonly min: number; readonly targetKind?: string; readonly targetName?: string } | undefined {
    if (obj.kind !== "HorizontalPodAutoscaler") return undefined;
    const min = obj.spec?.minReplicas;
    return {
        min: typeof min === "number" ? min : 1,
        targetKind: obj.spec?.scaleTargetRef?.kind,
        targetName: obj.spec?.scaleTargetRef?.name,
    };
}
