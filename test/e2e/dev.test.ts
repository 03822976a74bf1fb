/**
 * The README's first command, as a new user runs it on a machine like this one (no kind node image, no Pulumi CLI,
 * nothing downloadable but npm, the Go module proxy, PyPI and Debian's packages): `npm run dev -- --yes` from a fresh
 * clone (its own `npm ci`; the machine's tool cache is shared) under CI=true, on the project's local cluster. The
 * service it deploys answers at the URL it prints last, a second run changes nothing, the pinned CLI reads the stack's
 * outputs from the state it left in .pulumi/, and `npm run dev:down` leaves the machine as it found it.
 *
 * Root only (the local cluster's real node): without it the file says so and skips, except under CI=true. Another
 * run's real node (one per machine) is waited for, as the tier's clusters wait; npm run dev itself does not wait, so
 * where another run takes the node first, it says so and the spec waits and runs it again. The machine is looked at
 * holding the machine's node lock, so that no other run's node starts in the middle of it.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

import { diffHost, HostState, observeHost } from "../../localcluster/host";
import { NODE_NETWORK } from "../../localcluster";
import { acquireNodeLock, readLease } from "../../localcluster/machineLock";
import { httpGet, run, runOk } from "../../scripts/lib/process";
import { ROOT } from "../../scripts/lib/program";
import { requireRoot } from "./support/cluster";

/**
 * Whether a difference between two looks at this shared machine is other users' work that npm run dev never touches:
 * Docker's engine (its containers' shims, mounts, network namespaces, veths on docker0, DOCKER chains and rules,
 * cgroups) and other runs' BuildKit builds come and go while the spec runs. A veth counts as Docker's where it is on
 * docker0, or where it was there before npm run dev and is gone (the node's own veths are made after that look). npm
 * run dev's own BuildKit cannot hide among them: stopping it removes its folder, which fails while a mount is left.
 */
