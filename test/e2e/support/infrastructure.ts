/**
 * What a real-engine spec that deploys the service runs against, started together and stopped together: a cluster, a
 * registry that requires a login (with a docker CLI logged in to it) and the chart mirror holding the stand-in
 * kube-prometheus-stack; and the service's image, built on stand-in base images and pushed there, as a real node
 * pulls it.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

import { buildServiceImage, DockerCli, LocalRegistry, startRegistry } from "../../support/docker";
import { ChartMirror, startChartMirror } from "../../../scripts/lib/chartMirror";
import { LocalCluster, startRealCluster } from "./cluster";
import type { Toolchain } from "../../../scripts/lib/toolchain";

export interface Infrastructure {
    readonly cluster: LocalCluster;
    readonly registry: LocalRegistry;
    readonly mirror: ChartMirror;
    /** A docker CLI logged in to the registry. */
    readonly docker: DockerCli;
    /** Stops everything. */
    stop(): Promise<void>;
}

/**
 * Starts it for the spec file (or benchmark) `file`; `ctx` is the spec's, to skip where root is missing (except under
 * CI=true), none makes a missing prerequisite throw.
 */
export async function startInfrastructure(ctx: Mocha.Context | undefined, tools: Toolchain, file: string): Promise<Infrastructure> {
    const [cluster, registry, mirror] = await Promise.all([
        startRealCluster(ctx, tools, file),
        startRegistry(),
        startChartMirror(path.join(tools.bin, "helm"), tools.operatorCrds),
    ]);
    const docker = DockerCli.create();
    const stop = async () => {
        const results = await Promise.allSettled([cluster.stop(), registry.stop(), mirror.stop()]);
        docker.close();
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed.length) throw new Error(failed.map((r) => String(r.reason)).join("\n"));
    };
    try {
        await docker.ok(["login", registry.host, "--username", registry.username, "--password-stdin"], { input: registry.password });
    } catch (err) {
        await stop();
        throw err;
    }
    return { cluster, registry, mirror, docker, stop };
}

/** Pushes the local image `tag` and returns `<repository>@<digest>`. */
export async function pushImage(docker: DockerCli, tag: string): Promise<string> {
    const pushed = await docker.ok(["push", tag]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    assert.ok(digest, `docker push printed no digest:\n${pushed}`);
    return `${tag.slice(0, tag.lastIndexOf(":"))}@${digest}`;
}

/** Builds app/ as `<registry>/<name>:<version>`, pushes it and returns the reference by digest. */
export async function pushServiceImage(infra: Infrastructure, name: string, version: string): Promise<string> {
    const built = await buildServiceImage(infra.docker, { tag: `${infra.registry.host}/${name}:${version}`, version, commit: "e2e" });
    return pushImage(infra.docker, built.tag);
}
