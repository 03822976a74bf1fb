/**
 * Ties values to the real chart (charts/go-service): renders them with the pinned helm, lints them and scores the
 * rendered objects with kube-score. The chart's own specs use it, and so do the program's tests, to check that the
 * values they generate install cleanly:
 *
 *     const manifests = await helmTemplate(buildServiceValues(settings), { releaseName: "hello", namespace: "hello" });
 *     assert.deepStrictEqual(await kubeScore(manifests), []);
 *
 * helm and kube-score come from PATH: `npm test` puts the pinned builds there (scripts/tools.sh).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import * as render from "../../policy/render";

/** The chart's directory. */
export const CHART_DIR = path.resolve(__dirname, "../../charts/go-service");

/** The Kubernetes version renders and lints target: the one the policy pack renders for (the chart's oldest). */
export const KUBE_VERSION = render.KUBE_VERSION;

/** The names of the representative value sets in charts/go-service/ci/ (`<name>-values.yaml`). */
export type CiValueSet = "dev" | "staging" | "prod";
export const CI_VALUE_SETS: readonly CiValueSet[] = ["dev", "staging", "prod"];

export interface ObjectMeta {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** One rendered Kubernetes object. `spec` is loosely typed: specs assert on the fields they care about. */
export interface ManifestObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: ObjectMeta;
    readonly spec?: any;
    readonly [field: string]: unknown;
}

export interface RenderOptions {
    /** The chart. @default charts/go-service */
    readonly chartDir?: string;
    /** @default "hello" */
    readonly releaseName?: string;
    /** @default "default" */
    readonly namespace?: string;
    /** @default KUBE_VERSION */
    readonly kubeVersion?: string;
}

/** A helm or kube-score run that failed; `output` holds what the tool printed (stderr, then stdout). */
export class ToolError extends Error {
    constructor(
        readonly tool: string,
        readonly args: readonly string[],
        readonly output: string,
    ) {
        super(`${tool} ${args.join(" ")} failed:\n${output}`);
        this.name = "ToolError";
    }
}

interface RunResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

function run(tool: string, args: readonly string[], input?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(tool, args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        child.on("error", (err: NodeJS.ErrnoException) => {
            if (err.code === "ENOENT") {
                reject(
                    new Error(
                        `${tool} is not on PATH: run npm test, or put the pinned tools on PATH with PATH="$(scripts/tools.sh):$PATH"`,
                    ),
                );
            } else {
                reject(err);
            }
        });
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? "");
    });
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseManifests(yamlText: string): ManifestObject[] {
    return render.parseManifests(yamlText) as ManifestObject[];
}

/**
 * `helm template` with `values` over the chart's defaults, exactly as the policy pack renders a release.
 * Rejects with helm's message when the schema or a template refuses the values.
 */
export async function helmTemplate(values: object, opts: RenderOptions = {}): Promise<ManifestObject[]> {
    const text = await render.helmTemplate({
        chartDir: opts.chartDir ?? CHART_DIR,
        releaseName: opts.releaseName ?? "hello",
        namespace: opts.namespace ?? "default",
        values,
    }, opts.kubeVersion ?? KUBE_VERSION);
    return parseManifests(text);
}

/**
 * `helm lint --strict` with `values`. Resolves with helm's report; rejects with a ToolError (whose output names
 * the offending value) when linting fails.
 */
export async function helmLint(values: object, opts: RenderOptions = {}): Promise<string> {
    return render.withValuesFile(values, async (file) => {
        const args = [
            "lint",
            opts.chartDir ?? CHART_DIR,
            "--strict",
            "--namespace",
            opts.namespace ?? "default",
            "--kube-version",
            opts.kubeVersion ?? KUBE_VERSION,
            "--values",
            file,
        ];
        const res = await run("helm", args);
        if (res.code !== 0) throw new ToolError("helm", args, res.stderr + res.stdout);
        return res.stdout;
    });
}

/**
 * The rendered NOTES.txt for `values`. `helm template` does not print notes and `helm install --dry-run` needs a
 * cluster, so a throwaway copy of the chart renders NOTES.txt through `tpl` inside a ConfigMap: the same text
 * with the same values and helpers.
 */
export async function helmNotes(values: object, opts: RenderOptions = {}): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "go-service-notes-"));
    try {
        const chart = path.join(dir, "go-service");
        await fs.cp(CHART_DIR, chart, { recursive: true });
        await fs.rename(path.join(chart, "templates", "NOTES.txt"), path.join(chart, "notes-under-test.txt"));
        await fs.writeFile(
            path.join(chart, "templates", "zz-notes-under-test.yaml"),
            [
                "apiVersion: v1",
                "kind: ConfigMap",
                "metadata:",
                "  name: notes-under-test",
                "data:",
                '  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}',
                "",
            ].join("\n"),
        );
        return await render.withValuesFile(values, async (file) => {
            const args = ["template", opts.releaseName ?? "hello", chart, "--namespace", opts.namespace ?? "default",
                "--kube-version", opts.kubeVersion ?? KUBE_VERSION, "--values", file,
                "--show-only", "templates/zz-notes-under-test.yaml"];
            const res = await run("helm", args);
            if (res.code !== 0) throw new ToolError("helm", args, res.stderr + res.stdout);
            const [configMap] = parseManifests(res.stdout);
            return (configMap.data as { notes: string }).notes;
        });
    } finally {
        await fs.rm(dir, { recursive: true, force: true });
    }
}

