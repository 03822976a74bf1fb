/**
 * The service's image on the Automation API path, where the docker provider is not available: built from app/ with
 * the pinned BuildKit, with the build arguments the program's `docker.Image` would pass (buildImageArgs), pushed to
 * the dev stack's registry, and deployed by digest through `prebuiltImage`, as the Deploy workflow does. The same
 * source gives the same digest (SOURCE_DATE_EPOCH), so a second run changes nothing.
 *
 * Where a base image's registry does not answer and the stack names no mirror, the build runs on the stand-in the
 * tests make (scripts/lib/images.ts), pushed to the same registry and named by digest.
 */
import * as path from "node:path";

import { buildImageArgs, sourceRevision } from "../../components/serviceImage";
import type { StackSettings } from "../../stacks/settings";
import { buildAndPush, DockerCli, ensureEngine, mirrorImage, standinBuilder, standinRuntime, startBuildkit } from "../lib/images";
import type { Sources } from "./choose";
import { DevError } from "./choose";

type ImageSettings = Pick<StackSettings, "registry" | "imageName" | "imageTag" | "platform" | "builderImage" | "runtimeImage">;

/** Pushes a stand-in made by Docker's engine to the registry; returns it by digest, and drops the push's tag. */
async function pushStandin(cli: DockerCli, image: string, repository: string): Promise<string> {
    const byDigest = await mirrorImage(cli, image, repository);
    await cli.run(["rmi", `${repository}:mirrored`]);
    return byDigest;
}

/** Builds and pushes the service's image; returns `<registry>/<imageName>@sha256:...`. */
export async function buildAndPushServiceImage(checkout: string, settings: ImageSettings, sources: Sources): Promise<string> {
    const appDir = path.join(checkout, "app");
    const repository = `${settings.registry}/${settings.imageName}`;
    const cli = DockerCli.create();
    try {
        const bases: Record<string, string> = {};
        if (settings.builderImage) bases.BUILDER_IMAGE = settings.builderImage;
        if (settings.runtimeImage) bases.RUNTIME_IMAGE = settings.runtimeImage;
        if (sources.builder === "standin" || sources.runtime === "standin") {
            const engine = await ensureEngine();
            if (!engine.ok) throw new DevError(`the stand-in base images are made with Docker's engine: ${engine.reason}`);
            if (sources.builder === "standin") bases.BUILDER_IMAGE = await pushStandin(cli, await standinBuilder(cli), `${settings.registry}/hello-standin/golang`);
            if (sources.runtime === "standin") bases.RUNTIME_IMAGE = await pushStandin(cli, await standinRuntime(cli), `${settings.registry}/hello-standin/static`);
        }
        const { build } = buildImageArgs({
            context: appDir, repository, tag: settings.imageTag, platform: settings.platform,
            version: (require(path.join(checkout, "package.json")) as { version: string }).version,
            revision: sourceRevision(appDir), buildArgs: bases,
        });
        const buildkit = await startBuildkit(cli, [settings.registry.split("/")[0]]);
        try {
            const digest = await buildAndPush(cli, buildkit.builder, {
                context: appDir, name: `${repository}:${settings.imageTag}`, platform: settings.platform,
                buildArgs: (build as { args: Record<string, string> }).args,
            });
            return `${repository}@${digest}`;
        } finally {
            await buildkit.stop();
        }
    } finally {
        cli.close();
    }
}
