/**
 * `npm run render-diff -- [--base <ref>] [--stacks dev,staging] [--format markdown|text] [--out <file>] [--exit-code]`
 *
 * What a pull request changes in the Kubernetes objects the service's chart installs, per stack. A
 * `helm.v3.Release` preview shows changed values, not the objects: this renders the local chart(s) of every release
 * with the values the program produces on the base ref and on this checkout, and diffs the two renders.
 *
 * The values come from running each side's program under Pulumi's mocks (no cluster, no credentials): the base ref
 * is checked out in a temporary git worktree that borrows this checkout's node_modules. The mocks give the image a
 * fixed digest, and staging-like stacks get fixed placeholder secrets, so only real changes show. Charts from a
 * repository (kube-prometheus-stack) are not rendered: their values diff is in the Pulumi preview.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { KUBE_VERSION, helmTemplate, parseManifests } from "../policy/render";
import { CapturedResource, ROOT, isSecretValue, runProgram, stackConfig } from "./lib/program";

const exec = promisify(execFile);
const RELEASE = "kubernetes:helm.sh/v3:Release";

export interface RenderDiffOptions {
    /** The repository (a checkout) to compare; its working tree is the head. @default this checkout */
    readonly repo?: string;
    /** The ref to compare against. @default the merge base of HEAD and origin/main (or main) */
    readonly base?: string;
    /** Stacks to render. @default every Pulumi.<stack>.yaml on either side */
    readonly stacks?: readonly string[];
}

/** One stack's result. */
export interface StackDiff {
    readonly stack: string;
    /** Unified diff of the rendered objects, base → head; empty when nothing changes. */
    readonly diff: string;
    /** `<Kind> <namespace>/<name>` of objects that change, appear or disappear. */
    readonly changed: readonly string[];
    readonly added: readonly string[];
    readonly removed: readonly string[];
}

export interface RenderDiff {
    /** The base commit. */
    readonly base: string;
    readonly stacks: readonly StackDiff[];
}

/**
 * Placeholder secrets for environments where the platform team sets real ones (never committed): they decide whether
 * a pull secret exists and whether Alertmanager gets its config Secret, so a render without them would differ from
 * the cluster. Their values never reach the rendered objects.
 */
const PLACEHOLDER_SECRETS: Readonly<Record<string, string>> = {
    "hello-service:registryPassword": "render-diff-placeholder",
    "hello-service:alertWebhookUrl": "https://alerts.invalid/render-diff",
};
const PLACEHOLDER_VALUES: Readonly<Record<string, string>> = {
    "hello-service:registryUsername": "render-diff",
};

async function git(repo: string, ...args: string[]): Promise<string> {
    const { stdout } = await exec("git", ["-C", repo, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
}

async function defaultBase(repo: string): Promise<string> {
    for (const candidate of ["origin/main", "main"]) {
        try {
            return await git(repo, "merge-base", "HEAD", candidate);
        } catch {
            // try the next candidate
        }
    }
    throw new Error("render-diff: no base given and neither origin/main nor main exists; pass --base <ref>");
}

function stacksIn(dir: string): string[] {
    return fs.readdirSync(dir).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
}

/** The config a stack runs with here: its file, plus placeholders for the secrets set outside it (not in dev). */
function renderConfig(stack: string, dir: string) {
    const file = stackConfig(stack, {}, dir);
    const environment = file.values["hello-service:environment"] ?? stack;
    if (environment === "dev") return file;
    const missing = (entries: Readonly<Record<string, string>>) =>
        Object.fromEntries(Object.entries(entries).filter(([k]) => file.values[k] === undefined));
    return stackConfig(stack, { values: missing(PLACEHOLDER_VALUES), secrets: missing(PLACEHOLDER_SECRETS) }, dir);
}

/** Secrets never reach a render (or a pull request comment): a secret in values renders as a marker. */
function withoutSecrets(value: unknown): unknown {
    if (isSecretValue(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(withoutSecrets);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutSecrets(v)]));
    }
    return value;
}

