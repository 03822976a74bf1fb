/**
 * A simulated node (kwok v0.8.0): pods are scheduled, admitted (Pod Security included), become Running and Ready,
 * and are deleted, but no container runs. For specs where a simulated node is the point: no root needed, nothing on
 * the machine changes, and a node of any capacity.
 */
import * as path from "node:path";

import { start, Started, waitFor } from "../scripts/lib/process";

/** What the simulated node offers: enough for both charts' requests, so only a deliberate excess fails to schedule. */
export const KWOK_CAPACITY = { cpu: "16", memory: "64Gi", pods: "110", "ephemeral-storage": "100Gi" } as const;
export const KWOK_NODE_NAME = "kwok-node";

/**
 * Starts kwok with `stages` (the module's node and pod stages) and registers its node; resolves once it is Ready.
 * kwok gives pods the addresses after the network address of the node's `podCIDR` (.1, .2, ...).
 */
export async function startKwokNode(opts: {
    readonly bin: string;
    readonly kubeconfig: string;
    readonly stages: readonly string[];
    readonly podCIDR?: string;
    readonly kubectl: (args: readonly string[], input?: string) => Promise<string>;
}): Promise<Started> {
    const kwok = start(path.join(opts.bin, "kwok"), [
        `--kubeconfig=${opts.kubeconfig}`, "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--server-address=",
        // Renews the node's Lease as a kubelet does: without it the node controller marks the node NotReady after
        // its grace period, and evicts the pods.
        "--node-lease-duration-seconds=40",
        ...opts.stages.flatMap((s) => ["--config", s]),
    ]);
    await opts.kubectl(["apply", "-f", "-"], JSON.stringify({
        apiVersion: "v1", kind: "Node",
        metadata: {
            name: KWOK_NODE_NAME,
            annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
            labels: { type: "kwok", "kubernetes.io/hostname": KWOK_NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" },
        },
        ...(opts.podCIDR && { spec: { podCIDR: opts.podCIDR, podCIDRs: [opts.podCIDR] } }),
        status: { capacity: KWOK_CAPACITY, allocatable: KWOK_CAPACITY },
    }));
    await waitFor(`node ${KWOK_NODE_NAME} to be Ready`, async () => {
        if (kwok.child.exitCode !== null) throw new Error(`kwok exited:\n${kwok.output().slice(-3000)}`);
        const ready = await opts.kubectl(["get", "node", KWOK_NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
        return ready === "True" ? true : undefined;
    }, 60_000, 250);
    return kwok;
}
