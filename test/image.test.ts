/**
 * The service image, proven for real: app/Dockerfile is built with BuildKit on local stand-in base images (no
 * registry can be pulled from here), run, pushed to a local registry that requires a login, and pulled back by digest.
 * Needs a Docker engine: without one these specs skip on a laptop and fail under CI=true.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { buildImageArgs } from "../components/serviceImage";
import {
    appDir, buildAndPush, buildServiceImage, BuiltImage, checkoutAt, DockerCli, ensureEngine, LocalRegistry, mirrorImage, startBuildkit,
    standinBuilder, standinRuntime, startRegistry,
} from "./support/docker";
import { httpGet, waitFor } from "../scripts/lib/process";

const VERSION = "1.2.3-image-test";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const DRAIN_DELAY_S = 1;
const run = randomBytes(4).toString("hex");

/** The steps of BuildKit's plain progress output, by description, and whether each came from the cache. */
function buildSteps(log: string): Map<string, boolean> {
    const desc = new Map<string, string>();
    const cached = new Set<string>();
    for (const line of log.split("\n")) {
        const m = /^#(\d+) (.*)$/.exec(line);
        if (!m) continue;
        if (m[2].startsWith("[")) desc.set(m[1], m[2]);
        if (m[2] === "CACHED") cached.add(m[1]);
    }
    return new Map([...desc].map(([n, d]) => [d, cached.has(n)]));
}

function step(steps: Map<string, boolean>, pattern: RegExp): boolean {
    const found = [...steps].find(([d]) => pattern.test(d));
    assert.ok(found, `no build step matches ${pattern}; steps:\n${[...steps.keys()].join("\n")}`);
    return found[1];
}