/** A representative value set from charts/go-service/ci/. */
export async function ciValues(name: CiValueSet): Promise<Record<string, unknown>> {
    return parse(await fs.readFile(path.join(CHART_DIR, "ci", `${name}-values.yaml`), "utf8")) as Record<string, unknown>;
}

/**
 * How the chart is scored (see charts/go-service/README.md for why each choice):
 * every default check, plus the optional checks below; a CPU limit is not required.
 */
export const KUBE_SCORE_POLICY = {
    kubernetesVersion: "v1.30",
    enabledOptionalChecks: ["container-seccomp-profile", "container-ports-check", "container-memory-requests-equal-limits"],
    ignoreContainerCpuLimit: true,
} as const;

export interface KubeScoreOptions {
    /**
     * Fewest replicas a Deployment (or an HPA's minReplicas) may have without a finding. Lower it only for an
     * environment that runs a single replica on purpose (dev).
     * @default 2
     */
    readonly minReplicas?: number;
}

export type KubeScoreGrade = "CRITICAL" | "WARNING" | "ALMOST_OK";

/** One failed kube-score check on one object. */
export interface KubeScoreFinding {
    /** `<Kind>/<name>` */
    readonly object: string;
    /** The check's id, as in `kube-score list`. */
    readonly check: string;
    readonly grade: KubeScoreGrade;
    /** kube-score's explanations, `<summary>: <description>`. */
    readonly comments: readonly string[];
}

interface KubeScoreCheckResult {
    check: { id: string };
    grade: number;
    skipped: boolean;
    comments: { path?: string; summary: string; description: string }[] | null;
}
interface KubeScoreObjectResult {
    type_meta: { kind: string };
    object_meta: { name: string };
    checks: KubeScoreCheckResult[];
}

const GRADES: Record<number, KubeScoreGrade> = { 1: "CRITICAL", 5: "WARNING", 7: "ALMOST_OK" };

/**
 * Scores objects (or a YAML stream) with kube-score under KUBE_SCORE_POLICY and returns every check that is not
 * fully OK (skipped checks excluded). An empty array means a clean bill.
 */
export async function kubeScore(
    input: readonly ManifestObject[] | string,
    opts: KubeScoreOptions = {},
): Promise<KubeScoreFinding[]> {
    const yamlText =
        typeof input === "string" ? input : input.map((obj) => `---\n${JSON.stringify(obj)}\n`).join("");
    const minReplicas = String(opts.minReplicas ?? 2);
    const args = [
        "score",
        "--output-format",
        "json",
        "--kubernetes-version",
        KUBE_SCORE_POLICY.kubernetesVersion,
        "--min-replicas-deployment",
        minReplicas,
        "--min-replicas-hpa",
        minReplicas,
        ...KUBE_SCORE_POLICY.enabledOptionalChecks.flatMap((id) => ["--enable-optional-test", id]),
        ...(KUBE_SCORE_POLICY.ignoreContainerCpuLimit ? ["--ignore-container-cpu-limit"] : []),
        "-",
    ];
    const res = await run("kube-score", args, yamlText);
    // kube-score exits 1 when it finds a critical issue; the JSON report is complete either way.
    if (res.code !== 0 && res.code !== 1) throw new ToolError("kube-score", args, res.stderr + res.stdout);
    let report: KubeScoreObjectResult[];
    try {
        report = JSON.parse(res.stdout) as KubeScoreObjectResult[];
    } catch {
        throw new ToolError("kube-score", args, res.stderr + res.stdout);
    }
    return report.flatMap((obj) =>
        obj.checks
            .filter((c) => !c.skipped && c.grade < 10)
            .map((c) => ({
                object: `${obj.type_meta.kind}/${obj.object_meta.name}`,
                check: c.check.id,
                grade: GRADES[c.grade] ?? "CRITICAL",
                comments: (c.comments ?? []).map((m) => `${m.summary}: ${m.description}`),
            })),
    );
}

/** The one object of `kind` (and `name`, when given); throws naming what is there otherwise. */
export function findObject(manifests: readonly ManifestObject[], kind: string, name?: string): ManifestObject {
    const matches = manifests.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    if (matches.length !== 1) {
        const present = manifests.map((o) => `${o.kind}/${o.metadata.name}`).join(", ");
        throw new Error(`expected one ${kind}${name ? `/${name}` : ""}, found ${matches.length} among: ${present}`);
    }
    return matches[0];
}

/** Whether an object of `kind` was rendered. */
export function hasObject(manifests: readonly ManifestObject[], kind: string): boolean {
    return manifests.some((o) => o.kind === kind);
}
