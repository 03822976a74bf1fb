/**
 * The project's own local Kubernetes cluster, for the real-engine tier, `npm run bench:deploy` and `npm run dev` where
 * kind cannot run: a control plane of Kubernetes v1.34 and one node, either
 * - **real** (root only): kubelet, kube-proxy, containerd and runc, bridge networking; containers run, probes probe,
 *   Services route, and a LoadBalancer Service gets the node's address (loadBalancer.ts). One per machine. Its whole lifetime, processes, mounts, chains and bridge included, is owned by
 *   the object `startCluster` returns: one `stop()` that puts the machine back as it found it, also run on SIGINT and
 *   SIGTERM, and run by the next start when its owner was killed; or
 * - **kwok**: a simulated node, where that is the point (no container runs; nothing on the machine changes).
 *
 * Everything is built from the Go module proxy and Debian's packages (scripts/tools.sh e2e) and lives in a folder of
 * its own, on loopback and the node's bridge: no packet leaves the machine.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { Started, waitFor } from "../scripts/lib/process";
import { ControlPlane, SERVICE_CIDR, startControlPlane } from "./controlPlane";
import { HostSnapshot, NodeFootprint, restoreHost } from "./host";
import { KWOK_NODE_NAME, startKwokNode } from "./kwokNode";
import { acquireNodeLock, HeldLock } from "./machineLock";
import { startLoadBalancer } from "./loadBalancer";
import { createPki } from "./pki";
import { createNodeNetwork, missingForRealNode, NODE_NETWORK, RealNode, startRealNode } from "./realNode";

export { KWOK_CAPACITY, KWOK_NODE_NAME } from "./kwokNode";
export { NODE_NETWORK, REAL_NODE_NAME } from "./realNode";
export { API_SERVICE_IP, SERVICE_CIDR } from "./controlPlane";

export interface ClusterOptions {
    /** The folder holding the pinned binaries (scripts/tools.sh e2e). */
    readonly bin: string;
    /** A real node (root only) or a simulated one. */
    readonly node: "real" | "kwok";
    /** kwok's stages (node and pod lifecycles). Required for a kwok node. */
    readonly kwokStages?: readonly string[];
    /** The kwok node's pod CIDR. @default kwok's own (10.0.0.0/16): addresses that lead nowhere */
    readonly podCIDR?: string;
    /** Who runs the cluster, named in the real node's lock. @default "a test run" */
    readonly purpose?: string;
    /** The context's name in the kubeconfig. @default "hello-local" */
    readonly context?: string;
    /**
     * How long to wait for another process's real node to stop before giving up (test runs queue; `npm run dev`
     * does not). @default 0
     */
    readonly waitForNodeMs?: number;
    /** Where progress and clean-up notes go. @default stderr */
    readonly log?: (line: string) => void;
}

export interface LocalCluster {
    /** The administrator's kubeconfig file. */
    readonly kubeconfig: string;
    /** Its one context. */
    readonly context: string;
    /** The folder holding the cluster's files. */
    readonly dir: string;
    /** The node: its name, its address (the real node's bridge address; loopback for kwok), and its kind. */
    readonly node: { readonly kind: "real" | "kwok"; readonly name: string; readonly address: string };
    /** The real node's runtime (containerd through ctr, in Kubernetes' namespace); undefined for kwok. */
    readonly runtime?: Pick<RealNode, "ctr" | "containerdSocket">;
    /** Runs kubectl against the cluster and returns its stdout. */
    kubectl(args: readonly string[], input?: string): Promise<string>;
    /** Stops the API server alone: the cluster is unreachable until startApiServer(). */
    stopApiServer(): Promise<void>;
    startApiServer(): Promise<void>;
    /** Records details about the cluster in the real node's lock, for other processes (npm run dev). */
    describe(details: Record<string, string>): void;
    /** Stops every process and puts the machine back as it was. Safe to call twice. */
    stop(): Promise<void>;
}

const running = new Set<LocalCluster>();
let signalsHandled = false;

/**
 * On SIGINT and SIGTERM, every running cluster is stopped before the process exits. Later signals (a second Ctrl-C,
 * the SIGTERM a CI runner sends after its SIGINT) wait for the same teardown instead of cutting it short; SIGKILL
 * does cut it short, and the next start cleans up after it.
 */
function handleSignals(log: (line: string) => void): void {
    if (signalsHandled) return;
    signalsHandled = true;
    let exiting = false;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.on(signal, () => {
            if (exiting) return;
            exiting = true;
            log(`${signal}: stopping the local cluster before exiting`);
            void Promise.allSettled([...running].map((c) => c.stop())).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
        });
    }
}

