/**
 * Deploys that survive interruption: a stack serving under a steady load, whose `up` is interrupted the ways deploys
 * are in real life (a runner killed, a workflow run cancelled, the cluster's API away for a moment, the registry
 * refusing, two deploys at once). After each, the recovery the Deploy workflow runs before every `up`
 * (`npm run recover`, scripts/lib/recovery.ts) and an `up` bring the stack back: `preview --refresh
 * --expect-no-changes` is clean and the release runs what the code declares. No hand touches Helm or the state.
 *
 * The engine is the pinned Pulumi CLI driven by the Automation API; it is killed or signalled as a process, as a
 * runner would. Provider 4.25.0-dev (the one the Go module proxy serves) does the Helm work: where a newer provider
 * behaves differently on cancellation, the closing note of the issue says so.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { freePort, run, waitFor } from "../../scripts/lib/process";
import { repoRoot } from "../support/docker";
import { Load, LoadReport, startLoad } from "./support/load";
import { readLocks } from "../../scripts/lib/recovery";
import { E2eStack, explain, ok, PROJECT } from "./support/stack";
import { key, startTier, Tier } from "./support/tier";

const NS = "hello";

/** The engine process of a running operation on `stack`: the CLI the Automation API started in its folder. */
function engineProcess(stack: E2eStack, command: string): number | undefined {
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (path.basename(argv[0]) === "pulumi" && argv[1] === command &&
                fs.realpathSync(`/proc/${entry}/cwd`) === fs.realpathSync(stack.workDir)) return Number(entry);
        } catch {
            // gone meanwhile
        }
    }
    return undefined;
}

