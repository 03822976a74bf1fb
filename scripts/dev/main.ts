/**
 * `npm run dev` and `npm run dev:down` (scripts/dev.sh runs this in the checkout).
 *
 * up: checks Pulumi.dev.yaml as `npm run check-config` does (an error stops it before anything starts), picks the
 * cluster and the engine (choose.ts) and says which and why in one line each, brings the cluster up (kind through
 * scripts/dev.sh; the project's local cluster in the background, reused while it runs), updates the dev stack with
 * refresh, and ends with how to reach the service and Grafana from this machine.
 *
 * down: destroys the dev stack, stops the cluster and its registry (the local cluster puts the machine back as it
 * found it) and removes .dev/.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parseArgs } from "node:util";
import type { OutputMap, Stack } from "@pulumi/pulumi/automation";

import { MONITORING_RELEASE } from "../../components/monitoringStack";
import { SERVICE_CIDR } from "../../localcluster";
import {
    BackgroundCluster, describeOwner, nodeOnMachine, startInBackground, stopInBackground,
} from "../../localcluster/background";
import { cleanLeftover } from "../../localcluster/machineLock";
import { missingForRealNode } from "../../localcluster/realNode";
import { checkStackFile } from "../../stacks/checkConfig";
import { loadSettings } from "../../stacks/load";
import type { StackSettings } from "../../stacks/settings";
import { readStackFile } from "../../stacks/stackFile";
import { startChartMirror } from "../lib/chartMirror";
import { run, runOk, waitFor } from "../lib/process";
import { ensureToolchain, Toolchain } from "../lib/toolchain";
import {
    chooseCluster, chooseEngine, chooseSources, ClusterKind, DevError, Engine, engineMissing, planLocalCluster, standinLines,
} from "./choose";
import { buildAndPushServiceImage } from "./image";
import { gatherFacts, onPath, pins, portHolder, upstreamsAnswer } from "./machine";
import { devDir, devStackExists, openDevStack, STACK } from "./stack";

const checkout = process.cwd();
const DEV_SH = path.join(checkout, "scripts", "dev.sh");
const STACK_FILE = `Pulumi.${STACK}.yaml`;
/** Where the stand-in chart is served while npm run dev runs: a fixed port, so that the setting is the same every run. */
const CHART_MIRROR_PORT = 5002;
/** What npm run dev chose, for npm run dev:down. */
const CHOICE_FILE = path.join(devDir(checkout), "dev.json");
const OWNER = "npm run dev";

const bold = process.stdout.isTTY ? (s: string) => `\x1b[1m${s}\x1b[0m` : (s: string) => s;
function say(line: string): void {
    process.stdout.write(`${bold(`==> ${line}`)}\n`);
}

interface Options {
    readonly command: "up" | "down";
    readonly yes: boolean;
    readonly cluster?: ClusterKind;
}

function options(argv: string[]): Options {
    const usage = "the options are --yes (ask nothing) and --cluster kind|local";
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { yes: { type: "boolean", short: "y" }, cluster: { type: "string" } } });
    } catch (e) {
        throw new DevError(`npm run dev: ${(e as Error).message.split(". ")[0]}; ${usage}`);
    }
    const [command = "up", ...rest] = parsed.positionals;
    if ((command !== "up" && command !== "down") || rest.length) throw new DevError(`npm run dev: unexpected "${[command, ...rest].join(" ")}"; ${usage}`);
    const cluster = parsed.values.cluster;
    if (cluster !== undefined && cluster !== "kind" && cluster !== "local") {
        throw new DevError(`npm run dev: --cluster "${cluster}" is not a cluster npm run dev knows; it is kind or local`);
    }
    return { command, yes: parsed.values.yes ?? false, cluster };
}

/** Runs a command with this terminal; resolves with its exit code. */
function interactive(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number | null> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: "inherit", env, cwd: checkout });
        child.on("error", reject);
        child.on("exit", resolve);
    });
}