function isLocalChart(release: CapturedResource): boolean {
    const chart = String(release.inputs.chart ?? "");
    return release.inputs.repositoryOpts?.repo === undefined && !chart.startsWith("oci://") &&
        (chart.startsWith(".") || chart.startsWith("/"));
}

/** Every local-chart release of the stack's program in `dir`, rendered, as one manifest stream ("" if none). */
async function renderStack(stack: string, dir: string): Promise<string> {
    if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return "";
    const run = await runProgram(renderConfig(stack, dir), { dir });
    if (run.error) throw new Error(`render-diff: the ${stack} program in ${dir} failed: ${run.error}`);
    const releases = run.resources.filter((r) => r.type === RELEASE && isLocalChart(r))
        .sort((a, b) => a.name.localeCompare(b.name));
    const parts: string[] = [];
    for (const release of releases) {
        const rendered = await helmTemplate({
            chartDir: path.resolve(dir, String(release.inputs.chart)),
            releaseName: String(release.inputs.name ?? release.name),
            namespace: String(release.inputs.namespace ?? "default"),
            values: withoutSecrets(release.inputs.values ?? {}),
        });
        parts.push(`# Release ${release.inputs.name ?? release.name} (${release.inputs.chart})\n${rendered}`);
    }
    return parts.join("\n");
}

/** `Kind namespace/name` → the object's YAML, to tell which objects changed. */
function objectsOf(stream: string): Map<string, string> {
    return new Map(parseManifests(stream).map((obj) => [
        `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}`,
        JSON.stringify(obj),
    ]));
}

