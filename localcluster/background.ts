/**
 * A local cluster kept running in the background, for `npm run dev`: the machine's one real node and a registry,
 * owned by a detached process (daemon.ts) that outlives the command that started it, until asked to stop.
 *
 * What runs is read from the machine's node lock (machineLock.ts): who owns the node, whether that process still
 * runs, and, once the cluster is up, where its kubeconfig, registry and control socket are.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { waitFor } from "../scripts/lib/process";
import { cleanLeftover, NodeLease, ownerRuns, readLease } from "./machineLock";

const DAEMON = path.join(__dirname, "daemon.ts");
const PURPOSE_SUFFIX = ", in the background";

export interface BackgroundOptions {
    /** The folder holding the pinned binaries (scripts/tools.sh e2e). */
    readonly bin: string;
    /** The context's name in the cluster's kubeconfig. */
    readonly context: string;
    /** `localhost:<port>`: where the registry listens (on loopback; containerd pulls from a loopback registry over plain HTTP). */
    readonly registry: string;
    /** Who wants it, e.g. `npm run dev`. */
    readonly owner: string;
    /** The checkout it was started from: another checkout must not take it over. */
    readonly checkout: string;
    /** The daemon's log file. */
    readonly log: string;
}

/** What the daemon records in the node lock once the cluster is up. */
export interface BackgroundDetails {
    readonly owner: string;
    readonly checkout: string;
    readonly kubeconfig: string;
    readonly context: string;
    readonly registry: string;
    /** The daemon's control socket (`POST /stop`). */
    readonly control: string;
    /** The node's address: Services' node ports listen there. */
    readonly nodeAddress: string;
}

export interface BackgroundCluster extends BackgroundDetails {
    readonly pid: number;
    readonly startedAt: string;
}

/** The purpose the daemon names in the node lock: how another process tells it from a test run's node. */
export function backgroundPurpose(opts: Pick<BackgroundOptions, "owner" | "checkout">): string {
    return `${opts.owner} (${opts.checkout})${PURPOSE_SUFFIX}`;
}

/** The machine's real node as seen from outside its owner. */
export type NodeOnMachine =
    | { readonly state: "none" }
    /** A background cluster is up. */
    | { readonly state: "background"; readonly cluster: BackgroundCluster }
    /** A background cluster's owner runs, but the cluster is not up yet (or could not start). */
    | { readonly state: "starting"; readonly lease: NodeLease }
    /** Another kind of owner's node: a test run, a benchmark. */
    | { readonly state: "other"; readonly lease: NodeLease }
    /** Its owner is gone without stopping it. */
    | { readonly state: "leftover"; readonly lease: NodeLease };

export function nodeOnMachine(): NodeOnMachine {
    const lease = readLease();
    if (!lease) return { state: "none" };
    if (!ownerRuns(lease)) return { state: "leftover", lease };
    const details = lease.details as BackgroundDetails | undefined;
    if (details?.control) return { state: "background", cluster: { ...details, pid: lease.pid, startedAt: lease.startedAt } };
    if (lease.purpose.endsWith(PURPOSE_SUFFIX)) return { state: "starting", lease };
    return { state: "other", lease };
}

/** What a node's owner is, in a message: `pid 123 (the real-engine tier (service.test.ts), since ...)`. */
export function describeOwner(lease: Pick<NodeLease, "pid" | "purpose" | "startedAt">): string {
    return `pid ${lease.pid}, ${lease.purpose}, since ${lease.startedAt}`;
}

/**
 * Starts the daemon detached (its own session: an interrupt of the starting command does not reach it) and resolves
 * once its cluster is up; throws with the end of its log when it exits first.
 */
export async function startInBackground(opts: BackgroundOptions, timeoutMs = 5 * 60_000): Promise<BackgroundCluster> {
    fs.mkdirSync(path.dirname(opts.log), { recursive: true });
    const out = fs.openSync(opts.log, "w", 0o600);
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", DAEMON, JSON.stringify(opts)], {
        cwd: path.resolve(__dirname, ".."), detached: true, stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    let exited: number | null | undefined;
    child.on("exit", (code) => (exited = code));
    child.unref();
    const logTail = () => fs.readFileSync(opts.log, "utf8").split("\n").slice(-40).join("\n");
    return waitFor("the local cluster to start in the background", async () => {
        if (exited !== undefined) throw new Error(`the local cluster's process exited with ${exited}:\n${logTail()}`);
        const found = nodeOnMachine();
        return found.state === "background" && found.cluster.pid === child.pid ? found.cluster : undefined;
    }, timeoutMs, 250).catch((e: Error) => {
        if (exited === undefined) child.kill("SIGTERM");
        throw e;
    });
}

/** Asks the daemon to stop; resolves once it has exited, with what could not be put back (empty when all was). */
export async function stopInBackground(cluster: BackgroundCluster): Promise<string[]> {
    const answer = await new Promise<string>((resolve, reject) => {
        const req = http.request({ socketPath: cluster.control, path: "/stop", method: "POST" }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.end();
    }).catch(() => undefined);
    if (answer === undefined) {
        // The control socket does not answer (a daemon that hangs): its signal handler stops the cluster instead.
        process.kill(cluster.pid, "SIGTERM");
    }
    const gone = await waitFor(`pid ${cluster.pid} to exit`, async () => (fs.existsSync(`/proc/${cluster.pid}`) ? undefined : true), 60_000, 200)
        .catch(() => false);
    const problems = answer === undefined ? [] : (JSON.parse(answer) as { problems: string[] }).problems;
    if (!gone) {
        process.kill(cluster.pid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 500));
    }
    // Whatever it could not do (killed, or never answered) is done as for any owner that is gone.
    const lease = readLease();
    if (lease && !ownerRuns(lease)) problems.push(...await cleanLeftover(lease));
    return problems;
}
