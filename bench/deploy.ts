/**
 * `npm run bench:deploy`: how long do the stack operations take, and how much of that is the program's own doing?
 *
 * On the real-engine tier (test/e2e/support: Kubernetes 1.34 with a real node, the service's images built from app/
 * and pulled from a registry that needs a login, the stand-in kube-prometheus-stack from a chart mirror on loopback),
 * each round times, through the Automation API (the path the tier and `npm run dev` use: no language host, no policy
 * pack, a prebuilt image): `up` from empty, a no-op `preview`, a setting change (replicas 1 → 2), a new image (a
 * rolling update of both pods) and `destroy`; then the same work by hand in the same cluster: the program's own
 * Kubernetes objects applied with kubectl, `helm upgrade --install --wait` of its three charts with the values the
 * program passed (taken from the stack's state), a no-op `helm upgrade` of each, the replicas change and the new
 * digest by `helm upgrade`, and their removal. It also breaks the no-op preview down: the program (loading its
 * modules in a fresh Node.js process, as the language host does, and running it), the engine (a preview of a stack
 * whose program registers nothing) and the rest (the provider's checks and diffs).
 *
 * Needs root (the real node) and Docker (the image builds).
 *
 * It is a benchmark, not a test: it reports and exits 0 whatever the figures. The last line is one JSON object.
 *
 * Options: --rounds N (3).
 */
import { performance } from "node:perf_hooks";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { stringify } from "yaml";

import { createStack, E2eStack, ok, projectProgram, PROJECT, Run } from "../test/e2e/support/stack";
import { startTier } from "../test/e2e/support/tier";
import { repoRoot } from "../test/support/docker";
import { runOk } from "../scripts/lib/process";