async function unifiedDiff(stack: string, base: string, head: string): Promise<string> {
    if (base === head) return "";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-"));
    try {
        fs.writeFileSync(path.join(dir, "base.yaml"), base);
        fs.writeFileSync(path.join(dir, "head.yaml"), head);
        const args = ["-u", "--label", `base/${stack}`, "--label", `head/${stack}`, path.join(dir, "base.yaml"), path.join(dir, "head.yaml")];
        try {
            await exec("diff", args, { maxBuffer: 64 * 1024 * 1024 });
            return "";
        } catch (err) {
            const { code, stdout } = err as { code?: number; stdout?: string };
            if (code === 1) return stdout ?? ""; // diff exits 1 when the files differ
            throw err;
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Runs `tasks` with at most `limit` at a time (each program run is a Node process of its own). */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    const worker = async () => {
        while (next < tasks.length) {
            const i = next++;
            results[i] = await tasks[i]();
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
    return results;
}

/** Renders every stack on the base ref and on the checkout, and diffs them. */
export async function renderDiff(opts: RenderDiffOptions = {}): Promise<RenderDiff> {
    const repo = path.resolve(opts.repo ?? ROOT);
    const base = await git(repo, "rev-parse", "--verify", `${opts.base ?? await defaultBase(repo)}^{commit}`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-base-"));
    const baseDir = path.join(tmp, "base");
    await git(repo, "worktree", "add", "--detach", "--quiet", baseDir, base);
    try {
        fs.symlinkSync(path.join(repo, "node_modules"), path.join(baseDir, "node_modules"), "dir");
        const stacks = opts.stacks ?? [...new Set([...stacksIn(repo), ...stacksIn(baseDir)])].sort();
        const renders = await pool(stacks.flatMap((stack) => [
            () => renderStack(stack, baseDir),
            () => renderStack(stack, repo),
        ]), os.cpus().length);
        const results: StackDiff[] = [];
        for (const [i, stack] of stacks.entries()) {
            const [before, after] = [renders[2 * i], renders[2 * i + 1]];
            const [a, b] = [objectsOf(before), objectsOf(after)];
            results.push({
                stack,
                diff: await unifiedDiff(stack, before, after),
                changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)),
                added: [...b.keys()].filter((k) => !a.has(k)),
                removed: [...a.keys()].filter((k) => !b.has(k)),
            });
        }
        return { base, stacks: results };
    } finally {
        await git(repo, "worktree", "remove", "--force", baseDir).catch(() => undefined);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** GitHub refuses comments over 65536 characters; each diff gets its share. */
const MAX_DIFF_CHARS = 15000;

function summary(s: StackDiff): string {
    const parts = [
        s.changed.length > 0 && `changes ${s.changed.join(", ")}`,
        s.added.length > 0 && `adds ${s.added.join(", ")}`,
        s.removed.length > 0 && `removes ${s.removed.join(", ")}`,
    ].filter(Boolean);
    return parts.length > 0 ? parts.join("; ") : "no change to the rendered objects";
}

/** The marker the workflow's sticky comment is found by. */
export const COMMENT_MARKER = "<!-- render-diff -->";

export function formatMarkdown(result: RenderDiff): string {
    const lines = [
        COMMENT_MARKER,
        "### Rendered diff: what the service's chart installs, per stack",
        `The local charts of every \`helm.v3.Release\`, rendered (\`helm template\`, Kubernetes ${KUBE_VERSION}) with the values ` +
        `the program produces on the base \`${result.base.slice(0, 12)}\` and on this branch. kube-prometheus-stack comes ` +
        "from a chart repository and is not rendered: its values diff is in the Pulumi preview.",
        "",
    ];
    for (const s of result.stacks) {
        lines.push(`#### ${s.stack}: ${summary(s)}`);
        if (s.diff) {
            const diff = s.diff.length > MAX_DIFF_CHARS
                ? `${s.diff.slice(0, MAX_DIFF_CHARS)}\n... (cut: run npm run render-diff -- --base ${result.base.slice(0, 12)} --stacks ${s.stack})`
                : s.diff;
            lines.push("<details open><summary>diff</summary>", "", "```diff", diff.trimEnd(), "```", "</details>");
        }
        lines.push("");
    }
    return lines.join("\n");
}

export function formatText(result: RenderDiff): string {
    return result.stacks.map((s) => `== ${s.stack}: ${summary(s)}\n${s.diff}`).join("\n");
}

function parseArgs(argv: readonly string[]) {
    const opts: { base?: string; stacks?: string[]; format: "markdown" | "text"; out?: string; exitCode: boolean; repo?: string } =
        { format: "text", exitCode: false };
    for (let i = 0; i < argv.length; i++) {
        const value = () => {
            const v = argv[++i];
            if (v === undefined) throw new Error(`render-diff: ${argv[i - 1]} needs a value`);
            return v;
        };
        switch (argv[i]) {
            case "--base": opts.base = value(); break;
            case "--stacks": opts.stacks = value().split(",").map((s) => s.trim()).filter(Boolean); break;
            case "--format": {
                const format = value();
                if (format !== "markdown" && format !== "text") throw new Error("render-diff: --format is markdown or text");
                opts.format = format;
                break;
            }
            case "--out": opts.out = value(); break;
            case "--repo": opts.repo = value(); break;
            case "--exit-code": opts.exitCode = true; break;
            default: throw new Error(`render-diff: unknown argument ${argv[i]}\n` +
                "usage: npm run render-diff -- [--base <ref>] [--stacks a,b] [--format markdown|text] [--out <file>] [--exit-code]");
        }
    }
    return opts;
}

if (require.main === module) {
    (async () => {
        const opts = parseArgs(process.argv.slice(2));
        const result = await renderDiff(opts);
        const text = opts.format === "markdown" ? formatMarkdown(result) : formatText(result);
        if (opts.out) fs.writeFileSync(opts.out, text);
        else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
        const differs = result.stacks.some((s) => s.diff !== "");
        process.exitCode = opts.exitCode && differs ? 1 : 0;
    })().catch((err: Error) => {
        console.error(err.message);
        process.exitCode = 2;
    });
}
