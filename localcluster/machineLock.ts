/**
 * One real node per machine: the kubelet and containerd use fixed host paths and the node its own bridge, so a second
 * one would fight the first. The lock is a file naming its owner process (and when that process started, so that a
 * reused PID is not mistaken for it) with the machine's snapshot from before the node started: when the owner died
 * without cleaning up (SIGKILL, a runner that vanished), the next start finds the file, puts the machine back as the
 * snapshot says, and takes the lock. A lock whose owner runs is never touched.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { HostSnapshot, NodeFootprint, restoreHost, snapshotHost } from "./host";

export const LOCK_DIR = "/run/hello-localcluster";
const LOCK_FILE = path.join(LOCK_DIR, "node.json");

export interface NodeLease {
    readonly pid: number;
    /** /proc/<pid>/stat's start time: the same PID reused by another process has another. */
    readonly processStart: string;
    /** Who runs the node: a test run, `npm run dev`, a benchmark. */
    readonly purpose: string;
    readonly startedAt: string;
    readonly snapshot: HostSnapshot;
    readonly footprint: NodeFootprint;
    /** Set once the cluster is up: where its kubeconfig is and what else its user needs (npm run dev). */
    readonly details?: Readonly<Record<string, string>>;
}

function processStart(pid: number): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

/** The lease of the node on this machine, if there is one. */
export function readLease(): NodeLease | undefined {
    try {
        return JSON.parse(fs.readFileSync(LOCK_FILE, "utf8")) as NodeLease;
    } catch {
        return undefined;
    }
}

/** Whether the lease's owner still runs. */
export function ownerRuns(lease: NodeLease): boolean {
    return processStart(lease.pid) === lease.processStart;
}

/** Cleans up after a node whose owner is gone; returns what could not be put back (empty when all was). */
export async function cleanLeftover(lease: NodeLease): Promise<string[]> {
    const problems = await restoreHost(lease.snapshot, lease.footprint);
    fs.rmSync(LOCK_FILE, { force: true });
    fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    return problems;
}

export interface HeldLock {
    /** The machine before the node: what its teardown puts back. */
    readonly snapshot: HostSnapshot;
    /** Records details about the running cluster for other processes (npm run dev, dev:down). */
    update(details: Record<string, string>): void;
    release(): void;
}

/**
 * Takes the machine's real-node lock for this process, first cleaning up after an owner that is gone (`log` says so),
 * and records the machine as it is then: what the node's teardown puts back. Throws, naming the owner, when another
 * process's node runs.
 */
export async function acquireNodeLock(purpose: string, footprint: NodeFootprint, log: (line: string) => void,
    opts: { readonly waitMs?: number } = {}): Promise<HeldLock> {
    const deadline = Date.now() + (opts.waitMs ?? 0);
    let waiting = false;
    for (let attempt = 0; attempt < 3; attempt++) {
        const other = readLease();
        if (other) {
            if (ownerRuns(other) && Date.now() < deadline) {
                if (!waiting) log(`waiting for the local cluster of pid ${other.pid} (${other.purpose}) to stop: one real node per machine`);
                waiting = true;
                attempt--;
                await new Promise((r) => setTimeout(r, 1000));
                continue;
            }
            if (ownerRuns(other)) {
                throw new Error(`a local cluster with a real node already runs on this machine (pid ${other.pid}, ${other.purpose}, ` +
                    `since ${other.startedAt}, in ${other.footprint.dir}): one node per machine. Stop it first ` +
                    `(npm run dev:down for the dev cluster; a test run stops its own).`);
            }
            log(`cleaning up the local cluster of pid ${other.pid} (${other.purpose}, since ${other.startedAt}), which ended without stopping it`);
            const problems = await cleanLeftover(other);
            if (problems.length) log(`could not put everything back: ${problems.join("; ")}`);
        }
        const snapshot = await snapshotHost();
        let current: NodeLease = {
            pid: process.pid, processStart: processStart(process.pid)!, purpose, startedAt: new Date().toISOString(),
            snapshot, footprint,
        };
        fs.mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
        try {
            fs.writeFileSync(LOCK_FILE, JSON.stringify(current), { flag: "wx", mode: 0o600 });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EEXIST") continue; // another process took it meanwhile
            throw e;
        }
        return {
            snapshot,
            update(details) {
                current = { ...current, details };
                fs.writeFileSync(`${LOCK_FILE}.new`, JSON.stringify(current), { mode: 0o600 });
                fs.renameSync(`${LOCK_FILE}.new`, LOCK_FILE);
            },
            release() {
                fs.rmSync(LOCK_FILE, { force: true });
                fs.rmSync(LOCK_DIR, { recursive: true, force: true });
            },
        };
    }
    throw new Error(`could not take the real-node lock ${LOCK_FILE}: it changed hands three times`);
}