describe("deploys that survive interruption (e2e, real node)", function () {
    this.timeout(10 * 60_000);
    this.bail(true);

    let tier: Tier;
    let stack: E2eStack;
    let load: Load | undefined;
    const reports: LoadReport[] = [];
    /** Which image the code declares; each spec deploys the other one. */
    let current = 0;

    const releaseStatus = async () => JSON.parse(await tier.helm.status("hello", NS)).info.status as string;
    const deploymentImage = async () => (await tier.json("get", "deployment", "hello", "--namespace", NS)).spec.template.spec.containers[0].image;

    /** `npm run recover` for the stack, as the Deploy workflow runs it (a child process, the stack's environment). */
    async function recover(...flags: string[]): Promise<string> {
        const r = await run("npm", ["run", "--silent", "recover", "--", "--stack", stack.stack.name, "--cwd", stack.workDir, ...flags], {
            cwd: repoRoot, env: { ...process.env, ...stack.workspace.envVars }, timeoutMs: 10 * 60_000,
        });
        console.log(r.stdout.trim().split("\n").map((l) => `      ${l}`).join("\n"));
        assert.equal(r.code, 0, `npm run recover exited with ${r.code}:\n${r.stderr}\n${r.stdout}`);
        return r.stdout;
    }

    /** What each spec ends with: the next `up` converges, a refreshed preview shows nothing, the release runs the code. */
    async function converges(): Promise<void> {
        ok(await stack.up());
        ok(await stack.preview({ refresh: true, expectNoChanges: true }));
        assert.equal(await releaseStatus(), "deployed");
        assert.equal(await deploymentImage(), tier.images[current]);
    }

    /**
     * Sets the other image and starts `up`; resolves once Helm is upgrading the service release, with the `up` still
     * running (wrapped: an async function returning the promise itself would wait for it).
     */
    /**
     * Starts an up that rolls the service to the other image and returns once Helm is upgrading its release; with
     * `waiting`, once Helm has applied the release's objects and waits for the rollout (the Deployment carries the new
     * digest; Helm applies the objects after it, ServiceMonitor last, within milliseconds on this machine: 0.5 s more).
     */
    async function startUpgrade(opts: { readonly waiting?: boolean } = {}): Promise<{ readonly up: ReturnType<E2eStack["up"]> }> {
        current = 1 - current;
        await stack.configure({ [key("prebuiltImage")]: tier.images[current] });
        const up = stack.up();
        await waitFor("Helm to be upgrading the service release", async () =>
            (await releaseStatus().catch(() => "")) === "pending-upgrade" ? true : undefined, 120_000, 100);
        if (opts.waiting) {
            const digest = tier.images[current].split("@")[1];
            await waitFor("Helm to wait for the rollout of the new digest", async () =>
                (await tier.kubectl("get", "deployment", "hello", "--namespace", NS, "--output",
                    "jsonpath={.spec.template.spec.containers[0].image}").catch(() => "")).includes(digest) ? true : undefined, 120_000, 100);
            await new Promise((r) => setTimeout(r, 500));
        }
        return { up };
    }

    before(async function () {
        this.timeout(60 * 60_000);
        tier = await startTier(this, __filename, { imageVersions: ["0.1.0-int.1", "0.1.0-int.2"] });
        stack = await tier.programStack("e2e-interrupt", { [key("replicas")]: "2" });
        ok(await stack.up());
        const ip = (await tier.kubectl("get", "service", "hello", "--namespace", NS, "--output", "jsonpath={.spec.clusterIP}")).trim();
        load = startLoad({ url: `http://${ip}/`, maxMs: 20 * 60_000, maxRequests: 40 * 20 * 60 });
    });

    afterEach(async function () {
        // The load runs through every spec; each spec's share is reported with it.
        if (!load) return;
        const report = await load.stop();
        reports.push(report);
        console.log(`      ${report.summary}`);
        const ip = (await tier.kubectl("get", "service", "hello", "--namespace", NS, "--output", "jsonpath={.spec.clusterIP}").catch(() => "")).trim();
        load = ip ? startLoad({ url: `http://${ip}/`, maxMs: 20 * 60_000, maxRequests: 40 * 20 * 60 }) : undefined;
        assert.equal(report.failed, 0, report.summary);
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await load?.stop();
        const sent = reports.reduce((a, r) => a + r.sent, 0);
        const failed = reports.reduce((a, r) => a + r.failed, 0);
        console.log(`      across the interruptions: ${sent} requests, ${failed} failed; runs that needed a hand on Helm or the state: 0`);
        await tier?.stop();
    });

    it("the engine killed (SIGKILL) while the service release upgrades: recovery, then up converges", async function () {
        const { up } = await startUpgrade();
        const engine = engineProcess(stack, "up");
        assert.ok(engine, "the engine process");
        process.kill(engine, "SIGKILL");
        assert.ok((await up).error, "the interrupted up failed");

        // What it left: the lock of a process that is gone, and the release upgrading under an orphaned provider.
        const stuck = await stack.up();
        assert.match(explain(stuck), /the stack is currently locked by 1 lock\(s\)/);

        const said = await recover();
        assert.match(said, new RegExp(`removed the lock held by pid ${engine} on .*, which has ended`));
        assert.match(said, /stopped pulumi-resource-kubernetes \(pid \d+\), left running by an engine that has ended/);
        assert.match(said, /rolled the release hello\/hello back to revision \d+ \(it was left at revision \d+ pending-upgrade\)/);
        assert.match(said, /dropped 1 pending operation\(s\) from the state: updating urn:pulumi:e2e-interrupt::hello-service::.*Release::hello/);
        await converges();
    });

    it("the engine interrupted (SIGINT, then SIGTERM 7.5 s later, as a cancelled workflow run sends): recovery, then up converges", async function () {
        const { up } = await startUpgrade();
        const engine = engineProcess(stack, "up");
        assert.ok(engine, "the engine process");
        process.kill(engine, "SIGINT");
        const term = setTimeout(() => {
            try {
                process.kill(engine, "SIGTERM");
            } catch {
                // it ended within the runner's grace
            }
        }, 7500);
        const run = await up;
        clearTimeout(term);
        assert.ok(run.error, "the cancelled up failed");
        await recover();
        await converges();
    });

    it("the cluster's API away for 20 s in the middle of an up: the up says so, nothing is half-applied, and recovery and up converge", async function () {
        const { up } = await startUpgrade({ waiting: true });
        await tier.cluster.stopApiServer();
        await new Promise((r) => setTimeout(r, 20_000));
        await tier.cluster.startApiServer();
        const run = await up;
        // The outage hits while Helm waits for the rollout (an outage while Helm applies the objects fails the up at once
        // with Helm's own "Kubernetes cluster unreachable"). Helm and the provider retry: depending on which request the
        // outage hits, the up completes once the API is back, or fails (Helm cannot read an object, nor roll back).
        // Either way the user is told, in words, as it happens.
        const warnings = run.events.filter((e) => e.diagnosticEvent?.severity === "warning").map((e) => e.diagnosticEvent!.message);
        assert.ok(warnings.some((w) => /^the cluster's API could not be reached \(ECONNREFUSED\) while Helm waits for the release/.test(w)),
            `the outage reaches the user:\n${warnings.join("\n")}\n${explain(run)}`);
        console.log(`      the up ${run.error ? `failed: ${run.error.message.split("\n").find((l) => l.startsWith("error:")) ?? ""}` : "completed once the API was back"}`);
        if (run.error) assert.doesNotMatch(run.error.message, /^\s+at .*\(.*:\d+:\d+\)$/m, "no stack trace");
        await recover();
        await converges();
    });

    it("the cluster's API out of reach when an up starts: it fails before anything changes, saying the cluster cannot be reached", async function () {
        const before = JSON.stringify(await tier.helm.history("hello", NS));
        current = 1 - current;
        await stack.configure({ [key("prebuiltImage")]: tier.images[current] });
        // Out of reach from the deployer, as from a runner whose network to the cluster is cut: its kubeconfig's server
        // is a port where nothing listens. (Restarting the API server again would cost the kubelet's minute of backoff.)
        const cut = path.join(tier.cluster.dir, "cut", "kubeconfig");
        fs.mkdirSync(path.dirname(cut));
        const closed = `https://127.0.0.1:${await freePort()}`;
        fs.writeFileSync(cut, fs.readFileSync(tier.cluster.kubeconfig, "utf8").replace(/server: .*/, `server: ${closed}`));
        stack.workspace.envVars.KUBECONFIG = cut;
        process.env.KUBECONFIG = cut; // the inline program reads it in this process, as the provider does in the engine's
        let run;
        const t0 = Date.now();
        try {
            run = await stack.up();
            console.log(`      the up failed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        } finally {
            stack.workspace.envVars.KUBECONFIG = tier.cluster.kubeconfig;
            process.env.KUBECONFIG = tier.cluster.kubeconfig;
        }
        assert.ok(run.error, "the up failed");
        assert.match(run.error.message, new RegExp(`error: the cluster of context "${tier.cluster.context}" \\(${closed.replace(/\./g, "\\.")}\\) ` +
            "cannot be reached \\(ECONNREFUSED\\); nothing was deployed"), explain(run));
        assert.doesNotMatch(run.error.message, /^\s+at .*\(.*:\d+:\d+\)$/m, "no stack trace");
        assert.equal(JSON.stringify(await tier.helm.history("hello", NS)), before, "nothing was applied");
        await recover();
        await converges();
    });

    it("the registry refusing the credentials, or down: up fails before any release changes, naming the registry", async function () {
        const before = JSON.stringify(await tier.helm.history("hello", NS));
        await stack.configure({}, { [key("registryPassword")]: "not-the-password" });
        try {
            const refused = await stack.up();
            assert.ok(refused.error);
            assert.match(explain(refused), new RegExp(`the registry ${tier.registry.host.replace(/\./g, "\\.")} refused the credentials of ${tier.registry.username} \\(HTTP 401\\)`));
        } finally {
            await stack.configure({}, { [key("registryPassword")]: tier.registry.password });
        }
        await tier.registry.pause();
        try {
            const down = await stack.up();
            assert.ok(down.error);
            assert.match(explain(down), new RegExp(`the registry ${tier.registry.host.replace(/\./g, "\\.")} cannot be reached \\(ECONNREFUSED\\)`));
        } finally {
            await tier.registry.resume();
        }
        assert.equal(JSON.stringify(await tier.helm.history("hello", NS)), before, "no release changed");
        await converges();
    });

    it("two ups of one stack at once: the second is refused naming the first, the first finishes, the state is intact", async function () {
        current = 1 - current;
        await stack.configure({ [key("prebuiltImage")]: tier.images[current] });
        const first = stack.up();
        await waitFor("the first up to hold the lock", async () =>
            readLocks(stack.workspace.envVars.PULUMI_BACKEND_URL, PROJECT, stack.stack.name).length > 0 ? true : undefined, 30_000, 50);
        const second = await stack.up();
        assert.ok(second.error, "the second up was refused");
        assert.match(explain(second), /the stack is currently locked by 1 lock\(s\)[\s\S]*created by .*\(pid \d+\)/);
        ok(await first);
        const said = await recover();
        assert.match(said, /nothing to recover/);
        await converges();
    });
});
