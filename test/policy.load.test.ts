/**
 * How the policy pack loads in every preview and every `pulumi up` (policy/main.js, policy/loader.js): its TypeScript
 * compiled file by file and cached, never served stale; without @pulumi/kubernetes, whose classes the policies name by
 * their type tokens (policy/resourceTypes.ts). `npm run bench:policy` measures what that saves; these specs hold the
 * behaviour.
 */
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as kube from "../policy/resourceTypes";
import { ROOT } from "../scripts/lib/program";
import { runOk } from "../scripts/lib/process";

/** Runs `script` in a fresh Node.js process with the pack's loader installed (cache in `cacheDir`); returns stdout. */
function withLoader(cacheDir: string, script: string): Promise<string> {
    const setup = `require(${JSON.stringify(path.join(ROOT, "policy", "loader.js"))}).installTypeScriptLoader({` +
        `tsconfig: ${JSON.stringify(path.join(ROOT, "tsconfig.json"))}, cacheDir: ${JSON.stringify(cacheDir)} });`;
    return runOk(process.execPath, ["-e", `${setup}\n${script}`], { cwd: ROOT });
}

describe("the policy pack's loading", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-load-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("names each Kubernetes class by the type token @pulumi/kubernetes gives it", function () {
        const classes: Record<keyof typeof kube, { __pulumiType: string }> = {
            Pod: k8s.core.v1.Pod, Namespace: k8s.core.v1.Namespace, Service: k8s.core.v1.Service,
            Deployment: k8s.apps.v1.Deployment, StatefulSet: k8s.apps.v1.StatefulSet, DaemonSet: k8s.apps.v1.DaemonSet,
            ReplicaSet: k8s.apps.v1.ReplicaSet, Job: k8s.batch.v1.Job, CronJob: k8s.batch.v1.CronJob,
            HorizontalPodAutoscalerV2: k8s.autoscaling.v2.HorizontalPodAutoscaler,
            HorizontalPodAutoscalerV1: k8s.autoscaling.v1.HorizontalPodAutoscaler, Release: k8s.helm.v3.Release,
        } as any;
        const tokens = (of: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(of).map(([name, cls]) => [name, (cls as { __pulumiType: string }).__pulumiType]));
        assert.deepStrictEqual(tokens(kube), tokens(classes));
    });

    it("loads the policies without loading @pulumi/kubernetes", async function () {
        const loaded = JSON.parse(await withLoader(path.join(dir, "cache"),
            `require("./policy/policies"); console.log(JSON.stringify(Object.keys(require.cache)));`)) as string[];
        assert.ok(loaded.some((f) => f.endsWith(path.join("policy", "policies.ts"))), "the policies loaded");
        assert.deepStrictEqual(loaded.filter((f) => f.includes(`${path.sep}@pulumi${path.sep}kubernetes${path.sep}`)), []);
    });

    it("reuses a file's compiled JavaScript while the file is unchanged, and compiles it again once it changes", async function () {
        const cache = path.join(dir, "cache");
        const source = path.join(dir, "answer.ts");
        const print = `console.log(require(${JSON.stringify(source)}).answer);`;
        fs.writeFileSync(source, "export const answer: number = 41;\n");
        assert.strictEqual((await withLoader(cache, print)).trim(), "41");

        // What the cache holds is what runs: make that visible, then change the source.
        const [entry] = fs.readdirSync(cache);
        fs.writeFileSync(path.join(cache, entry), "exports.answer = 'from the cache';\n");
        assert.strictEqual((await withLoader(cache, print)).trim(), "from the cache");
        fs.writeFileSync(source, "export const answer: number = 42;\n");
        assert.strictEqual((await withLoader(cache, print)).trim(), "42");
    });

    it("points an error's stack at the TypeScript file and line", async function () {
        const source = path.join(dir, "fails.ts");
        fs.writeFileSync(source, ["interface Unused { readonly a: string }", "", "export function fail(): never {",
            "    throw new Error(\"boom\");", "}", ""].join("\n"));
        const stack = await withLoader(path.join(dir, "cache"),
            `try { require(${JSON.stringify(source)}).fail(); } catch (e) { console.log(e.stack); }`);
        assert.ok(stack.includes(`${source}:4:`), stack);
    });

    it("still loads where the cache cannot be written, compiling every time", async function () {
        const blocked = path.join(dir, "a-file");
        fs.writeFileSync(blocked, "");
        const source = path.join(dir, "answer.ts");
        fs.writeFileSync(source, "export const answer: number = 7;\n");
        const out = await withLoader(path.join(blocked, "cache"), `console.log(require(${JSON.stringify(source)}).answer);`);
        assert.strictEqual(out.trim(), "7");
    });
});