describe("The service image (app/Dockerfile)", function () {
    let cli: DockerCli;
    let image: BuiltImage;
    const containers: string[] = [];
    const tags: string[] = [];

    /** Runs the image like the chart does (read-only root, /tmp as tmpfs), published on a loopback port. */
    async function runService(ref: string): Promise<{ id: string; base: string }> {
        const id = (await cli.ok([
            "run", "-d", "--read-only", "--tmpfs", "/tmp", "-e", `DRAIN_DELAY=${DRAIN_DELAY_S}s`,
            "-p", "127.0.0.1::8080", ref,
        ])).trim();
        containers.push(id);
        const hostPort = (await cli.ok(["port", id, "8080/tcp"])).trim().split("\n")[0];
        const base = `http://${hostPort}`;
        await waitFor(`the container to answer /readyz (logs: docker logs ${id})`, async () =>
            ((await httpGet(`${base}/readyz`, 2000)).status === 200 ? true : undefined), 30_000, 200);
        return { id, base };
    }

    async function inspect(ref: string, format: string): Promise<string> {
        return (await cli.ok(["inspect", "--format", format, ref])).trim();
    }

    before(async function () {
        this.timeout(30 * 60_000); // the first build on a fresh machine compiles the standard library
        const engine = await ensureEngine();
        if (!engine.ok) {
            if (process.env.CI === "true") throw new Error(`the image specs need Docker under CI=true: ${engine.reason}`);
            this.skip();
        }
        cli = DockerCli.create();
        image = await buildServiceImage(cli, { tag: `hello-image-test:${run}`, version: VERSION, commit: COMMIT });
        tags.push(image.tag);
    });

    after(async function () {
        this.timeout(120_000);
        if (!cli) return;
        if (containers.length) await cli.run(["rm", "-f", ...containers]);
        if (tags.length) await cli.run(["image", "rm", ...tags]);
        cli.close();
    });

    describe("GIVEN the image built with stand-in base images and VERSION, COMMIT build args", function () {
        this.timeout(120_000);

        it("runs as uid and gid 65532, never root", async () => {
            assert.equal(await inspect(image.id, "{{.Config.User}}"), "65532:65532");

            const { id } = await runService(image.id);
            // docker top reads the process table on the engine's side: the process as the kernel sees it.
            const [header, row] = (await cli.ok(["top", id, "-o", "pid,uid,gid"])).trim().split("\n");
            assert.match(header, /PID\s+UID\s+GID/);
            const [, uid, gid] = row.trim().split(/\s+/);
            assert.deepEqual({ uid, gid }, { uid: "65532", gid: "65532" });
        });

        it("answers GET /, its probes and /metrics with a read-only root filesystem", async () => {
            const { id, base } = await runService(image.id);
            assert.equal(await inspect(id, "{{.HostConfig.ReadonlyRootfs}}"), "true");

            const hello = await httpGet(`${base}/`);
            assert.deepEqual(
                { status: hello.status, body: hello.body, type: hello.headers.get("content-type") },
                { status: 200, body: "Hello, World! Counter: 1", type: "text/plain; charset=utf-8" },
            );
            assert.equal((await httpGet(`${base}/healthz`)).status, 200);
            assert.equal((await httpGet(`${base}/readyz`)).status, 200);
            const metrics = await httpGet(`${base}/metrics`);
            assert.equal(metrics.status, 200);
            assert.match(metrics.body, /^hello_counter_total 1$/m);
        });

        it("carries the version and commit it was built with, in build_info and the image labels", async () => {
            const { base } = await runService(image.id);
            const metrics = (await httpGet(`${base}/metrics`)).body;
            const buildInfo = metrics.split("\n").find((l) => l.startsWith("build_info{"));
            assert.ok(buildInfo, "/metrics has no build_info");
            assert.match(buildInfo, new RegExp(`version="${VERSION}"`));
            assert.match(buildInfo, new RegExp(`commit="${COMMIT}"`));
            assert.match(buildInfo, / 1$/);

            const labels = JSON.parse(await inspect(image.id, "{{json .Config.Labels}}")) as Record<string, string>;
            assert.equal(labels["org.opencontainers.image.version"], VERSION);
            assert.equal(labels["org.opencontainers.image.revision"], COMMIT);
        });

        it("stops cleanly on docker stop: SIGTERM to PID 1 drains, then exits 0 without being killed", async () => {
            const { id } = await runService(image.id);

            const began = Date.now();
            await cli.ok(["stop", "--time", "20", id]);
            const took = (Date.now() - began) / 1000;

            assert.equal(await inspect(id, "{{.State.ExitCode}}"), "0");
            assert.ok(took >= DRAIN_DELAY_S, `stopped after ${took}s, before the ${DRAIN_DELAY_S}s drain delay`);
            assert.ok(took < 15, `stopping took ${took}s: the process did not handle SIGTERM`);
            const logs = (await cli.ok(["logs", id])).trim().split("\n").map((l) => JSON.parse(l) as { msg: string });
            assert.equal(logs[logs.length - 1].msg, "shutdown complete");
        });

        it("rebuilds a source-only change without downloading modules again", async function () {
            this.timeout(15 * 60_000);
            const context = fs.mkdtempSync(path.join(os.tmpdir(), "hello-image-context-"));
            try {
                fs.cpSync(appDir, context, { recursive: true });
                fs.appendFileSync(path.join(context, "internal", "server", "hello.go"), `\n// cache probe ${run}\n`);

                const rebuilt = await buildServiceImage(cli, { tag: `hello-image-test:${run}-changed`, version: VERSION, commit: COMMIT, context });
                tags.push(rebuilt.tag);

                const steps = buildSteps(rebuilt.log);
                assert.equal(step(steps, /go mod download/), true, "the module download step ran again");
                assert.equal(step(steps, /COPY internal/), false, "the changed source was not copied");
                assert.equal(step(steps, /go build/), false, "the binary was not rebuilt");
            } finally {
                fs.rmSync(context, { recursive: true, force: true });
            }
        });
    });

    describe("GIVEN the base images in a mirror registry by digest, and a BuildKit that honours SOURCE_DATE_EPOCH", function () {
        this.timeout(30 * 60_000);
        let registry: LocalRegistry;
        let builder: { builder: string; stop(): Promise<void> };
        let args: Record<string, string>;
        const contexts: string[] = [];

        function checkout(mtime: Date): string {
            const dir = checkoutAt(mtime);
            contexts.push(dir);
            return dir;
        }

        before(async function () {
            registry = await startRegistry();
            await cli.ok(["login", registry.host, "--username", registry.username, "--password-stdin"], { input: registry.password });
            builder = await startBuildkit(cli, [registry.host]);
            // The program's own build arguments, with the base images taken from the mirror, by digest.
            const build = buildImageArgs({
                context: appDir, repository: `${registry.host}/hello`, tag: "repro", version: VERSION,
                revision: { commit: COMMIT, time: 1764115200 },
                buildArgs: {
                    BUILDER_IMAGE: await mirrorImage(cli, await standinBuilder(cli), `${registry.host}/mirror/golang`),
                    RUNTIME_IMAGE: await mirrorImage(cli, await standinRuntime(cli), `${registry.host}/mirror/static`),
                },
            }).build as { args: Record<string, string> };
            args = build.args;
        });

        after(async function () {
            this.timeout(10 * 60_000); // buildkitd's state: the builder stand-in's Go toolchain in every snapshot
            await builder?.stop();
            await registry?.stop();
            for (const dir of contexts) fs.rmSync(dir, { recursive: true, force: true });
        });

        let first: string;

        it("builds the same digest from the same source and build arguments, in checkouts made at different times", async function () {
            first = await buildAndPush(cli, builder.builder, {
                context: checkout(new Date("2026-01-01T00:00:00Z")), name: `${registry.host}/hello:first`, buildArgs: args,
            });
            const second = await buildAndPush(cli, builder.builder, {
                context: checkout(new Date("2026-06-01T12:00:00Z")), name: `${registry.host}/hello:second`, buildArgs: args,
            });
            assert.equal(second, first);
        });

        it("builds another digest from another source revision", async function () {
            const other = await buildAndPush(cli, builder.builder, {
                context: checkout(new Date()), name: `${registry.host}/hello:other`,
                buildArgs: { ...args, COMMIT: "fedcba9876543210", SOURCE_DATE_EPOCH: "1764201600" },
            });
            assert.notEqual(other, first);
        });
    });

    describe("GIVEN a local registry that requires a login, and the image pushed to it", function () {
        this.timeout(300_000);
        let registry: LocalRegistry;
        let repo: string;
        let digest: string;

        before(async function () {
            this.timeout(300_000);
            registry = await startRegistry();
            repo = `${registry.host}/hello`;
            await cli.ok(["login", registry.host, "--username", registry.username, "--password-stdin"], { input: registry.password });
            await cli.ok(["tag", image.id, `${repo}:${run}`]);
            tags.push(`${repo}:${run}`);
            const pushed = await cli.ok(["push", `${repo}:${run}`]);
            const m = /digest: (sha256:[0-9a-f]{64})/.exec(pushed);
            assert.ok(m, `docker push printed no digest:\n${pushed}`);
            digest = m[1];
        });

        after(async function () {
            this.timeout(60_000);
            await registry?.stop();
        });

        it("refuses a pull without credentials", async () => {
            const anonymous = DockerCli.create();
            try {
                const r = await anonymous.run(["pull", `${repo}@${digest}`]);
                assert.notEqual(r.code, 0, "an anonymous pull succeeded");
                assert.match(r.stderr, /no basic auth credentials|unauthorized|authentication required/i);
            } finally {
                anonymous.close();
            }
        });

        it("pulls back by digest the very image that was built, which runs", async () => {
            // WHEN the local copy is gone
            if (containers.length) await cli.ok(["rm", "-f", ...containers.splice(0)]);
            await cli.ok(["image", "rm", ...tags.splice(0)]);
            if ((await cli.run(["image", "inspect", image.id])).code === 0) {
                await cli.ok(["image", "rm", "--force", image.id]); // tags left over from an earlier, interrupted run
            }
            assert.equal((await cli.run(["image", "inspect", image.id])).code, 1, "the image is still present locally");

            // AND it is pulled by digest
            const ref = `${repo}@${digest}`;
            await cli.ok(["pull", ref]);
            tags.push(ref);

            // THEN it is the same image, and it serves
            assert.equal(await inspect(ref, "{{.Id}}"), image.id);
            const { base } = await runService(ref);
            assert.equal((await httpGet(`${base}/`)).body, "Hello, World! Counter: 1");
        });
    });
});
