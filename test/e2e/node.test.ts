/**
 * The tier's real node (localcluster/): it starts on this machine, runs pods, and leaves the machine as it found it:
 * processes, mounts, links, network namespaces, iptables chains and rules, routes, cgroups, paths and sysctls. Also when
 * the process that owns it is interrupted (SIGINT, as a cancelled CI job sends) or killed (SIGKILL: the next start
 * cleans up after it). And a machine that cannot run a node is told what is missing.
 *
 * Root only: without it the file says so and skips, except under CI=true.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

import { startCluster } from "../../localcluster";
import { diffHost, HostState, observeHost } from "../../localcluster/host";
import { readLease } from "../../localcluster/machineLock";
import { run } from "../../scripts/lib/process";
import { repoRoot } from "../support/docker";
import { requireRoot, startRealCluster } from "./support/cluster";
import { runTestPod } from "./support/testPod";
import { ensureToolchain, Toolchain } from "../../scripts/lib/toolchain";

const CHILD = path.join(__dirname, "support", "clusterChild.ts");

/** Starts a child process that owns a cluster with a running pod; resolves with it once the pod runs. */
function clusterChild(bin: string): Promise<{ pid: number; dir: string; exited: Promise<number | null> }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CHILD, bin],
            { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.stdout.on("data", (d: Buffer) => {
            out += d.toString();
            const line = out.split("\n").find((l) => l.startsWith("{"));
            if (line) resolve({ pid: child.pid!, dir: (JSON.parse(line) as { ready: string }).ready, exited });
        });
        void exited.then((code) => reject(new Error(`the cluster's child process exited with ${code} before its pod ran:\n${err.slice(-3000)}`)));
    });
}

describe("the real node and the machine it runs on (e2e)", function () {
    this.timeout(10 * 60_000);
    let tools: Toolchain;
    let initially: HostState;

    before(async function () {
        this.timeout(60 * 60_000);
        requireRoot(this);
        tools = await ensureToolchain(["cluster"]);
        initially = await observeHost();
    });

    it("starts, runs a pod, and stop() leaves the machine as it found it", async function () {
        const t0 = performance.now();
        const cluster = await startRealCluster(this, tools, __filename);
        const ready = performance.now() - t0;
        try {
            console.log(`      start to node Ready: ${(ready / 1000).toFixed(1)} s (control plane, node, sandbox image)`);
            await runTestPod(cluster);
            const during = await observeHost();
            // What the node changed is what stop() must undo: the spec would pass vacuously if it changed nothing.
            const changed = diffHost(initially, during).join("\n");
            for (const made of [/links: left behind: hello-br0/, /chains: left behind: iptables nat KUBE-SERVICES/, /processes: left behind: \d+ .*kubelet/, /cgroups: left behind: .*kubepods/]) {
                assert.match(changed, made);
            }
        } finally {
            await cluster.stop();
        }
        assert.deepEqual(diffHost(initially, await observeHost()), []);
        assert.equal(readLease(), undefined, "the machine's node lock is released");
    });

    it("interrupted (SIGINT, as a cancelled CI job sends), its owner stops it and the machine is as it was", async function () {
        const child = await clusterChild(tools.bin);
        process.kill(child.pid, "SIGINT");
        assert.equal(await child.exited, 130);
        assert.deepEqual(diffHost(initially, await observeHost()), []);
    });

    it("killed (SIGKILL), it is cleaned up by the next start, and the machine is as it was after that one stops", async function () {
        const child = await clusterChild(tools.bin);
        process.kill(child.pid, "SIGKILL");
        await child.exited;
        const left = diffHost(initially, await observeHost());
        assert.ok(left.some((l) => /links: left behind: hello-br0/.test(l)), `a killed owner leaves its node behind:\n${left.join("\n")}`);

        const notes: string[] = [];
        const next = await startCluster({ bin: tools.bin, node: "real", purpose: "the SIGKILL spec", log: (l) => notes.push(l) });
        await next.stop();
        assert.match(notes.join("\n"), new RegExp(`cleaning up the local cluster of pid ${child.pid} .*which ended without stopping it`));
        assert.deepEqual(diffHost(initially, await observeHost()), []);
    });

    it("a machine that cannot run a node is told what is missing (here: root), and nothing is changed", async function () {
        // The child loads the code as root, then drops to nobody: a clone in a folder only root may enter (mktemp -d's
        // 0700) stays loadable, and what runs unprivileged is startCluster itself.
        const script = `const localcluster = require(${JSON.stringify(path.join(repoRoot, "localcluster"))});` +
            "process.setgroups([]); process.setgid(65534); process.setuid(65534);" +
            `localcluster.startCluster({ bin: ${JSON.stringify(tools.bin)}, node: "real" })` +
            ".then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })";
        const r = await run(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script],
            { cwd: repoRoot, env: { ...process.env, TS_NODE_CACHE: "false" } });
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /a real node needs:\n {2}- root: the kubelet mounts volumes, writes iptables rules and cgroups \(running as uid 65534\)/);
        assert.deepEqual(diffHost(initially, await observeHost()), []);
    });
});
