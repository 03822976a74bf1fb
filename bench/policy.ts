/**
 * `npm run bench:policy`: what the policy pack adds to a preview of a stack with its three releases.
 *
 * Each round does what the engine does with `--policy-pack policy` in one preview: start the pack in a fresh process
 * with the runner the CLI uses (`@pulumi/pulumi/cmd/run-policy-pack`, as `pulumi-analyzer-policy` does) and wait for
 * its port, configure it with the stack's `policy/config/<stack>.json`, and send every custom resource the program
 * registers for the stack (under Pulumi's mocks, as after an `up`: the image digest known) to Analyze, one after the
 * other, then AnalyzeStack. It reports:
 * - start: process start to serving, broken down (bench/support/packTiming.js, preloaded into the pack's process) into
 *   Node.js' own start, the runner (its modules, ts-node, TypeScript), the pack's module load (with the modules that
 *   take longest) and the rest (binding the gRPC server);
 * - each release's Analyze round trip (the service's and the dashboards' charts are rendered with `helm template`
 *   there; kube-prometheus-stack comes from a repository and is checked by its values) and, beside it, one bare
 *   `helm template` of the same chart and values;
 * - the other resources' Analyze calls together, and the total, against the target (1.5 s).
 *
 * It is a benchmark, not a test: it reports and exits 0 whatever the figures. The last line is one JSON object.
 * Figures on a shared machine vary with its load: the load average is printed beside them.
 *
 * Options: --rounds N (3), --stack dev|staging|prod (prod), --cold (empty the pack's compile cache before each round, as
 * on a fresh machine or after a change to the pack; by default every round but the first finds it filled).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { POLICIES } from "../policy/policies";
import { valuesForRender } from "../policy/releases";
import { helmTemplate } from "../policy/render";
import { configuredStack, ROOT, runProgram } from "../scripts/lib/program";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PACK_CACHE } = require("../policy/loader") as { PACK_CACHE: string };
import { pb, servePack } from "../test/support/policyPack";

const TARGET_S = 1.5;
const RELEASE = "kubernetes:helm.sh/v3:Release";

const opts = (() => {
    const { values } = parseArgs({
        options: {
            rounds: { type: "string", default: "3" }, stack: { type: "string", default: "prod" }, cold: { type: "boolean", default: false },
        },
    });
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${JSON.stringify(values.rounds)}: must be a positive integer`);
    const stacks = ["dev", "staging", "prod"];
    if (!stacks.includes(values.stack!)) throw new Error(`--stack ${JSON.stringify(values.stack)}: must be one of ${stacks.join(", ")}`);
    return { rounds, stack: values.stack!, cold: values.cold! };
})();

const median = (xs: readonly number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const seconds = (ms: number) => Math.round(ms) / 1000;

/** What the preload hook wrote (milliseconds). */
interface PackTiming {
    readonly boot_ms: number;
    readonly runner_ms: number;
    readonly pack_ms: number;
    readonly runner_self_ms: Record<string, number>;
    readonly pack_self_ms: Record<string, number>;
}

interface Round {
    readonly serving: number;
    readonly timing: PackTiming;
    readonly configure: number;
    /** Analyze round trip of each release, by resource name. */
    readonly releases: Record<string, number>;
    readonly others: number;
    readonly analyzeStack: number;
    readonly total: number;
}

async function timed<T>(op: () => Promise<T>): Promise<[T, number]> {
    const t0 = performance.now();
    const result = await op();
    return [result, performance.now() - t0];
}

/** The `n` entries that took longest, as `name 0.123 s`. */
function slowest(ms: Record<string, number>, n: number): [string, number][] {
    return Object.entries(ms).sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, seconds(v)]);
}