export async function startCluster(opts: ClusterOptions): Promise<LocalCluster> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`localcluster: ${line}\n`));
    const context = opts.context ?? "hello-local";
    const real = opts.node === "real";
    if (real && process.getuid?.() !== 0) {
        throw new Error(`a real node needs:\n  - ${(await missingForRealNode(SERVICE_CIDR)).join("\n  - ")}`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-cluster-"));
    const footprint: NodeFootprint = { dir, bridge: NODE_NETWORK.bridge, ranges: [NODE_NETWORK.clusterCIDR, SERVICE_CIDR] };
    let lock: HeldLock | undefined;
    let snapshot: HostSnapshot | undefined;
    const started: { stop(): Promise<void> }[] = [];
    // One teardown, however many callers (a spec's after hook, SIGINT then SIGTERM): each waits for the same one.
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= teardown());
    const teardown = async () => {
        running.delete(cluster);
        const problems: string[] = [];
        for (const s of [...started].reverse()) await s.stop().catch((e: Error) => problems.push(e.message));
        if (snapshot) problems.push(...await restoreHost(snapshot, footprint));
        else fs.rmSync(dir, { recursive: true, force: true });
        lock?.release();
        if (problems.length) throw new Error(`the local cluster did not stop cleanly:\n  - ${problems.join("\n  - ")}`);
    };
    let controlPlane: ControlPlane | undefined;
    let node: RealNode | undefined;
    const cluster: LocalCluster = {
        get kubeconfig() { return controlPlane!.kubeconfig; },
        context,
        dir,
        get node() {
            return real
                ? { kind: "real" as const, name: node!.name, address: node!.address }
                : { kind: "kwok" as const, name: KWOK_NODE_NAME, address: "127.0.0.1" };
        },
        get runtime() { return node; },
        kubectl: (args, input) => controlPlane!.kubectl(args, input),
        stopApiServer: () => controlPlane!.stopApiServer(),
        startApiServer: () => controlPlane!.startApiServer(),
        describe: (details) => lock?.update(details),
        stop,
    };

    const processes: Started[] = [];
    try {
        if (real) {
            lock = await acquireNodeLock(opts.purpose ?? "a test run", footprint, log, { waitMs: opts.waitForNodeMs });
            snapshot = lock.snapshot;
            running.add(cluster);
            handleSignals(log);
            const missing = await missingForRealNode(SERVICE_CIDR);
            if (missing.length) throw new Error(`a real node needs:\n  - ${missing.join("\n  - ")}`);
            await createNodeNetwork(SERVICE_CIDR);
        }
        const pki = await createPki(path.join(dir, "pki"));
        controlPlane = await startControlPlane({
            bin: opts.bin, dir, pki, context,
            address: real ? NODE_NETWORK.nodeIP : "127.0.0.1",
            clusterCIDR: real ? NODE_NETWORK.clusterCIDR : undefined,
            kubeletClient: real,
        });
        started.push(controlPlane);
        processes.push(...controlPlane.processes());
        const kubectl = controlPlane.kubectl;
        if (real) {
            node = await startRealNode({ bin: opts.bin, dir, pki, server: controlPlane.server, serviceCIDR: SERVICE_CIDR, context, kubectl });
            started.push(node);
            processes.push(...node.processes());
            started.push(startLoadBalancer(controlPlane, node.address));
        } else {
            if (!opts.kwokStages) throw new Error("a kwok node needs its stages (kwokStages)");
            const kwok = await startKwokNode({ bin: opts.bin, kubeconfig: controlPlane.kubeconfig, stages: opts.kwokStages, podCIDR: opts.podCIDR, kubectl });
            started.push({ stop: () => kwok.stop(10_000) });
            processes.push(kwok);
        }
        // Pods are admitted only once their namespace's default ServiceAccount exists; wait for the controller.
        await waitFor("the default ServiceAccount", async () =>
            ((await kubectl(["get", "serviceaccount", "default", "-o", "name"]).catch(() => "")).trim() ? true : undefined), 60_000, 250);
        if (real) {
            // The `kubernetes` Service is how pods reach the API server: check that its endpoint is the node's address.
            await waitFor("the kubernetes Service's endpoint", async () =>
                (await kubectl(["get", "endpointslices", "-n", "default", "-l", "kubernetes.io/service-name=kubernetes",
                    "-o", "jsonpath={.items[0].endpoints[0].addresses[0]}"]).catch(() => "")).trim() === NODE_NETWORK.nodeIP ? true : undefined,
            30_000, 250);
        }
        return cluster;
    } catch (err) {
        const logs = processes.map((p) => `--- ${path.basename(p.child.spawnfile)}\n${p.output().slice(-2000)}`).join("\n");
        await stop().catch((e: Error) => log(e.message));
        throw new Error(`${(err as Error).message}\n${logs}`);
    }
}
