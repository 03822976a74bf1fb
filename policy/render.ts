/**
 * Renders a local chart with a release's values, the way Helm would install it, so that policies can see the
 * Kubernetes objects inside a `helm.v3.Release` (the engine only hands them the release's inputs).
 *
 * helm comes from PATH (`npm test` and the workflows put the pinned build there: scripts/tools.sh). Renders are
 * cached per chart, release name, namespace and values: every policy that looks inside a release shares one render.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "./workloads";


/**
 * The Kubernetes version renders target: the oldest the service chart supports (its Chart.yaml `kubeVersion`).
 * Always explicit: a `go install`ed helm would otherwise assume an old default and refuse the chart.
 */
export const KUBE_VERSION = "1.30.0";

export interface RenderRequest {
    /** Absolute path of the chart directory. */
    readonly chartDir: string;
    readonly releaseName: string;
    readonly namespace: string;
    readonly values: unknown;
}

/** The objects a chart renders to, or why it could not be rendered (in words for a violation message). */
export type Rendered =
    | { readonly ok: true; readonly objects: readonly KubeObject[] }
    | { readonly ok: false; readonly reason: string };

/** helm failed, or is missing; `message` says which and what to do. */
export class HelmError extends Error {
    constructor(message: string, readonly missing: boolean) {
        super(message);
        this.name = "HelmError";
    }
}

/** Writes `values` to a temporary file (JSON is YAML) only this user can read, calls `use` with it, removes it. */
export async function withValuesFile<T>(values: unknown, use: (file: string) => Promise<T>): Promise<T> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "helm-values-"));
    try {
        const file = path.join(dir, "values.json");
        await fs.writeFile(file, JSON.stringify(values ?? {}), { mode: 0o600 });
        return await use(file);
    } finally {
        await fs.rm(dir, { recursive: true, force: true });
    }
}

/** `helm template` of a chart with values: the manifest stream as text. Rejects with a HelmError. */
export async function helmTemplate(req: RenderRequest, kubeVersion = KUBE_VERSION): Promise<string> {
    return withValuesFile(req.values, (file) => {
        const args = ["template", req.releaseName, req.chartDir, "--namespace", req.namespace,
            "--kube-version", kubeVersion, "--values", file];
        return new Promise<string>((resolve, reject) => {
            execFile("helm", args, { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
                if (!err) return resolve(stdout);
                if ((err as NodeJS.ErrnoException).code === "ENOENT") {
                    return reject(new HelmError(
                        "helm is not on PATH, so the chart cannot be rendered; put helm v3 on PATH " +
                        "(PATH=\"$(scripts/tools.sh):$PATH\")", true));
                }
                reject(new HelmError(`helm template failed: ${(stderr || stdout || err.message).trim()}`, false));
            });
        });
    });
}

/** Parses a manifest stream into objects, skipping empty documents. */
export function parseManifests(text: string): KubeObject[] {
    return parseAllDocuments(text)
        .map((doc) => {
            if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0].message}`);
            return doc.toJS() as KubeObject | null;
        })
        .filter((obj): obj is KubeObject => obj !== null && typeof obj === "object");
}

const cache = new Map<string, Promise<Rendered>>();

/** The chart rendered with the request's values; one helm run per distinct request and process. */
export function renderChart(req: RenderRequest): Promise<Rendered> {
    const key = createHash("sha256")
        .update(JSON.stringify([req.chartDir, req.releaseName, req.namespace, req.values ?? {}]))
        .digest("hex");
    let rendered = cache.get(key);
    if (!rendered) {
        rendered = helmTemplate(req).then(
            (text): Rendered => ({ ok: true, objects: parseManifests(text) }),
            (err: Error): Rendered => ({ ok: false, reason: err.message }),
        );
        cache.set(key, rendered);
    }
    return rendered;
}

/** Forgets every cached render (tests change PATH or charts between cases). */
export function clearRenderCache(): void {
    cache.clear();
}
