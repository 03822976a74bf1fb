/**
 * The project's own program (index.ts) on a real Pulumi engine, driven through the Automation API the way Pulumi's
 * own integration tests drive programs: an inline program (scripts/lib/inlineProject.ts), a local file backend and the
 * stack's files in a temporary folder, and the engine and the Kubernetes provider from the pinned toolchain.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import {
    ConfigMap, EngineEvent, LocalWorkspace, PreviewResult, PulumiCommand, Stack, UpResult,
} from "@pulumi/pulumi/automation";

import * as k8s from "@pulumi/kubernetes";
import { loadSettings } from "../../../stacks/load";
import type { StackSettings } from "../../../stacks/settings";
import { engineEnv, projectProgram, writeInlineProject } from "../../../scripts/lib/inlineProject";
import { runOk } from "../../../scripts/lib/process";
import type { LocalCluster } from "./cluster";

export const PROJECT = "hello-service";

/** Everything a run printed and emitted, for assertions and for the failure message of a spec. */
export interface Run<R> {
    readonly result?: R;
    readonly error?: Error;
    /** What the CLI printed (no colour). */
    readonly output: string;
    readonly events: EngineEvent[];
    /** When each event arrived (performance.now()), for timing steps finer than the events' own seconds. */
    readonly arrivals: number[];
}

export interface E2eStack {
    readonly stack: Stack;
    readonly workspace: LocalWorkspace;
    /** The project folder the engine runs in. */
    readonly workDir: string;
    up(opts?: { refresh?: boolean }): Promise<Run<UpResult>>;
    preview(opts?: { expectNoChanges?: boolean; refresh?: boolean }): Promise<Run<PreviewResult>>;
    refresh(): Promise<Run<unknown>>;
    destroy(): Promise<Run<unknown>>;
    /** Sets plain and secret config; `undefined` removes a key. */
    configure(plain: Record<string, string | undefined>, secrets?: Record<string, string>): Promise<void>;
    /** The stack's state as `pulumi stack export` writes it (secrets encrypted). */
    exportedState(): Promise<string>;
    /** Removes the stack's folders (state included). */
    remove(): Promise<void>;
}

/** The run's error with what the engine printed, for a failing assertion. */
export function explain(run: Run<unknown>): string {
    return `${run.error?.message ?? ""}\n--- engine output ---\n${run.output.slice(-6000)}`;
}

export function ok<R>(run: Run<R>): R {
    assert.ok(!run.error, explain(run));
    return run.result!;
}

/** Runs `op`, keeping what it printed and emitted whether it succeeds or fails. */
async function capture<R>(op: (hooks: { onOutput(s: string): void; onEvent(e: EngineEvent): void }) => Promise<R>): Promise<Run<R>> {
    let output = "";
    const events: EngineEvent[] = [];
    const arrivals: number[] = [];
    const onEvent = (e: EngineEvent) => {
        events.push(e);
        arrivals.push(performance.now());
    };
    try {
        const result = await op({ onOutput: (s) => (output += s), onEvent });
        return { result, output, events, arrivals };
    } catch (err) {
        return { error: err as Error, output, events, arrivals };
    }
}

export { projectProgram };

/**
 * A stack named `name` of this project, whose program is index.ts unless `program` says otherwise. `env` is the
 * engine's environment on top of the isolation set here (its own PULUMI_HOME, backend, Helm folders and passphrase).
 */