async function devSh(step: string): Promise<void> {
    const code = await interactive("bash", [DEV_SH, step], process.env);
    if (code !== 0) throw new DevError(`scripts/dev.sh ${step} failed (exit ${code}); its output is above`);
}

// --- the local cluster ---------------------------------------------------------------------------------------------

/** `localhost:<port>` of the stack's registry: the only kind the local cluster serves. */
function localRegistry(settings: StackSettings): { host: string; port: number } {
    const host = settings.registry.split("/")[0];
    const match = /^localhost:([0-9]+)$/.exec(host);
    if (!match) {
        throw new DevError(`the local cluster serves its registry on localhost:<port>, and ${STACK_FILE} says hello-service:registry = ` +
            `"${settings.registry}": set it to localhost:5001 (or another free port)`);
    }
    return { host, port: Number(match[1]) };
}

async function portFree(port: number, what: string, otherwise: string): Promise<void> {
    const holder = await portHolder(port);
    if (holder) {
        throw new DevError(`port ${port} on 127.0.0.1 is in use by ${holder}, and npm run dev serves ${what} there: stop it ` +
            `(ss -ltnp 'sport = :${port}' names it), or ${otherwise}`);
    }
}

/** The local cluster to reuse, or the registry a new one serves; checked before anything starts. */
type LocalPlan = { readonly reuse: BackgroundCluster } | { readonly registry: string };

/**
 * Reuses this checkout's local cluster while its owner runs; else cleans up after an owner that is gone and checks what
 * a new one needs (the machine, the registry's port), naming every problem before anything starts.
 */
async function planLocal(settings: StackSettings): Promise<LocalPlan> {
    const registry = localRegistry(settings);
    const plan = planLocalCluster(nodeOnMachine(), { checkout, context: settings.kubeContext, registry: registry.host, stackFile: STACK_FILE });
    if (plan.action === "reuse") {
        say(plan.line);
        return { reuse: plan.cluster };
    }
    if (plan.action === "clean") {
        say(plan.line);
        for (const problem of await cleanLeftover(plan.lease)) say(`  could not put back: ${problem}`);
    }
    const missing = await missingForRealNode(SERVICE_CIDR);
    if (!["/usr/bin/docker-registry", "/usr/sbin/docker-registry"].some((p) => fs.existsSync(p))) {
        missing.push("docker-registry: not found, which serves the dev stack's registry (apt-get install docker-registry)");
    }
    if (missing.length) throw new DevError(["the local cluster needs:", ...missing.map((m) => `  - ${m}`)].join("\n"));
    await portFree(registry.port, `the dev stack's registry (${STACK_FILE}: hello-service:registry = ${settings.registry})`,
        `set hello-service:registry to localhost:<a free port> in ${STACK_FILE}`);
    return { registry: registry.host };
}

/** The planned local cluster, started in the background where it does not run yet; its kubeconfig linked at .dev/kubeconfig. */
async function localCluster(plan: LocalPlan, settings: StackSettings, tools: Toolchain): Promise<BackgroundCluster> {
    let cluster: BackgroundCluster;
    if ("reuse" in plan) {
        cluster = plan.reuse;
    } else {
        const log = path.join(devDir(checkout), "local-cluster.log");
        say(`cluster: starting the local cluster in the background (its log: ${path.relative(checkout, log)})`);
        cluster = await startInBackground({ bin: tools.bin, context: settings.kubeContext, registry: plan.registry, owner: OWNER, checkout, log });
    }
    linkKubeconfig(cluster);
    return cluster;
}

/** A link at .dev/kubeconfig to the local cluster's own kubeconfig, and the line that says how to use it. */
function linkKubeconfig(cluster: BackgroundCluster): void {
    const link = path.join(devDir(checkout), "kubeconfig");
    fs.rmSync(link, { force: true });
    fs.symlinkSync(cluster.kubeconfig, link);
    say(`kubeconfig: the local cluster's own, .dev/kubeconfig, with its context named ${cluster.context} as ${STACK_FILE}'s kubeContext ` +
        `says (your ~/.kube/config is not touched): KUBECONFIG=.dev/kubeconfig kubectl get pods -A`);
}

