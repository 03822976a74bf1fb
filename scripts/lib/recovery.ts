/**
 * Recovery of a stack whose deploy was interrupted: a runner killed or cancelled mid-`pulumi up`, a laptop closed.
 * What such a deploy can leave behind, and what this does about each:
 *
 * 1. The stack's lock, held by a process that is gone: the next `up` refuses ("the stack is currently locked").
 *    A lock of this machine whose process has ended is stale and removed (`pulumi cancel`); a lock whose process may
 *    still run (this machine's, alive, or another machine's) is never touched and named, unless the caller holds the
 *    deploy's own concurrency lock (`exclusive`: the Deploy workflow's concurrency group, where no other deploy of the
 *    stack can run, so every lock is a dead run's).
 * 2. A Kubernetes provider whose engine died: it lives on (parent PID 1), finishes Helm's wait and never exits.
 *    Orphans started for this stack's project folder are stopped.
 * 3. A Helm release of the stack left pending-install / pending-upgrade / pending-rollback by a Helm that is gone:
 *    every later upgrade fails "another operation (install/upgrade/rollback) is in progress"
 *    (pulumi/pulumi-kubernetes#2054). Once no lock is live and no orphan runs, no Helm of this stack can be running:
 *    the release goes back to its last deployed revision (`helm rollback`), or is uninstalled when it never had one.
 * 4. Pending operations in the state: dropped (export, import), then the state is refreshed from the cluster, so that
 *    it records what the cluster runs and the next `up` converges.
 *
 * The decisions are pure functions (tested without a cluster); `recoverStack` carries them out.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Deployment, Stack } from "@pulumi/pulumi/automation";

import { run } from "./process";

/** A lock file of Pulumi's file backend (`.pulumi/locks/organization/<project>/<stack>/<id>.json`). */
export interface StackLock {
    readonly file: string;
    readonly pid: number;
    readonly username: string;
    readonly hostname: string;
    readonly timestamp: string;
}

export interface LockVerdict {
    readonly lock: StackLock;
    /** Safe to remove: its process is known to have ended, or the caller holds the deploy's concurrency lock. */
    readonly stale: boolean;
    readonly why: string;
}

/** Whether a lock may be removed, and why, in the words the report prints. */
export function judgeLock(lock: StackLock, here: { readonly hostname: string; readonly alive: (pid: number) => boolean; readonly exclusive: boolean }): LockVerdict {
    const who = `pid ${lock.pid} on ${lock.hostname} since ${lock.timestamp}`;
    if (lock.hostname === here.hostname) {
        return here.alive(lock.pid)
            ? { lock, stale: false, why: `held by ${who}, which still runs: a deploy in progress` }
            : { lock, stale: true, why: `held by ${who}, which has ended` };
    }
    return here.exclusive
        ? { lock, stale: true, why: `held by ${who}; this run holds the deploy's concurrency lock, so that deploy has ended` }
        : { lock, stale: false, why: `held by ${who}, another machine: a deploy may be running there` };
}

/** The stack's lock files in a file backend (PULUMI_BACKEND_URL=file://<dir>); none for other backends. */
export function readLocks(backendUrl: string | undefined, project: string, stack: string): StackLock[] {
    if (!backendUrl?.startsWith("file://")) return [];
    const dir = path.join(backendUrl.slice("file://".length), ".pulumi", "locks", "organization", project, stack);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => {
        const file = path.join(dir, f);
        const content = JSON.parse(fs.readFileSync(file, "utf8")) as Omit<StackLock, "file">;
        return { file, ...content };
    });
}

/** Helm's view of one release: its revisions, oldest first. */
export interface ReleaseHistory {
    readonly name: string;
    readonly namespace: string;
    readonly revisions: readonly { readonly revision: number; readonly status: string }[];
}

export type ReleaseAction =
    | { readonly kind: "none" }
    | { readonly kind: "rollback"; readonly to: number; readonly from: string }
    | { readonly kind: "uninstall"; readonly from: string };

const PENDING = /^pending-(install|upgrade|rollback)$/;

/** What brings a release whose Helm is gone back to a state Helm can upgrade from. */
export function releaseAction(history: ReleaseHistory): ReleaseAction {
    const last = history.revisions.at(-1);
    if (!last || !PENDING.test(last.status)) return { kind: "none" };
    // The revision that serves: "deployed" until the pending one succeeds; else the last that once did ("superseded").
    const earlier = history.revisions.filter((r) => r.revision < last.revision).reverse();
    const lastGood = earlier.find((r) => r.status === "deployed") ?? earlier.find((r) => r.status === "superseded");
    return lastGood
        ? { kind: "rollback", to: lastGood.revision, from: `revision ${last.revision} ${last.status}` }
        : { kind: "uninstall", from: `revision ${last.revision} ${last.status}, and no revision was ever deployed` };
}

/** A state without its pending operations, and what they were (`<type> <urn>`). */
export function withoutPendingOperations(deployment: Deployment): { readonly deployment: Deployment; readonly dropped: string[] } {
    const pending = (deployment.deployment?.pending_operations ?? []) as { type: string; resource: { urn: string } }[];
    if (pending.length === 0) return { deployment, dropped: [] };
    const { pending_operations: _dropped, ...rest } = deployment.deployment as Record<string, unknown>;
    return {
        deployment: { ...deployment, deployment: rest },
        dropped: pending.map((op) => `${op.type} ${op.resource.urn}`),
    };
}

