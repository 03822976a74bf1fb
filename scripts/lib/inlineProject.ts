/**
 * The project's program (index.ts) on the pinned Pulumi CLI through the Automation API, as the real-engine tier,
 * `npm run bench:deploy` and `npm run dev` run it: the Node.js language host is not served by the Go module proxy, so
 * the SDK serves the program from the calling process (an inline program).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");

/** The project's program: index.ts, as the Pulumi CLI runs it. */
export const projectProgram = async () => (require(path.join(ROOT, "index")) as () => Promise<Record<string, unknown>>)();

/**
 * Makes `workDir` a project folder for an inline program: the project's Pulumi.yaml without its entry point (no
 * entry point file is read; the engine still applies its config declarations) and a link to charts/ (the service
 * release names its chart relative to the project, as in every checkout).
 */
export function writeInlineProject(workDir: string): void {
    fs.mkdirSync(workDir, { recursive: true });
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    delete project.main;
    fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), stringify(project));
    const charts = path.join(workDir, "charts");
    if (!fs.existsSync(charts)) fs.symlinkSync(path.join(ROOT, "charts"), charts);
}

/**
 * The engine's environment: the pinned binaries first on PATH (the Kubernetes provider is found there), its own
 * PULUMI_HOME and Helm folders under `home`, the file backend `backend`, and no download of plugins or update checks.
 */
export function engineEnv(opts: { readonly bin: string; readonly home: string; readonly backend: string; readonly passphrase: string }): Record<string, string> {
    for (const dir of ["pulumi", "helm/cache", "helm/config", "helm/data"]) fs.mkdirSync(path.join(opts.home, dir), { recursive: true });
    return {
        PATH: `${opts.bin}:${process.env.PATH}`,
        PULUMI_HOME: path.join(opts.home, "pulumi"),
        PULUMI_BACKEND_URL: `file://${opts.backend}`,
        PULUMI_CONFIG_PASSPHRASE: opts.passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        HELM_CACHE_HOME: path.join(opts.home, "helm/cache"),
        HELM_CONFIG_HOME: path.join(opts.home, "helm/config"),
        HELM_DATA_HOME: path.join(opts.home, "helm/data"),
    };
}