// --- up ------------------------------------------------------------------------------------------------------------

interface Reach {
    readonly cluster: ClusterKind;
    readonly kubectl: (args: readonly string[]) => Promise<string>;
    readonly outputs: Record<string, unknown>;
    readonly monitoringNamespace: string;
    readonly standinChart: boolean;
    /** The command that prints the stack's outputs. */
    readonly outputsCommand: string;
}

/** How to read the dev stack's outputs from this checkout: its state is in .pulumi/. */
function outputsCommand(engine: Engine): string {
    const passphrase = process.env.PULUMI_CONFIG_PASSPHRASE === undefined ? "PULUMI_CONFIG_PASSPHRASE= " : "";
    return `PULUMI_BACKEND_URL=file://${path.join(checkout, ".pulumi")} ${passphrase}${engine === "cli" ? "pulumi" : ".tools/bin/pulumi"} ` +
        `stack output --stack ${STACK}`;
}

async function clusterIP(reach: Reach, namespace: string, service: string): Promise<string> {
    return (await reach.kubectl(["get", "service", service, "--namespace", namespace, "--output", "jsonpath={.spec.clusterIP}"])).trim();
}

/** The last lines: how to reach the service and Grafana from this machine. */
async function printReach(reach: Reach): Promise<void> {
    const { outputs } = reach;
    if (reach.cluster === "kind") {
        say(`service: ${String(outputs.serviceAccess)}`);
        say(`Grafana: ${String(outputs.grafanaAccess)} (user admin; its password: ${reach.outputsCommand} grafanaAdminPassword --show-secrets)`);
        return;
    }
    const url = `http://${await clusterIP(reach, String(outputs.namespace), String(outputs.serviceName))}/`;
    // The host routes the Service range onto the node's bridge, where kube-proxy's rules send it to a pod.
    const answered = await waitFor(`${url} to answer`, async () => ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined), 30_000, 500)
        .catch(() => false);
    if (!answered) say(`warning: ${url} does not answer yet`);
    const grafana = reach.standinChart
        ? "none: the stand-in kube-prometheus-stack runs no Grafana (set hello-service:monitoringChartRepository to a mirror of the real chart for one)"
        : `http://${await clusterIP(reach, reach.monitoringNamespace, `${MONITORING_RELEASE}-grafana`)}/ (user admin; its password: ` +
            `${reach.outputsCommand} grafanaAdminPassword --show-secrets)`;
    say(`service: ${url} (GET / answers with its greeting; the Service's cluster IP, routed to the local cluster's node on this machine)`);
    say(`Grafana: ${grafana}`);
}

async function confirm(stack: Stack): Promise<boolean> {
    const preview = await stack.preview({ refresh: true, diff: false, onOutput: (s) => process.stdout.write(s) });
    const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
    if (changes.length === 0) return true;
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("Do you want to perform this update? (yes/no) ");
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
}

/** `17 unchanged`, `2 updated, 15 unchanged`: the engine's count of what the update did. */
function changeLine(changes: Record<string, number | undefined>): string {
    const names: Record<string, string> = { same: "unchanged", create: "created", update: "updated", delete: "deleted", replace: "replaced" };
    const parts = Object.entries(changes).filter(([, n]) => (n ?? 0) > 0).map(([op, n]) => `${n} ${names[op] ?? op}`);
    const changed = Object.entries(changes).filter(([op, n]) => op !== "same" && (n ?? 0) > 0).length;
    return `${changed === 0 ? "no changes" : "changed"} (${parts.join(", ")})`;
}

