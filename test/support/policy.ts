/**
 * Fixtures of the policy specs: resources as the program registers them (built by the program's own builders where
 * it builds them), a container that meets every pod policy, temporary charts, and the verdicts a spec asserts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KUBE_PROMETHEUS_STACK } from "../../components/monitoringStack";
import { podSecurityLabels, POD_SECURITY_EXEMPTION } from "../../components/namespace";
import { buildServiceValues, ServiceSpec } from "../../components/serviceRelease";
import { BASE_DEFAULTS } from "../../stacks/environments";
import { POLICIES } from "../../policy/policies";
import { packConfig, PolicyOutcome, runPolicy, TestResource, UNKNOWN } from "../../policy/testing";
import type { CapturedResource, ProgramRun } from "../../scripts/lib/program";

export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const DIGEST = `sha256:${"a".repeat(64)}`;
export const IMAGE = `ghcr.io/acme/hello@${DIGEST}`;

/** A container that meets every pod policy, so that a spec's one change is the only finding. */
export const SECURE_CONTAINER = {
    name: "app",
    image: IMAGE,
    securityContext: {
        allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 65532,
        capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "128Mi" } },
};

/**
 * The service's values as the program builds them for every environment's base defaults (2 replicas, ClusterIP, no
 * autoscaler) changed by `spec`, as plain data, as the wire carries them.
 */
export function serviceValues(spec: Partial<ServiceSpec> = {}, digest: unknown = DIGEST): Record<string, any> {
    const base = BASE_DEFAULTS as ServiceSpec;
    return JSON.parse(JSON.stringify(buildServiceValues({ ...base, ...spec }, { repository: "ghcr.io/acme/hello", digest })));
}

/** The service's release as the program registers it; `version: ""` in `extra` is a preview's not-yet-known input. */
export function serviceRelease(values: unknown, opts: { chart?: string; stack?: string; extra?: Record<string, unknown> } = {}): TestResource {
    return {
        type: RELEASE, name: "hello", stack: opts.stack,
        inputs: {
            name: "hello", chart: opts.chart ?? "./charts/go-service", namespace: "hello", values,
            atomic: true, cleanupOnFail: true, maxHistory: 10, timeout: 300, ...opts.extra,
        },
    };
}

/** kube-prometheus-stack as the program installs it (resource "monitoring", release named as the chart); no `values` when undefined. */
export function monitoringRelease(values: unknown, extra: Record<string, unknown> = {}, stack?: string): TestResource {
    return {
        type: RELEASE, name: "monitoring", stack,
        inputs: {
            name: "kube-prometheus-stack", chart: KUBE_PROMETHEUS_STACK.chart, version: KUBE_PROMETHEUS_STACK.version,
            repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo }, namespace: "monitoring", atomic: true, maxHistory: 10,
            ...(values !== undefined && { values }), ...extra,
        },
    };
}

/** A namespace enforcing `enforce`, with the program's exemption annotation when `reason` is given. */
export function namespace(
    name: string,
    enforce: "restricted" | "baseline" | "privileged",
    opts: { reason?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): TestResource {
    const annotations = { ...opts.annotations, ...(opts.reason !== undefined && { [POD_SECURITY_EXEMPTION]: opts.reason }) };
    return {
        type: "kubernetes:core/v1:Namespace", name,
        inputs: {
            metadata: {
                name,
                labels: { ...podSecurityLabels(enforce), ...opts.labels },
                ...(Object.keys(annotations).length > 0 && { annotations }),
            },
        },
    };
}

/** Temporary directories of the policy specs; `removeTempDirs` (an `after` hook) deletes them. */
const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
}
export function removeTempDirs(): void {
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A copy of charts/go-service, changed by `edit` (it gets the chart's directory), as a chart path for a release. */
export function chartCopy(edit: (chart: string) => void): string {
    const chart = path.join(tempDir("policy-chart-"), "go-service");
    fs.cpSync(path.join(__dirname, "..", "..", "charts", "go-service"), chart, { recursive: true });
    edit(chart);
    return chart;
}

/** The policy ran and found nothing. */
export function assertPasses(outcome: PolicyOutcome, what = "expected no violation"): void {
    assert.deepStrictEqual(outcome.violations, [], what);
    assert.deepStrictEqual(outcome.unknownDuringPreview, [], `${what}: expected the policy to run`);
}

/** Mocks capture an unknown input as `{__pulumiUnknown: true}`; the engine hands the analyzer its unknown marker. */
export function toWire(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(toWire);
    if (value && typeof value === "object") {
        if ((value as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) return UNKNOWN;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
    }
    return value;
}

export interface Findings {
    /** `<policy>: <type>::<name>: <message>` */
    readonly violations: string[];
    /** Validations the engine would skip as "can't run during preview". */
    readonly skipped: string[];
    /** `<policy> <type>::<name>` for every policy that applied to a resource. */
    readonly applied: string[];
}

/** What the policies of `level` find over the run's custom resources. */
export async function findings(run: ProgramRun, stack: string, level: "mandatory" | "advisory"): Promise<Findings> {
    const config = packConfig(stack);
    const violations: string[] = [];
    const skipped: string[] = [];
    const applied: string[] = [];
    const resources = run.resources.filter((r: CapturedResource) => r.custom && !r.type.startsWith("pulumi:providers:"));
    for (const policy of POLICIES.filter((p) => p.enforcementLevel === level)) {
        for (const r of resources) {
            const outcome = await runPolicy(policy, { type: r.type, name: r.name, inputs: toWire(r.inputs), stack }, config);
            violations.push(...outcome.violations.map((v) => `${policy.name}: ${r.type}::${r.name}: ${v}`));
            skipped.push(...outcome.unknownDuringPreview.map((v) => `${policy.name}: ${r.type}::${r.name}: ${v}`));
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource.length : 1;
            if (outcome.notApplicable.length < validations) applied.push(`${policy.name} ${r.type}::${r.name}`);
        }
    }
    return { violations, skipped, applied };
}