/** The Helm releases a state records (and those it was creating): `namespace/name`. */
export function stackReleases(deployment: Deployment): { readonly name: string; readonly namespace: string }[] {
    const d = deployment.deployment as { resources?: unknown[]; pending_operations?: { resource: unknown }[] } | undefined;
    const resources = [...(d?.resources ?? []), ...(d?.pending_operations ?? []).map((op) => op.resource)] as
        { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
    const seen = new Map<string, { name: string; namespace: string }>();
    for (const r of resources) {
        if (r.type !== "kubernetes:helm.sh/v3:Release") continue;
        const name = (r.outputs?.name ?? r.inputs?.name) as string | undefined;
        const namespace = (r.outputs?.namespace ?? r.inputs?.namespace) as string | undefined;
        if (typeof name === "string" && typeof namespace === "string") seen.set(`${namespace}/${name}`, { name, namespace });
    }
    return [...seen.values()];
}

export interface RecoveryOptions {
    readonly stack: Stack;
    readonly project: string;
    /** helm, and the kubeconfig context the stack deploys to. */
    readonly helm: { readonly binary: string; readonly context: string; readonly env?: NodeJS.ProcessEnv };
    /** The caller holds the deploy's concurrency lock: no other deploy of this stack can be running. */
    readonly exclusive?: boolean;
    readonly log: (line: string) => void;
}

export interface RecoveryReport {
    /** What was done, a line each; empty when the stack needed nothing. */
    readonly done: readonly string[];
    /** Why recovery stopped without touching anything (a live lock); undefined when it ran. */
    readonly refused?: string;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Kubernetes provider processes whose engine has ended (re-parented to PID 1), started in `workDir`. */
function orphanedProviders(workDir: string): number[] {
    const found: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
            if (ppid === 1 && path.basename(cmd) === "pulumi-resource-kubernetes" &&
                fs.realpathSync(`/proc/${entry}/cwd`) === fs.realpathSync(workDir)) found.push(Number(entry));
        } catch {
            // gone meanwhile, or not ours to read
        }
    }
    return found;
}

async function stopProcess(pid: number): Promise<void> {
    const signal = (s: NodeJS.Signals) => {
        try {
            process.kill(pid, s);
        } catch {
            // gone
        }
    };
    signal("SIGTERM");
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) signal("SIGKILL");
}

/** Brings an interrupted stack back to a state the next `up` converges from; see the module's comment. */
export async function recoverStack(opts: RecoveryOptions): Promise<RecoveryReport> {
    const { stack, log } = opts;
    const done: string[] = [];
    const say = (line: string) => {
        done.push(line);
        log(line);
    };
    const envVars = (stack.workspace as { envVars?: Record<string, string> }).envVars ?? {};
    const backendUrl = envVars.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL;
    const workDir = stack.workspace.workDir;

    // 1. Locks.
    const verdicts = readLocks(backendUrl, opts.project, stack.name)
        .map((lock) => judgeLock(lock, { hostname: os.hostname(), alive, exclusive: opts.exclusive ?? false }));
    const live = verdicts.filter((v) => !v.stale);
    if (live.length > 0) {
        return { done, refused: `the stack ${stack.name} is locked, ${live.map((v) => v.why).join("; ")}. Nothing was changed. ` +
            "Wait for that deploy to end; if you know it has ended (its runner is gone), run this again with --exclusive." };
    }
    if (verdicts.length > 0) {
        await stack.cancel();
        for (const v of verdicts) say(`removed the lock ${v.why}`);
    } else if (opts.exclusive && !backendUrl?.startsWith("file://")) {
        // A backend whose locks this cannot read (Pulumi Cloud): cancel whatever update it still counts as running.
        await stack.cancel().then(() => say("cancelled the update the backend still counted as running"), () => undefined);
    }

    // 2. Orphaned providers.
    for (const pid of orphanedProviders(workDir)) {
        await stopProcess(pid);
        say(`stopped pulumi-resource-kubernetes (pid ${pid}), left running by an engine that has ended`);
    }

    // 3. Releases left pending.
    const state = await stack.exportStack();
    const helm = (...args: string[]) => run(opts.helm.binary, [...args, "--kube-context", opts.helm.context], { env: opts.helm.env ?? process.env, timeoutMs: 15 * 60_000 });
    for (const release of stackReleases(state)) {
        const h = await helm("history", release.name, "--namespace", release.namespace, "--output", "json", "--max", "20");
        if (h.code !== 0) continue; // not installed (yet, or any more): nothing pending
        const history: ReleaseHistory = { ...release, revisions: JSON.parse(h.stdout) };
        const action = releaseAction(history);
        const where = `${release.namespace}/${release.name}`;
        if (action.kind === "rollback") {
            const r = await helm("rollback", release.name, String(action.to), "--namespace", release.namespace, "--wait", "--timeout", "10m");
            if (r.code !== 0) throw new Error(`helm rollback ${where} ${action.to} failed:\n${r.stderr.trim()}`);
            say(`rolled the release ${where} back to revision ${action.to} (it was left at ${action.from})`);
        } else if (action.kind === "uninstall") {
            const r = await helm("uninstall", release.name, "--namespace", release.namespace, "--wait", "--timeout", "10m");
            if (r.code !== 0) throw new Error(`helm uninstall ${where} failed:\n${r.stderr.trim()}`);
            say(`uninstalled the release ${where} (it was left at ${action.from}); the next up installs it`);
        }
    }

    // 4. Pending operations, then the state from the cluster.
    const { deployment, dropped } = withoutPendingOperations(state);
    if (dropped.length > 0) {
        await stack.importStack(deployment);
        say(`dropped ${dropped.length} pending operation(s) from the state: ${dropped.join(", ")}`);
    }
    if (done.length > 0) {
        await stack.refresh({ color: "never" });
        say("refreshed the state from the cluster");
    }
    return { done };
}