async function upWithAutomation(settings: StackSettings, clusterKind: ClusterKind, opts: Options): Promise<void> {
    const plan = clusterKind === "local" ? await planLocal(settings) : undefined;
    // Where each download comes from, decided (and its port checked) before anything starts.
    const mirrorUrl = `http://127.0.0.1:${CHART_MIRROR_PORT}`;
    const pinned = pins(checkout, mirrorUrl);
    const sources = chooseSources(settings, await upstreamsAnswer(pinned));
    const buildsImage = settings.prebuiltImage === undefined;
    for (const line of standinLines(buildsImage ? sources : { ...sources, builder: "setting", runtime: "setting" }, pinned)) say(line);
    if (sources.chart === "standin") {
        await portFree(CHART_MIRROR_PORT, "the stand-in kube-prometheus-stack chart", "set hello-service:monitoringChartRepository to a mirror of the chart");
    }

    const tools = await ensureToolchain(["test", "e2e"]);
    let kubeconfig: string | undefined;
    let kubectlArgs: string[] = [];
    if (plan) {
        const cluster = await localCluster(plan, settings, tools);
        kubeconfig = cluster.kubeconfig;
        kubectlArgs = ["--kubeconfig", kubeconfig, "--context", cluster.context];
        // The inline program runs in this process: it reads the same kubeconfig the engine's provider does.
        process.env.KUBECONFIG = kubeconfig;
    } else {
        await devSh("kind-up");
        kubectlArgs = ["--context", settings.kubeContext];
    }

    const additions: Record<string, string> = {};
    if (buildsImage) {
        say("image: built from app/ with the pinned BuildKit and deployed by digest through hello-service:prebuiltImage, as the Deploy " +
            "workflow does (the docker provider is not available to the Automation API here; the Pulumi CLI path builds it with docker.Image)");
        additions.prebuiltImage = await buildAndPushServiceImage(checkout, settings, sources);
        say(`image: ${additions.prebuiltImage}`);
    }
    let mirror: { stop(): Promise<void> } | undefined;
    try {
        if (sources.chart === "standin") {
            mirror = await startChartMirror(path.join(tools.bin, "helm"), tools.operatorCrds, CHART_MIRROR_PORT);
            additions.monitoringChartRepository = mirrorUrl;
        }
        const dev = await openDevStack({ checkout, bin: tools.bin, kubeconfig, additions, generateGrafanaPassword: settings.grafanaAdminPassword === undefined });
        if (dev.generatedGrafanaPassword) {
            say("Grafana's admin password: generated, and kept as a secret in the engine's copy of the stack file " +
                "(.dev/project/Pulumi.dev.yaml) for the runs after this one, because the random provider is not available to the " +
                "Automation API here; set your own with pulumi config set --secret hello-service:grafanaAdminPassword");
        }
        const { stack } = dev;
        say(`stack ${STACK}: its state is in .pulumi/; its outputs: ${outputsCommand("automation")}`);
        if (!opts.yes && !(await confirm(stack))) {
            say("not updated");
            return;
        }
        const color = process.stdout.isTTY ? "always" : "never";
        // --refresh: a Helm release is compared with what Pulumi recorded, not with the cluster; refreshing first is
        // what makes an up after `helm rollback` (or any change by hand) put the cluster back to what the code says.
        const result = await stack.up({ refresh: true, color, onOutput: (s) => process.stdout.write(s) })
            .catch((e: Error) => { throw engineFailure(`the update of the dev stack (its output is above)`, e); });
        say(`stack ${STACK}: ${changeLine(result.summary.resourceChanges ?? {})}`);
        const kubectl = (args: readonly string[]) => runOk(path.join(tools.bin, "kubectl"), [...kubectlArgs, ...args]);
        await printReach({ cluster: clusterKind, kubectl, outputs: plain(result.outputs),
            monitoringNamespace: settings.monitoringNamespace, standinChart: sources.chart === "standin", outputsCommand: outputsCommand("automation") });
    } finally {
        await mirror?.stop();
    }
}

function plain(outputs: OutputMap): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
}

