/**
 * What must hold before `pulumi up` changes anything: the stack's cluster answers through its kubeconfig context, and
 * its registry answers with the stack's credentials (and holds the prebuilt image it deploys). Each failure names
 * what it checked, and nothing is deployed: a cluster or registry that is away would otherwise show late, as retries
 * and an error deep in a release's update, after other releases were upgraded.
 *
 * Not in a preview (it changes nothing), nor under Pulumi's mocks (nothing is deployed there).
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

import { checkClusterAccess } from "../components/clusterAccess";
import { parseImageRef } from "../components/imageReference";
import { checkRegistryAccess } from "../components/registryAccess";
import type { StackSettings } from "./settings";

/** Whether this run deploys: an update, not a preview nor a run under mocks. */
export function deploying(): boolean {
    return !pulumi.runtime.isDryRun() && !(pulumi.runtime.getMonitor() instanceof MockMonitor);
}

/** Checks the cluster and the registry at once; throws one error listing every failure. */
export async function preflight(settings: StackSettings): Promise<void> {
    const server = settings.registry.split("/")[0];
    const prebuilt = settings.prebuiltImage ? parseImageRef(settings.prebuiltImage) : undefined;
    const repository = prebuilt?.repository ?? `${settings.registry}/${settings.imageName}`;
    const results = await Promise.allSettled([
        checkClusterAccess(settings.kubeContext),
        checkRegistryAccess({
            server,
            // The repository inside the registry, without the host and a tag before the digest.
            repository: repository.slice(server.length + 1).replace(/:[^/]*$/, ""),
            digest: prebuilt?.digest,
            username: settings.registryUsername,
            password: settings.registryPassword,
        }),
    ]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message);
    if (failed.length === 1) throw new pulumi.RunError(failed[0]);
    if (failed.length > 1) throw new pulumi.RunError(failed.map((f) => `\n  - ${f}`).join(""));
}
