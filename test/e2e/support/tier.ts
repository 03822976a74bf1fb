/**
 * What the spec files of the real-engine tier share: the toolchain, a cluster with a real node, the registry that
 * needs a login with the service's images pushed to it (built from app/ on stand-in base images, by digest), the chart
 * mirror with the stand-in kube-prometheus-stack, Helm as an operator uses it, and a stack of the project's program
 * configured the way the dev stack would be on this cluster.
 *
 * Needs Docker (the image builds) and root (the real node): without them a spec file skips on a laptop and fails
 * under CI=true.
 */
import * as path from "node:path";

import { DockerCli, ensureEngine, LocalRegistry } from "../../support/docker";
import type { ChartMirror } from "../../../scripts/lib/chartMirror";
import type { LocalCluster } from "./cluster";
import { Helm } from "./helm";
import { pushImage, pushServiceImage, startInfrastructure } from "./infrastructure";
import { createStack, E2eStack, PROJECT } from "./stack";
import { ensureToolchain, Toolchain } from "../../../scripts/lib/toolchain";

export const key = (name: string) => `${PROJECT}:${name}`;

export interface Tier {
    readonly tools: Toolchain;
    readonly cluster: LocalCluster;
    readonly registry: LocalRegistry;
    readonly mirror: ChartMirror;
    readonly docker: DockerCli;
    readonly helm: Helm;
    /** The service's images in the registry, by digest: one per version asked for. */
    readonly images: readonly string[];
    kubectl(...args: string[]): Promise<string>;
    json(...args: string[]): Promise<any>;
    /**
     * Pushes an image built FROM `base` with the Dockerfile lines `lines` to the service's repository as `tag` (a stack
     * deploys only its own repository); returns it by digest.
     */
    derivedImage(base: string, tag: string, lines: readonly string[]): Promise<string>;
    /** A stack of the program (index.ts) on the tier's cluster, configured as a dev stack with `config` and `secrets` on top. */
    programStack(name: string, config?: Record<string, string>, secrets?: Record<string, string>): Promise<E2eStack>;
    stop(): Promise<void>;
}

/**
 * Sets the tier up for the spec file (or benchmark) `file`. `ctx` is the spec's, to skip it where Docker or root is
 * missing (except under CI=true); without one (a benchmark) a missing prerequisite throws.
 */
export async function startTier(ctx: Mocha.Context | undefined, file: string, opts: { readonly imageVersions: readonly string[] }): Promise<Tier> {
    const engine = await ensureEngine();
    if (!engine.ok) {
        if (process.env.CI === "true" || !ctx) throw new Error(`the real-engine tier needs Docker: ${engine.reason}`);
        console.log(`    skipped: ${engine.reason}`);
        ctx.skip();
    }
    const tools = await ensureToolchain();
    const infra = await startInfrastructure(ctx, tools, file);
    const { cluster, registry, mirror, docker } = infra;
    const helmEnv = { ...process.env, HELM_CACHE_HOME: "/nonexistent-e2e", HELM_CONFIG_HOME: "/nonexistent-e2e" };
    const stacks: E2eStack[] = [];
    const stop = async () => {
        for (const s of stacks) {
            await s.destroy();
            await s.remove();
        }
        delete process.env.KUBECONFIG;
        await infra.stop();
    };
    try {
        const images: string[] = [];
        for (const version of opts.imageVersions) images.push(await pushServiceImage(infra, "hello", version));
        // The inline program runs in this process: it reads the same kubeconfig the engine's provider does.
        process.env.KUBECONFIG = cluster.kubeconfig;
        const kubectl = (...args: string[]) => cluster.kubectl(args);
        return {
            tools, cluster, registry, mirror, docker, images, kubectl,
            helm: new Helm(path.join(tools.bin, "helm"), cluster, helmEnv),
            json: async (...args: string[]) => JSON.parse(await cluster.kubectl([...args, "--output", "json"])),
            async derivedImage(base, tag, lines) {
                const name = `${registry.host}/hello:${tag}`;
                await docker.ok(["build", "--tag", name, "-"], { input: [`FROM ${base}`, ...lines, ""].join("\n") });
                return pushImage(docker, name);
            },
            async programStack(name, config = {}, secrets = {}) {
                const stack = await createStack(name, { bin: tools.bin, env: { KUBECONFIG: cluster.kubeconfig } });
                stacks.push(stack);
                await stack.configure({
                    [key("environment")]: "dev",
                    [key("kubeContext")]: cluster.context,
                    [key("registry")]: registry.host,
                    [key("prebuiltImage")]: images[0],
                    [key("registryUsername")]: registry.username,
                    [key("monitoringChartRepository")]: mirror.url,
                    ...config,
                }, {
                    [key("registryPassword")]: registry.password,
                    // Set, because the random provider that would generate it is not served by the Go module proxy.
                    [key("grafanaAdminPassword")]: "e2e-GRAFANA-admin-pw-1",
                    ...secrets,
                });
                return stack;
            },
            stop,
        };
    } catch (e) {
        await stop().catch(() => undefined);
        throw e;
    }
}
