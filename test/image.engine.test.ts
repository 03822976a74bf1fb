/**
 * Where "the same source builds the same digest" holds for the program's own build. `docker.Image` builds through the
 * Docker engine it finds, with the engine's own BuildKit (components/serviceImage.ts asks for BuildKit): the image is
 * the same for the same source only where that BuildKit honours SOURCE_DATE_EPOCH, Docker Engine 23 and later
 * (BuildKit >= 0.11). Docker Engine 20.10 (Debian 12's docker.io) stamps each build with its own time. This spec builds
 * app/ twice on the engine found here, as the program asks for it (the same build arguments, BuildKit, nothing cached,
 * two checkouts made at different times), and holds the engine to what the README says of its version.
 * Needs a Docker engine: without one it skips on a laptop and fails under CI=true.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";

import { buildImageArgs } from "../components/serviceImage";
import { buildServiceImage, checkoutAt, DockerCli, ensureEngine } from "./support/docker";

const run = randomBytes(4).toString("hex");

describe("the program's image build on the Docker engine found here", function () {
    this.timeout(30 * 60_000); // a first build on a fresh machine compiles the standard library
    let cli: DockerCli;
    const tags: string[] = [];
    const contexts: string[] = [];

    before(async function () {
        const engine = await ensureEngine();
        if (!engine.ok) {
            if (process.env.CI === "true") throw new Error(`the image specs need Docker under CI=true: ${engine.reason}`);
            this.skip();
        }
        cli = DockerCli.create();
    });

    after(async function () {
        if (!cli) return;
        if (tags.length) await cli.run(["image", "rm", ...tags]);
        for (const dir of contexts) fs.rmSync(dir, { recursive: true, force: true });
        cli.close();
    });

    it("builds the same image from the same source on Docker Engine 23 or later, and another each time on an older one", async function () {
        const engineVersion = (await cli.ok(["version", "--format", "{{.Server.Version}}"])).trim();
        const honoursSourceDateEpoch = Number(engineVersion.split(".")[0]) >= 23;
        const { args } = buildImageArgs({
            context: "app", repository: "hello-engine-test", tag: run, version: "1.0.0",
            revision: { commit: "0123456789ab", time: 1764115200 },
        }).build as { args: Record<string, string> };

        const ids: string[] = [];
        for (const [i, mtime] of [new Date("2026-01-01T00:00:00Z"), new Date("2026-06-01T12:00:00Z")].entries()) {
            const context = checkoutAt(mtime);
            contexts.push(context);
            const tag = `hello-engine-test:${run}-${i}`;
            tags.push(tag);
            const image = await buildServiceImage(cli, {
                tag, context, version: args.VERSION, commit: args.COMMIT, noCache: true,
                buildArgs: { SOURCE_DATE_EPOCH: args.SOURCE_DATE_EPOCH },
            });
            ids.push(image.id);
        }
        if (honoursSourceDateEpoch) assert.equal(ids[1], ids[0], `Docker Engine ${engineVersion} built two images from one source`);
        else assert.notEqual(ids[1], ids[0], `Docker Engine ${engineVersion} built one image twice: the README's limit is wrong`);
    });
});