/** The engine's environment on the Pulumi CLI path: the state in .pulumi/, as before. */
function cliEnv(kubeconfig?: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(checkout, ".pulumi")}`,
        // The dev stack holds no secret of value (Grafana's password is generated); an empty passphrase is enough.
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
        ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
    };
}

async function upWithCli(settings: StackSettings, clusterKind: ClusterKind, opts: Options): Promise<void> {
    let kubeconfig: string | undefined;
    let kubectlArgs = ["--context", settings.kubeContext];
    if (clusterKind === "local") {
        const plan = await planLocal(settings);
        const cluster = await localCluster(plan, settings, await ensureToolchain(["cluster"]));
        kubeconfig = cluster.kubeconfig;
        kubectlArgs = ["--kubeconfig", kubeconfig, ...kubectlArgs];
    } else {
        await devSh("kind-up");
    }
    const env = cliEnv(kubeconfig);
    fs.mkdirSync(path.join(checkout, ".pulumi"), { recursive: true });
    say(`stack ${STACK} in ${env.PULUMI_BACKEND_URL}`);
    if (await interactive("pulumi", ["stack", "select", STACK, "--create", "--secrets-provider", "passphrase"], env) !== 0) {
        throw new DevError(`pulumi stack select ${STACK} failed; its output is above`);
    }
    // --refresh: see upWithAutomation.
    if (await interactive("pulumi", ["up", "--refresh", "--stack", STACK, ...(opts.yes ? ["--yes"] : [])], env) !== 0) {
        throw new DevError("pulumi up failed; its output is above");
    }
    const outputs = JSON.parse((await run("pulumi", ["stack", "output", "--json", "--stack", STACK], { env, cwd: checkout })).stdout || "{}") as Record<string, unknown>;
    const kubectl = (args: readonly string[]) => runOk(onPath("kubectl") ?? path.join(checkout, ".tools", "bin", "kubectl"), [...kubectlArgs, ...args], { env });
    await printReach({
        cluster: clusterKind, kubectl, outputs, monitoringNamespace: settings.monitoringNamespace, standinChart: false, outputsCommand: outputsCommand("cli"),
    });
}

/** What the engine said on stderr, from the Automation API's error (its stdout was shown as it came). */
function engineFailure(what: string, e: Error): DevError {
    const stderr = /\n stderr: ([\s\S]*?)(\n err\?: |$)/.exec(e.message)?.[1]?.trim();
    return new DevError(`${what} failed${stderr ? `:\n${stderr}` : `: ${e.message}`}`);
}

async function up(opts: Options): Promise<void> {
    // The same check, and the same messages, as npm run check-config: a bad stack file stops npm run dev here.
    if (!checkStackFile(STACK_FILE)) process.exit(1);
    if (!opts.yes && !process.stdin.isTTY) {
        throw new DevError("npm run dev asks before it updates the dev stack, and this is not a terminal: run npm run dev -- --yes");
    }
    const { settings } = loadSettings(readStackFile(path.join(checkout, STACK_FILE)));
    const kindNodeImageName = (await runOk("bash", [DEV_SH, "node-image"])).trim();
    const facts = await gatherFacts({ checkout, kindNodeImageName, lookForKind: opts.cluster !== "local" });
    const cluster = chooseCluster(facts, opts.cluster);
    say(cluster.line);
    const engine = chooseEngine(facts);
    say(engine.line);
    const missing = engineMissing(engine.value, facts, settings.prebuiltImage === undefined);
    if (missing.length) throw new DevError(["npm run dev needs:", ...missing.map((m) => `  - ${m}`)].join("\n"));
    fs.mkdirSync(devDir(checkout), { recursive: true });
    fs.writeFileSync(CHOICE_FILE, JSON.stringify({ cluster: cluster.value, engine: engine.value }));
    if (engine.value === "cli") await upWithCli(settings, cluster.value, opts);
    else await upWithAutomation(settings, cluster.value, opts);
}

// --- down ----------------------------------------------------------------------------------------------------------

async function down(): Promise<void> {
    const chosen = fs.existsSync(CHOICE_FILE)
        ? (JSON.parse(fs.readFileSync(CHOICE_FILE, "utf8")) as { cluster: ClusterKind; engine: Engine })
        : undefined;
    const found = nodeOnMachine();
    const mine = found.state === "background" && found.cluster.checkout === checkout ? found.cluster : undefined;
    const clusterKind: ClusterKind | undefined = chosen?.cluster ?? (mine ? "local" : undefined);
    const engine: Engine = chosen?.engine ?? (onPath("pulumi") && onPath("pulumi-language-nodejs") ? "cli" : "automation");
    if (process.getuid?.() !== 0 && (mine || found.state === "leftover")) {
        throw new DevError("npm run dev:down stops the local cluster, which runs as root: run it as root, e.g. sudo npm run dev:down");
    }

    const removed: string[] = [];
    if (devStackExists(checkout)) {
        removed.push(`the stack ${STACK}`);
        const reachable = clusterKind === "local" ? mine !== undefined
            : clusterKind === "kind" ? (await run("bash", [DEV_SH, "kind-exists"])).code === 0 : false;
        if (!reachable) say(`stack ${STACK}: its cluster is gone, so its state is removed without destroying anything (nothing is left of it)`);
        if (engine === "cli") {
            const env = cliEnv(mine?.kubeconfig);
            if (reachable && await interactive("pulumi", ["destroy", "--stack", STACK, "--yes"], env) !== 0) {
                say("destroy failed; the cluster is removed next anyway");
            }
            await interactive("pulumi", ["stack", "rm", STACK, "--yes", "--force", "--preserve-config"], env);
        } else {
            const tools = await ensureToolchain(["e2e"]);
            const { stack } = await openDevStack({ checkout, bin: tools.bin, kubeconfig: mine?.kubeconfig });
            if (reachable) {
                say(`stack ${STACK}: destroying`);
                await stack.destroy({ onOutput: (s) => process.stdout.write(s) }).catch((e: Error) => say(`destroy failed (${e.message.split("\n")[0]}); the cluster is removed next anyway`));
            }
            await stack.workspace.removeStack(STACK, { force: true });
        }
    }

    if (mine) {
        removed.push("the local cluster and its registry");
        say(`cluster: stopping the local cluster (pid ${mine.pid}) and its registry`);
        const problems = await stopInBackground(mine);
        for (const problem of problems) say(`  could not put back: ${problem}`);
        if (problems.length) process.exitCode = 1;
    } else if (found.state === "leftover") {
        removed.push("what a local cluster left");
        say(`cluster: cleaning up the local cluster of pid ${found.lease.pid} (${found.lease.purpose}), which ended without stopping it`);
        for (const problem of await cleanLeftover(found.lease)) say(`  could not put back: ${problem}`);
    } else if (found.state !== "none") {
        say(`cluster: the machine's local cluster is not this checkout's npm run dev's (${found.state === "background"
            ? `npm run dev of ${found.cluster.checkout}` : describeOwner(found.lease)}): left alone`);
    }
    if (clusterKind === "kind") {
        removed.push("the kind cluster and its registry");
        await devSh("kind-down");
    }
    fs.rmSync(devDir(checkout), { recursive: true, force: true });
    say(removed.length ? `npm run dev:down: removed ${removed.join(", ")}` : "npm run dev:down: nothing to remove");
}

async function main(): Promise<void> {
    const opts = options(process.argv.slice(2));
    if (opts.command === "up") await up(opts);
    else await down();
}

main().then(() => process.exit(process.exitCode ?? 0), (e: Error) => {
    if (e instanceof DevError) process.stderr.write(`${e.message}\n`);
    else process.stderr.write(`npm run dev: ${e.stack ?? e.message}\n`);
    process.exit(1);
});