export async function createStack(name: string, opts: {
    readonly bin: string;
    readonly env: Readonly<Record<string, string>>;
    readonly program?: () => Promise<Record<string, unknown> | void>;
}): Promise<E2eStack> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "hello-e2e-stack-"));
    const workDir = path.join(root, "project");
    writeInlineProject(workDir);
    fs.mkdirSync(path.join(root, "state"));

    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(opts.bin), skipVersionCheck: true });
    const program = opts.program ?? projectProgram;
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, projectName: PROJECT, program }, {
        workDir,
        pulumiCommand,
        secretsProvider: "passphrase",
        envVars: {
            ...engineEnv({ bin: opts.bin, home: root, backend: path.join(root, "state"), passphrase: "e2e-passphrase" }),
            ...opts.env,
        },
    });
    const workspace = stack.workspace as LocalWorkspace;
    const common = { color: "never" as const };

    return {
        stack,
        workspace,
        workDir,
        up: (o = {}) => capture((hooks) => stack.up({ ...common, ...hooks, diff: true, refresh: o.refresh })),
        preview: (o = {}) => capture((hooks) => stack.preview({ ...common, ...hooks, diff: true, ...o })),
        refresh: () => capture((hooks) => stack.refresh({ ...common, ...hooks })),
        destroy: () => capture((hooks) => stack.destroy({ ...common, ...hooks })),
        async configure(plain, secrets = {}) {
            const set: ConfigMap = {};
            for (const [key, value] of Object.entries(plain)) {
                if (value === undefined) await stack.removeConfig(key);
                else set[key] = { value };
            }
            for (const [key, value] of Object.entries(secrets)) set[key] = { value, secret: true };
            if (Object.keys(set).length > 0) await stack.setAllConfig(set);
        },
        async exportedState() {
            // Not stack.exportStack(): the Automation API exports with --show-secrets, decrypted.
            return runOk(pulumiCommand.command, ["stack", "export", "--stack", name],
                { cwd: workDir, env: { ...process.env, ...workspace.envVars } });
        },
        async remove() {
            await workspace.removeStack(name, { force: true }).catch(() => undefined);
            fs.rmSync(root, { recursive: true, force: true });
        },
    };
}

/**
 * A stack whose program is one of the project's components on `cluster`: `program` gets a provider for the cluster
 * (as index.ts makes it) and the settings of a dev stack deploying there, which the stack is configured with.
 */
export async function createComponentStack(name: string, opts: {
    readonly bin: string;
    readonly cluster: LocalCluster;
    readonly program: (provider: k8s.Provider, settings: StackSettings) => void;
}): Promise<E2eStack> {
    const { cluster } = opts;
    const config = { [`${PROJECT}:kubeContext`]: cluster.context, [`${PROJECT}:registry`]: "registry.e2e.invalid" };
    const { settings } = loadSettings({ project: PROJECT, stack: "dev", secretKeys: new Set(), values: config });
    const stack = await createStack(name, {
        bin: opts.bin,
        env: { KUBECONFIG: cluster.kubeconfig },
        program: async () => {
            opts.program(new k8s.Provider("cluster", { kubeconfig: "", context: cluster.context, clusterIdentifier: cluster.context }), settings);
        },
    });
    await stack.configure(config); // the project declares both as required
    return stack;
}

/**
 * The lines a `preview --diff` prints under one resource (its `[id=...]`, `[urn=...]` and `[provider=...]` lines left
 * out), trimmed: what a reviewer reads about that resource.
 */
export function diffOf(output: string, urnSuffix: string): string[] {
    const lines = output.split("\n");
    const at = lines.findIndex((_, i) => lines[i + 2]?.includes(`[urn=`) && lines[i + 2].trim().endsWith(`${urnSuffix}]`));
    assert.ok(at >= 0, `no resource ${urnSuffix} in:\n${output}`);
    const indent = lines[at].search(/\S/);
    const block: string[] = [];
    for (const line of lines.slice(at + 1)) {
        if (line.trim() === "" || line.search(/\S/) <= indent) break;
        if (!/^\s*\[(id|urn|provider)=/.test(line)) block.push(line.trim());
    }
    return block;
}

/** The engine's count of changes by kind, e.g. { same: 17 }, from the summary event. */
export function changes(run: Run<unknown>): Record<string, number> {
    const summary = run.events.find((e) => e.summaryEvent)?.summaryEvent;
    assert.ok(summary, `no summary event:\n${run.error?.message ?? ""}\n${run.output}`);
    return Object.fromEntries(Object.entries(summary.resourceChanges ?? {}).filter(([, n]) => (n ?? 0) > 0)) as Record<string, number>;
}