async function main() {
    // helm from the pinned tools, as `npm test` and the workflows put it on PATH for the pack.
    const bin = execFileSync("bash", [path.join(ROOT, "scripts", "tools.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    process.env.PATH = env.PATH;

    const program = await runProgram(configuredStack(opts.stack));
    if (program.error) throw new Error(`the program failed for stack ${opts.stack}: ${program.error}`);
    const resources = program.resources.filter((r) => r.custom);
    const releases = resources.filter((r) => r.type === RELEASE);
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", `${opts.stack}.json`), "utf8")) as Record<string, object>;
    const levels = Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel!]));

    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hello-bench-policy-"));
    const rounds: Round[] = [];
    try {
        for (let round = 1; round <= opts.rounds; round++) {
            if (opts.cold) fs.rmSync(PACK_CACHE, { recursive: true, force: true });
            const timingFile = path.join(scratch, `timing-${round}.json`);
            const t0 = performance.now();
            const pack = await servePack({
                nodeArgs: ["-r", path.join(__dirname, "support", "packTiming.js")],
                env: { ...env, PACK_TIMING_FILE: timingFile },
            });
            try {
                const serving = performance.now() - t0;
                const [, configure] = await timed(() => pack.configure(levels, config));
                const byRelease: Record<string, number> = {};
                let others = 0;
                for (const r of resources) {
                    const [found, ms] = await timed(() => pack.analyze(r.type, r.name, opts.stack, r.inputs));
                    const mandatory = found.filter((d) => d.level === "mandatory");
                    if (mandatory.length > 0) console.error(`note: ${r.type} ${r.name}: ${mandatory.map((d) => d.message).join("; ")}`);
                    if (r.type === RELEASE) byRelease[r.name] = ms;
                    else others += ms;
                }
                const [, analyzeStack] = await timed(async () => {
                    const req = new pb.AnalyzeStackRequest();
                    await pack.call("analyzeStack", req);
                });
                const total = performance.now() - t0;
                const timing = JSON.parse(fs.readFileSync(timingFile, "utf8")) as PackTiming;
                rounds.push({ serving, timing, configure, releases: byRelease, others, analyzeStack, total });
                console.error(`round ${round}/${opts.rounds}: serving ${seconds(serving)} s, releases ` +
                    `${Object.entries(byRelease).map(([n, ms]) => `${n} ${seconds(ms)} s`).join(", ")}, total ${seconds(total)} s`);
            } finally {
                pack.close();
            }
        }

        // One bare `helm template` of each local chart with the values the pack renders, for comparison.
        const helmOnly: Record<string, number> = {};
        for (const r of releases.filter((x) => String(x.inputs.chart).startsWith("./"))) {
            const [, ms] = await timed(() => helmTemplate({
                chartDir: path.join(ROOT, String(r.inputs.chart)), releaseName: r.inputs.name ?? r.name,
                namespace: r.inputs.namespace ?? "default", values: valuesForRender(r.inputs.values),
            }));
            helmOnly[r.name] = ms;
        }

        const m = (pick: (r: Round) => number) => seconds(median(rounds.map(pick)));
        const start = {
            serving_s: m((r) => r.serving),
            node_boot_s: m((r) => r.timing.boot_ms),
            runner_s: m((r) => r.timing.runner_ms),
            pack_load_s: m((r) => r.timing.pack_ms),
            rest_s: m((r) => r.serving - r.timing.boot_ms - r.timing.runner_ms - r.timing.pack_ms),
        };
        const last = rounds[rounds.length - 1].timing;
        const perRelease = Object.fromEntries(releases.map((r) => [r.name, {
            analyze_s: m((x) => x.releases[r.name]),
            ...(helmOnly[r.name] !== undefined && { helm_template_s: seconds(helmOnly[r.name]) }),
        }]));
        const total = m((r) => r.total);
        const load = Number(os.loadavg()[0].toFixed(2));

        console.log("");
        console.log(`policy pack, stack ${opts.stack}: ${resources.length} resources, ${releases.length} releases; ` +
            `medians of ${opts.rounds} rounds, ${opts.cold ? "compile cache emptied before each" : "compile cache kept"}, ` +
            `load average ${load}, ${os.cpus().length} cores`);
        /** One line of the table: a label, seconds, and what to add. */
        const row = (label: string, s: number, note = "") => console.log(`${label.padEnd(26)}${s.toFixed(3).padStart(7)} s${note && `   ${note}`}`);
        const named = (ms: Record<string, number>, n: number) => `(slowest: ${slowest(ms, n).map(([k, v]) => `${k} ${v}`).join(", ")})`;
        row("start to serving", start.serving_s);
        row("  Node.js start", start.node_boot_s);
        row("  runner", start.runner_s, named(last.runner_self_ms, 4));
        row("  pack module load", start.pack_load_s, named(last.pack_self_ms, 6));
        row("  gRPC server", start.rest_s);
        row("configure", m((r) => r.configure));
        for (const [name, f] of Object.entries(perRelease)) {
            row(`release ${name}`, f.analyze_s, f.helm_template_s !== undefined
                ? `(one bare helm template: ${f.helm_template_s.toFixed(3)} s)` : "(a chart from a repository: its values only)");
        }
        row(`${resources.length - releases.length} other resources`, m((r) => r.others));
        row("analyze stack", m((r) => r.analyzeStack));
        row("total", total, `(target < ${TARGET_S} s: ${total < TARGET_S ? "met" : "NOT met"})`);
        console.log(JSON.stringify({
            stack: opts.stack, rounds: opts.rounds, cold: opts.cold, load_average_1m: load,
            start, configure_s: m((r) => r.configure), releases: perRelease,
            other_resources_s: m((r) => r.others), analyze_stack_s: m((r) => r.analyzeStack),
            total_s: total, target_s: TARGET_S,
            slowest_modules_s: { runner: slowest(last.runner_self_ms, 6), pack: slowest(last.pack_self_ms, 10) },
        }));
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