async function othersWork(difference: string): Promise<boolean> {
    if (/moby|\/var\/lib\/docker|\/run\/docker\/|\bdocker0\b|DOCKER|\/docker\/|hello-buildkit-|\/buildkit\//.test(difference)) return true;
    const veth = /(?:links|routes): (left behind|removed): .*?\b(veth[0-9a-f]+)\b/.exec(difference);
    if (!veth) return false;
    if (veth[1] === "removed") return true;
    return (await run("ip", ["-o", "link", "show", "dev", veth[2]])).stdout.includes("master docker0");
}

/** The machine, but for a route's carrier state (linkdown): a link going down is not something left behind. */
const withoutCarrier = (state: HostState): HostState => ({ ...state, routes: state.routes.map((r) => r.replace(/ linkdown\b/, "")) });

interface Ran {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    /** The lines npm run dev itself printed (`==> ...`), without the engine's. */
    readonly said: string[];
    readonly seconds: number;
}

describe("npm run dev from a fresh clone, on the project's local cluster (e2e, real node)", function () {
    this.timeout(20 * 60_000);
    this.bail(true);
    let clone: string;
    let initially: HostState;
    let first: Ran;

    /** npm run <script> in the clone, under CI=true, as a user's shell would run it. */
    async function npm(script: string, ...args: string[]): Promise<Ran> {
        const t0 = performance.now();
        const r = await run("npm", ["run", "--silent", script, ...(args.length ? ["--", ...args] : [])],
            { cwd: clone, env: { ...process.env, CI: "true", KUBECONFIG: undefined }, timeoutMs: 20 * 60_000 });
        const seconds = Math.round((performance.now() - t0) / 100) / 10;
        const said = r.stdout.split("\n").filter((l) => l.startsWith("==> "));
        console.log(`      npm run ${script} ${args.join(" ")}: ${seconds} s`);
        return { ...r, said, seconds };
    }
    /** The machine as it is, observed while no real node runs (another run's is waited for, up to 30 minutes). */
    async function observeAlone(): Promise<HostState> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-dev-spec-"));
        const lock = await acquireNodeLock("npm run dev's spec, looking at the machine", { dir, bridge: NODE_NETWORK.bridge, ranges: [] },
            (line) => console.log(`      ${line}`), { waitMs: 30 * 60_000 });
        try {
            return await observeHost();
        } finally {
            lock.release();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    const explain = (r: Ran) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(-6000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

    before(async function () {
        this.timeout(60 * 60_000);
        requireRoot(this);
        clone = fs.mkdtempSync(path.join(os.tmpdir(), "hello-dev-clone-"));
        await runOk("git", ["clone", "--quiet", ROOT, clone]);
        await runOk("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: clone, timeoutMs: 10 * 60_000 });
    });

    after(async function () {
        if (!clone) return;
        // Whatever a failed spec left: dev:down is what a user would run.
        if (readLease()?.details?.checkout === clone) await npm("dev:down");
        fs.rmSync(clone, { recursive: true, force: true });
    });

    it("deploys the service: its last line but one is a URL on this machine that answers with the service's greeting", async function () {
        this.timeout(60 * 60_000);
        for (;;) {
            initially = await observeAlone();
            first = await npm("dev", "--yes");
            if (first.code === 0 || !/already runs on this machine .*npm run dev does not wait/.test(first.stderr)) break;
            console.log("      another run took the machine's node first; waiting for it");
        }
        assert.equal(first.code, 0, explain(first));
        assert.match(first.said[0], /^==> cluster: the project's local cluster with a real node, kept running in the background until npm run dev:down, because /);
        assert.match(first.said[1], /^==> engine: the Automation API with the pinned Pulumi CLI/);
        const last = first.stdout.trim().split("\n").slice(-2);
        const url = /^==> service: (http:\/\/10\.96\.[0-9.]+\/) /.exec(last[0])?.[1];
        assert.ok(url, `the last lines name the service's URL:\n${last.join("\n")}`);
        assert.match(last[1], /^==> Grafana: none: the stand-in kube-prometheus-stack runs no Grafana/);
        const res = await httpGet(url);
        assert.equal(res.status, 200);
        assert.match(res.body, /^Hello, World! Counter: [0-9]+$/);
    });

    it("says once per stand-in what stands in and which setting gives the real thing", function () {
        const standins = first.said.filter((l) => l.startsWith("==> stand-in: "));
        assert.deepEqual(standins.map((l) => /set (hello-service:\w+)/.exec(l)?.[1]),
            ["hello-service:builderImage", "hello-service:runtimeImage", "hello-service:monitoringChartRepository"]);
        assert.equal(first.said.filter((l) => l.startsWith("==> image: built from app/ with the pinned BuildKit")).length, 1);
    });

    it("a second run changes nothing: the same image digest, no resource changed", async function () {
        const second = await npm("dev", "--yes");
        assert.equal(second.code, 0, explain(second));
        assert.match(second.said.find((l) => l.startsWith("==> cluster: reusing")) ?? "", /reusing the local cluster npm run dev started/);
        const image = (r: Ran) => r.said.find((l) => /^==> image: localhost:5001\/hello@sha256:/.test(l));
        assert.ok(image(first));
        assert.equal(image(second), image(first));
        const summary = (r: Ran) => r.said.find((l) => /^==> stack dev: (no changes|changed) \(/.test(l));
        assert.match(summary(first) ?? "", /^==> stack dev: changed \([0-9]+ created\)$/);
        assert.match(summary(second) ?? "", /^==> stack dev: no changes \([0-9]+ unchanged\)$/);
    });

    it("the pinned Pulumi CLI reads the stack's outputs from .pulumi/, as the line it prints says", async function () {
        const line = first.said.find((l) => l.includes("stack output --stack dev"));
        assert.ok(line, first.said.join("\n"));
        const command = line.slice(line.indexOf("PULUMI_BACKEND_URL="));
        const out = await runOk("bash", ["-c", `${command} serviceName`], { cwd: clone });
        assert.equal(out.trim(), "hello");
    });

    it("the Grafana password it generated is kept as a secret: nowhere in plaintext in .dev/, .pulumi/ or what it printed", async function () {
        const line = first.said.find((l) => l.includes("stack output --stack dev"))!;
        const password = (await runOk("bash", ["-c", `${line.slice(line.indexOf("PULUMI_BACKEND_URL="))} grafanaAdminPassword --show-secrets`], { cwd: clone })).trim();
        assert.match(password, /^[A-Za-z0-9_-]{24}$/);
        assert.match(first.said.join("\n"), /==> Grafana's admin password: generated/);
        assert.ok(!first.stdout.includes(password) && !first.stderr.includes(password), "printed");
        const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true, recursive: true })
            .filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
        for (const file of [...files(path.join(clone, ".dev")), ...files(path.join(clone, ".pulumi"))]) {
            assert.ok(!fs.readFileSync(file).includes(password), `${path.relative(clone, file)} holds the password in plaintext`);
        }
    });

    it("npm run dev:down removes the stack, the cluster and the registry, and leaves the machine as it found it", async function () {
        const down = await npm("dev:down");
        assert.equal(down.code, 0, explain(down));
        // Released: the lock is free, or another run's (waiting for it) has it now.
        assert.ok(!readLease()?.purpose.includes(clone), `the node lock is still npm run dev's: ${JSON.stringify(readLease()?.purpose)}`);
        const differences = diffHost(withoutCarrier(initially), withoutCarrier(await observeAlone()));
        const others: string[] = [];
        const left: string[] = [];
        for (const d of differences) (await othersWork(d) ? others : left).push(d);
        if (others.length) console.log(`      meanwhile, other users of this machine changed ${others.length} things of Docker's and BuildKit's (not compared)`);
        assert.deepEqual(left, []);
        assert.ok(!fs.existsSync(path.join(clone, ".dev")), ".dev/ is removed");
        await assert.rejects(httpGet("http://127.0.0.1:5001/v2/", 2000), "the registry is gone");
        const stacks = await runOk(path.join(clone, ".tools", "bin", "pulumi"), ["stack", "ls", "--json"],
            { cwd: clone, env: { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(clone, ".pulumi")}`, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_SKIP_UPDATE_CHECK: "true" } });
        assert.deepEqual(JSON.parse(stacks), [], "the dev stack is removed from the state");
    });
});
