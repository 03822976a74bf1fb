/**
 * The components' type tokens lost the first service's name (`hello:platform:<Component>` became
 * `platform:index:<Component>`). A type is part of the URN of a component and of everything under it, so without the
 * aliases every deployed stack (dev, staging, prod) would see its releases and namespaces replaced: deleted, with
 * everything in them. This checks it on the real engine, as the next deploy of an existing stack would meet it: a stack
 * deployed by the program as it was before the rename (commit {@link BEFORE_RENAME}, its charts included), then
 * previewed and updated by this checkout's.
 *
 * Needs Docker (the image is built and pushed, as a real node pulls it) and the commit in the clone's history: without
 * either the file skips on a laptop, and fails under CI=true.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensureEngine, repoRoot } from "../support/docker";
import { run } from "../../scripts/lib/process";
import type { LocalCluster } from "./support/cluster";
import { Infrastructure, pushServiceImage, startInfrastructure } from "./support/infrastructure";
import { changes, createStack, E2eStack, ok, PROJECT, projectProgram } from "./support/stack";
import { ensureToolchain, Toolchain } from "../../scripts/lib/toolchain";

/** The last commit of main before the rename: its program and charts are what the deployed stacks run. */
const BEFORE_RENAME = "ccba1a642241bb67d5a0a8b02dd73eed21d7ccee";
const key = (name: string) => `${PROJECT}:${name}`;

describe("a stack deployed before the components' rename (e2e)", function () {
    this.timeout(10 * 60_000);
    this.bail(true);

    let tools: Toolchain;
    let infra: Infrastructure;
    let cluster: LocalCluster;
    let stack: E2eStack;
    /** The checkout of {@link BEFORE_RENAME}. */
    let oldCheckout: string;
    /** uid of every object the program made, by kind/namespace/name. */
    let uids: Record<string, string>;
    const unavailable = (why: string, ctx: Mocha.Context) => {
        if (process.env.CI === "true") throw new Error(`the rename proof needs ${why} under CI=true`);
        ctx.skip();
    };
    /** The project folder's charts/ link, pointed at `checkout`'s charts. */
    const useCharts = (checkout: string) => {
        fs.rmSync(path.join(stack.workDir, "charts"));
        fs.symlinkSync(path.join(checkout, "charts"), path.join(stack.workDir, "charts"));
    };
    const objectUids = async () => {
        const kinds = "namespaces,deployments,services,servicemonitors,prometheusrules,configmaps,secrets";
        const list = JSON.parse(await cluster.kubectl(["get", kinds, "--all-namespaces", "--selector", "!owner", "--output", "json"])) as
            { items: { kind: string; metadata: { namespace?: string; name: string; uid: string } }[] };
        return Object.fromEntries(list.items
            .filter((o) => ["hello", "monitoring"].includes(o.metadata.namespace ?? o.metadata.name))
            .map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o.metadata.uid]));
    };
    const urnTypes = async () => [...new Set(((JSON.parse(await stack.exportedState()) as { deployment: { resources: { type: string }[] } })
        .deployment.resources.map((r) => r.type)).filter((t) => !t.includes("/") && !t.startsWith("pulumi:")))].sort();

    before(async function () {
        this.timeout(60 * 60_000);
        const engine = await ensureEngine();
        if (!engine.ok) return unavailable(`Docker (${engine.reason})`, this);
        if ((await run("git", ["-C", repoRoot, "cat-file", "-e", `${BEFORE_RENAME}^{commit}`])).code !== 0) {
            return unavailable(`commit ${BEFORE_RENAME} (a clone with main's history, not a shallow one)`, this);
        }
        oldCheckout = fs.mkdtempSync(path.join(os.tmpdir(), "hello-e2e-before-rename-"));
        const archive = path.join(oldCheckout, "source.tar");
        const archived = await run("git", ["-C", repoRoot, "archive", "--output", archive, BEFORE_RENAME]);
        assert.equal(archived.code, 0, archived.stderr);
        assert.equal((await run("tar", ["-xf", archive, "-C", oldCheckout])).code, 0);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(oldCheckout, "node_modules"));

        tools = await ensureToolchain();
        infra = await startInfrastructure(this, tools, __filename);
        const { registry, mirror } = infra;
        cluster = infra.cluster;
        const image = await pushServiceImage(infra, "hello", "0.1.0-e2e");

        // The inline program runs in this process: it reads the same kubeconfig the engine's provider does.
        process.env.KUBECONFIG = cluster.kubeconfig;
        const oldProgram = async () => (require(path.join(oldCheckout, "index")) as () => Promise<Record<string, unknown>>)();
        stack = await createStack("e2e-rename", { bin: tools.bin, env: { KUBECONFIG: cluster.kubeconfig }, program: oldProgram });
        useCharts(oldCheckout);
        await stack.configure({
            [key("environment")]: "dev",
            [key("kubeContext")]: cluster.context,
            [key("registry")]: registry.host,
            [key("prebuiltImage")]: image,
            [key("registryUsername")]: registry.username,
            [key("monitoringChartRepository")]: mirror.url,
        }, { [key("registryPassword")]: registry.password, [key("grafanaAdminPassword")]: "e2e-GRAFANA-admin-pw-1" });
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await stack?.destroy();
        await stack?.remove();
        delete process.env.KUBECONFIG;
        await infra?.stop();
        if (oldCheckout) fs.rmSync(oldCheckout, { recursive: true, force: true });
    });

    it("GIVEN the stack deployed by the program before the rename THEN its state holds the hello:platform: types", async function () {
        ok(await stack.up());
        assert.deepEqual(await urnTypes(), [
            "hello:platform:MonitoringStack", "hello:platform:ServiceImage", "hello:platform:ServiceMonitoring", "hello:platform:ServiceRelease",
        ]);
        uids = await objectUids();
        assert.ok(Object.keys(uids).length >= 8, JSON.stringify(uids));
    });

    it("WHEN this checkout previews it THEN nothing is replaced, created or deleted: only the dashboards' release, at its chart's new version, updates", async function () {
        stack.workspace.program = projectProgram;
        useCharts(repoRoot);
        const preview = await stack.preview();
        ok(preview);
        const updated = preview.events.map((e) => e.resourcePreEvent?.metadata).filter((m) => m && m.op !== "same").map((m) => `${m!.op} ${m!.urn.split("::").pop()}`);
        assert.deepEqual(updated, ["update hello-dashboards"], preview.output);
        assert.deepEqual(Object.keys(changes(preview)).sort(), ["same", "update"]);
    });

    it("WHEN it is updated THEN every object in the cluster is the same one, and the state knows the new types", async function () {
        ok(await stack.up());
        assert.deepEqual(await objectUids(), uids);
        assert.deepEqual(await urnTypes(), [
            "platform:index:MonitoringStack", "platform:index:ServiceImage", "platform:index:ServiceMonitoring", "platform:index:ServiceRelease",
        ]);
        ok(await stack.preview({ expectNoChanges: true }));
    });
});