const rounds = (() => {
    const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
    const n = Number(values.rounds);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds ${JSON.stringify(values.rounds)}: must be a positive integer`);
    return n;
})();

const median = (xs: readonly number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (ms: number) => Math.round(ms) / 1000;

async function timed<T>(op: () => Promise<T>): Promise<[T, number]> {
    const t0 = performance.now();
    const result = await op();
    return [result, performance.now() - t0];
}

/**
 * How long the engine's own command of each operation ran (`pulumi up`, `preview`, `destroy`: what a CLI user and the
 * Deploy workflow wait for). The Automation API's `up` and `destroy` then run `pulumi stack output` twice and
 * `pulumi stack history` to build their result, which no `pulumi up` on the command line does: the figures keep that
 * after-work apart (`npm run dev` pays it; the workflows do not).
 */
function timeEngineCommands(stack: E2eStack): { last(): number } {
    // `run` is the method every Automation API call goes through; its type is internal to the SDK.
    const command = stack.workspace.pulumiCommand as unknown as { run(args: string[], ...rest: unknown[]): Promise<unknown> };
    if (typeof command.run !== "function") throw new Error("bench:deploy: this @pulumi/pulumi has no PulumiCommand.run to time");
    const run = command.run.bind(command);
    let last = NaN;
    command.run = async (args: string[], ...rest: unknown[]) => {
        const t0 = performance.now();
        try {
            return await run(args, ...rest);
        } finally {
            if (["up", "preview", "destroy"].includes(args[0])) last = performance.now() - t0;
        }
    };
    return {
        last() {
            const ms = last;
            last = NaN;
            if (Number.isNaN(ms)) throw new Error("bench:deploy: no engine command was timed");
            return ms;
        },
    };
}

/** How long each resource's step took, from when the engine's events arrived: the slowest first. */
function stepDurations(run: Run<unknown>): [string, number][] {
    const began = new Map<string, number>();
    const took: [string, number][] = [];
    run.events.forEach((e, i) => {
        if (e.resourcePreEvent) began.set(e.resourcePreEvent.metadata.urn, run.arrivals[i]);
        const done = e.resOutputsEvent?.metadata.urn;
        if (done && began.has(done)) {
            const [type, name] = done.split("::").slice(-2);
            took.push([`${type.split("$").pop()!.split(":").pop()} ${name}`, seconds(run.arrivals[i] - began.get(done)!)]);
        }
    });
    return took.sort((a, b) => b[1] - a[1]);
}

/** A state export with --show-secrets, its secrets as plain values. */
function revealed(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(revealed);
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[specialSigKey] === specialSecretSig && typeof o.plaintext === "string") return JSON.parse(o.plaintext);
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revealed(v)]));
    }
    return value;
}

interface StateResource {
    readonly type: string;
    readonly urn: string;
    readonly inputs: Record<string, any>;
}

async function main() {
    const tier = await startTier(undefined, __filename, { imageVersions: ["0.1.0-bench.1", "0.1.0-bench.2"] });
    const { tools, cluster } = tier;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hello-bench-deploy-"));
    const helmEnv = { ...process.env, HELM_CACHE_HOME: path.join(scratch, "helm"), HELM_CONFIG_HOME: path.join(scratch, "helm") };
    const helm = (...args: string[]) => runOk(path.join(tools.bin, "helm"), [...args, "--kubeconfig", cluster.kubeconfig, "--kube-context", cluster.context],
        { env: helmEnv, cwd: repoRoot, timeoutMs: 600_000 });
    const kubectl = (...args: string[]) => cluster.kubectl(args);
    const digestOf = (ref: string) => ref.split("@")[1];

    let programMs = 0;
    const stacks: E2eStack[] = [];
    try {
        const key = (k: string) => `${PROJECT}:${k}`;
        const stack = await tier.programStack("bench");
        const engine = timeEngineCommands(stack);
        // The same stack's program, timed: what the engine waits for while the program runs.
        stack.workspace.program = async () => {
            const [outputs, ms] = await timed(projectProgram);
            programMs = ms;
            return outputs;
        };
        const empty = await createStack("bench-empty", { bin: tools.bin, env: { KUBECONFIG: cluster.kubeconfig }, program: async () => undefined });
        stacks.push(empty);
        await empty.configure({ [key("kubeContext")]: cluster.context, [key("registry")]: "registry.bench.invalid" });
        const emptyEngine = timeEngineCommands(empty);

        // pulumi: the engine's command; api: the Automation API's whole call (the command and its after-work).
        const pulumi = { up: [] as number[], preview: [] as number[], change: [] as number[], image: [] as number[], destroy: [] as number[] };
        const api = { up: [] as number[], change: [] as number[], image: [] as number[], destroy: [] as number[] };
        const raw = { apply: [] as number[], monitoring: [] as number[], service: [] as number[], dashboards: [] as number[],
            up: [] as number[], noop: [] as number[], change: [] as number[], image: [] as number[], teardown: [] as number[] };
        const breakdown = { program: [] as number[], engine: [] as number[] };
        let slowest: [string, number][] = [];
        let slowestDestroy: [string, number][] = [];

        for (let round = 1; round <= rounds; round++) {
            // --- Pulumi -----------------------------------------------------------------------------------------
            await stack.configure({ [key("prebuiltImage")]: tier.images[0] });
            const [up, upMs] = await timed(() => stack.up());
            ok(up);
            pulumi.up.push(engine.last());
            api.up.push(upMs);
            if (round === 1) slowest = stepDurations(up);
            // With --show-secrets: the raw runs need the Secret's data; nothing of it is printed.
            const state = revealed((await stack.stack.exportStack()).deployment) as { resources: StateResource[] };
            const [preview, previewMs] = await timed(() => stack.preview({ expectNoChanges: true }));
            ok(preview);
            pulumi.preview.push(engine.last());
            breakdown.program.push(programMs);
            ok(await empty.preview());
            breakdown.engine.push(emptyEngine.last());
            await stack.configure({ [key("replicas")]: "2" });
            const [change, changeMs] = await timed(() => stack.up());
            ok(change);
            pulumi.change.push(engine.last());
            api.change.push(changeMs);
            await stack.configure({ [key("prebuiltImage")]: tier.images[1] });
            const [rolled, imageMs] = await timed(() => stack.up());
            ok(rolled);
            pulumi.image.push(engine.last());
            api.image.push(imageMs);
            await stack.configure({ [key("replicas")]: undefined });
            const [destroyed, destroyMs] = await timed(() => stack.destroy());
            ok(destroyed);
            if (round === 1) slowestDestroy = stepDurations(destroyed);
            pulumi.destroy.push(engine.last());
            api.destroy.push(destroyMs);

            // --- The same work by hand ----------------------------------------------------------------------------
            const resources = state.resources;
            const inputsOf = (type: string) => resources.filter((r) => r.type === type).map((r) => r.inputs);
            const objects = [
                ...inputsOf("kubernetes:core/v1:Namespace").map((i) => ({ apiVersion: "v1", kind: "Namespace", ...i })),
                ...inputsOf("kubernetes:core/v1:Secret").map((i) => ({ apiVersion: "v1", kind: "Secret", ...i })),
                ...inputsOf("kubernetes:monitoring.coreos.com/v1:PrometheusRule"),
            ];
            const releases = inputsOf("kubernetes:helm.sh/v3:Release");
            const release = (name: string) => releases.find((r) => r.name === name)!;
            const valuesFile = (name: string, values: unknown) => {
                const file = path.join(scratch, `${name}.yaml`);
                fs.writeFileSync(file, stringify(values), { mode: 0o600 });
                return file;
            };
            const install = (name: string, extra: string[] = []) => {
                const r = release(name);
                const chart = r.repositoryOpts?.repo ? ["--repo", r.repositoryOpts.repo, r.chart] : [r.chart];
                return helm("upgrade", "--install", "--wait", "--atomic", "--timeout", "5m", r.name, ...chart,
                    "--version", r.version, "--namespace", r.namespace, "--values", valuesFile(r.name, r.values), ...extra);
            };
            const namespaces = objects.filter((o) => o.kind === "Namespace");
            const [, applyMs] = await timed(async () => {
                await kubectl("apply", "--filename", valuesFile("namespaces", { apiVersion: "v1", kind: "List", items: namespaces }));
                await kubectl("apply", "--filename", valuesFile("objects", {
                    apiVersion: "v1", kind: "List", items: objects.filter((o) => o.kind === "Secret"),
                }));
            });
            const [, monitoringMs] = await timed(() => install("kube-prometheus-stack"));
            await kubectl("apply", "--filename", valuesFile("rules", {
                apiVersion: "v1", kind: "List", items: objects.filter((o) => o.kind === "PrometheusRule"),
            }));
            const [, serviceMs] = await timed(() => install("hello"));
            const [, dashboardsMs] = await timed(() => install("hello-dashboards"));
            raw.apply.push(applyMs);
            raw.monitoring.push(monitoringMs);
            raw.service.push(serviceMs);
            raw.dashboards.push(dashboardsMs);
            raw.up.push(applyMs + monitoringMs + serviceMs + dashboardsMs);
            const [, noopMs] = await timed(async () => {
                for (const name of ["kube-prometheus-stack", "hello", "hello-dashboards"]) await install(name);
            });
            raw.noop.push(noopMs);
            const [, rawChangeMs] = await timed(() => install("hello", ["--set", "replicaCount=2"]));
            raw.change.push(rawChangeMs);
            const [, rawImageMs] = await timed(() => install("hello", ["--set", "replicaCount=2", "--set", `image.digest=${digestOf(tier.images[1])}`]));
            raw.image.push(rawImageMs);
            const [, teardownMs] = await timed(async () => {
                for (const r of releases) await helm("uninstall", r.name, "--namespace", r.namespace, "--wait");
                await kubectl("delete", "--wait", "--filename", path.join(scratch, "namespaces.yaml"));
            });
            raw.teardown.push(teardownMs);
            console.error(`round ${round}/${rounds}: up ${seconds(pulumi.up.at(-1)!)} s, preview ${seconds(pulumi.preview.at(-1)!)} s, ` +
                `change ${seconds(pulumi.change.at(-1)!)} s, new image ${seconds(pulumi.image.at(-1)!)} s, destroy ${seconds(pulumi.destroy.at(-1)!)} s ` +
                `(Automation API calls: ${seconds(upMs)}, ${seconds(previewMs)}, ${seconds(changeMs)}, ${seconds(imageMs)}, ${seconds(destroyMs)} s); by hand: up ${seconds(raw.up.at(-1)!)} s, ` +
                `change ${seconds(rawChangeMs)} s, new image ${seconds(rawImageMs)} s`);
        }

        // The program's cold start, as the language host pays it: a fresh Node.js loading index.ts through ts-node.
        const load = await runOk(process.execPath, ["-r", "ts-node/register/transpile-only", "-e",
            "const t=performance.now(); require('./index'); console.log(performance.now()-t)"], { cwd: repoRoot });
        const loadMs = Number(load.trim());

        const m = (xs: number[]) => seconds(median(xs));
        const ratio = (a: number[], b: number[]) => Math.round((median(a) / median(b)) * 100) / 100;
        const figures = {
            rounds,
            node: "real",
            pulumi: { up_s: m(pulumi.up), preview_noop_s: m(pulumi.preview), change_s: m(pulumi.change), image_s: m(pulumi.image), destroy_s: m(pulumi.destroy) },
            automation_api: { up_s: m(api.up), change_s: m(api.change), image_s: m(api.image), destroy_s: m(api.destroy) },
            raw: {
                up_s: m(raw.up), objects_s: m(raw.apply), monitoring_release_s: m(raw.monitoring), service_release_s: m(raw.service),
                dashboards_release_s: m(raw.dashboards), noop_upgrades_s: m(raw.noop), change_s: m(raw.change), image_s: m(raw.image),
                teardown_s: m(raw.teardown),
            },
            ratios: {
                up: ratio(pulumi.up, raw.up), preview_noop: ratio(pulumi.preview, raw.noop), change: ratio(pulumi.change, raw.change),
                image: ratio(pulumi.image, raw.image), destroy: ratio(pulumi.destroy, raw.teardown),
            },
            targets: { up: 1.25, change: 1.25, preview_noop: 1.1 },
            preview_breakdown: {
                total_s: m(pulumi.preview),
                program_load_s: seconds(loadMs),
                program_run_s: m(breakdown.program),
                engine_s: m(breakdown.engine),
                providers_and_rest_s: seconds(Math.max(0, median(pulumi.preview) - median(breakdown.engine) - median(breakdown.program))),
            },
            slowest_steps_of_first_up: slowest.slice(0, 6).map(([name, s]) => ({ name, s })),
            slowest_steps_of_first_destroy: slowestDestroy.slice(0, 6).map(([name, s]) => ({ name, s })),
        };
        const row = (name: string, p: number, r: number, ratioValue: number, target?: number, call?: number) =>
            console.log(`${name.padEnd(21)}${String(p).padStart(7)} s   ${String(r).padStart(6)} s   ${ratioValue.toFixed(2)}x` +
                (target ? ` (target <= ${target}x: ${ratioValue <= target ? "met" : "MISSED"})` : "") +
                (call ? `; Automation API call ${call} s` : ""));
        console.log("");
        console.log(`medians of ${rounds} round(s), real node (kubelet, containerd), Automation API path (no language host, no policy pack), ` +
            "stand-in kube-prometheus-stack from a loopback mirror");
        console.log("pulumi: the engine's command (pulumi up/preview/destroy); the Automation API's call adds its reads of the outputs and history");
        console.log("operation                pulumi    by hand   ratio");
        const a = figures.automation_api;
        row("up from empty", figures.pulumi.up_s, figures.raw.up_s, figures.ratios.up, figures.targets.up, a.up_s);
        row("no-op preview/upgrade", figures.pulumi.preview_noop_s, figures.raw.noop_upgrades_s, figures.ratios.preview_noop, figures.targets.preview_noop);
        row("replicas 1 -> 2", figures.pulumi.change_s, figures.raw.change_s, figures.ratios.change, figures.targets.change, a.change_s);
        row("new image (rolling)", figures.pulumi.image_s, figures.raw.image_s, figures.ratios.image, undefined, a.image_s);
        row("destroy", figures.pulumi.destroy_s, figures.raw.teardown_s, figures.ratios.destroy, undefined, a.destroy_s);
        console.log(`by hand, up from empty: objects ${figures.raw.objects_s} s, kube-prometheus-stack ${figures.raw.monitoring_release_s} s, ` +
            `service ${figures.raw.service_release_s} s, dashboards ${figures.raw.dashboards_release_s} s`);
        console.log(`no-op preview: engine ${figures.preview_breakdown.engine_s} s, program ${figures.preview_breakdown.program_run_s} s ` +
            `(cold module load ${figures.preview_breakdown.program_load_s} s in a fresh process), providers and the rest ` +
            `${figures.preview_breakdown.providers_and_rest_s} s`);
        console.log(`slowest steps of the first up: ${figures.slowest_steps_of_first_up.map((s) => `${s.name} ${s.s} s`).join(", ")}`);
        console.log(`slowest steps of the first destroy: ${figures.slowest_steps_of_first_destroy.map((s) => `${s.name} ${s.s} s`).join(", ")}`);
        console.log(JSON.stringify(figures));
    } finally {
        for (const s of stacks) {
            await s.destroy().catch(() => undefined);
            await s.remove();
        }
        await tier.stop();
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((err) => {
    console.error(`bench:deploy could not measure: ${(err as Error).stack ?? err}`);
    process.exit(1);
});
