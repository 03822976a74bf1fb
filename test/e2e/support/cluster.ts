/**
 * The tier's cluster: the project's local cluster (localcluster/) with a real node, or a simulated one where that is
 * the point (previews of images no registry holds). A real node needs root: without it the spec file says so and
 * skips, except under CI=true, where it fails naming what is missing.
 */
import * as path from "node:path";

import { LocalCluster, startCluster } from "../../../localcluster";
import { Toolchain } from "../../../scripts/lib/toolchain";

export type { LocalCluster } from "../../../localcluster";
export { KWOK_CAPACITY, NODE_NETWORK } from "../../../localcluster";

/**
 * Skips the spec (fails it under CI=true) where this process is not root, which a real node needs. Without a spec
 * (a benchmark), it throws.
 */
export function requireRoot(ctx: Mocha.Context | undefined): void {
    if (process.getuid?.() === 0) return;
    const why = "a real node needs root (the kubelet mounts volumes, writes iptables rules and cgroups)";
    if (process.env.CI === "true" || !ctx) throw new Error(`the real-engine tier${ctx ? " under CI=true" : ""}: ${why}`);
    console.log(`    skipped: ${why}; run the tier as root`);
    ctx.skip();
}

/** A cluster whose node runs containers, for the spec file `file` (named in the machine's lock). */
export async function startRealCluster(ctx: Mocha.Context | undefined, tools: Toolchain, file: string): Promise<LocalCluster> {
    requireRoot(ctx);
    return startCluster({
        bin: tools.bin, node: "real", purpose: `the real-engine tier (${path.basename(file)})`,
        // Another run's node (a second clone's tests, a benchmark) is waited for: one real node per machine.
        waitForNodeMs: 30 * 60_000,
    });
}

/** A cluster whose node is simulated by kwok: pods become Ready, no container runs. */
export function startKwokCluster(tools: Toolchain, opts: { readonly podCIDR?: string } = {}): Promise<LocalCluster> {
    return startCluster({ bin: tools.bin, node: "kwok", kwokStages: tools.kwokStages, podCIDR: opts.podCIDR });
}
