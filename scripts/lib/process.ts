/**
 * Child processes for tests and benchmarks: run a command to completion, or start a long-running server and stop it
 * reliably. Nothing here logs the input it sends to a process (passwords go through stdin).
 */
import { ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";

/** What a finished command printed, and how it ended. */
export interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export interface RunOptions {
    /** Environment of the command. @default process.env */
    readonly env?: NodeJS.ProcessEnv;
    /** Working directory. @default process.cwd() */
    readonly cwd?: string;
    /** Written to the command's stdin, then stdin is closed. Never logged. */
    readonly input?: string | Buffer;
    /** Kill the command after this many milliseconds. @default no limit */
    readonly timeoutMs?: number;
}

/** Runs a command to completion and returns its exit code and output; never throws for a non-zero exit. */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: "pipe" });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(new Error(`${command}: ${e.message}`));
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
        });
        child.stdin.on("error", () => undefined); // the command may exit without reading its input
        child.stdin.end(opts.input ?? "");
    });
}

/**
 * Runs a command and returns its stdout; a non-zero exit throws an error that names the command (arguments included,
 * so never put a secret in them) and ends with the tail of its output.
 */
export async function runOk(command: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
    const r = await run(command, args, opts);
    if (r.code !== 0) {
        const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-30).join("\n");
        throw new Error(`\`${[command, ...args].join(" ")}\` exited with ${r.code}:\n${tail}`);
    }
    return r.stdout;
}

/** A long-running child process, with everything it printed so far. */
export interface Started {
    readonly child: ChildProcess;
    /** stdout and stderr so far, interleaved. */
    output(): string;
    /** Resolves with the exit code once the process has exited. */
    readonly exited: Promise<number | null>;
    /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. Safe to call twice. */
    stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running process (a server). Call stop() in an after hook. */
export function start(command: string, args: readonly string[], opts: Omit<RunOptions, "input" | "timeoutMs"> = {}): Started {
    const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => {
        child.on("exit", (code) => resolve(code));
        child.on("error", (e) => {
            output += `\n${command}: ${e.message}\n`;
            resolve(null);
        });
    });
    return {
        child,
        output: () => output,
        exited,
        async stop(graceMs = 5000) {
            if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            await exited;
            clearTimeout(timer);
        },
    };
}

/** A TCP port that was free on loopback a moment ago. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

/** Polls until check() returns a value other than undefined; throws `timed out waiting for <what>` otherwise. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/** GET url and return status and body; network errors throw. */
export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string; headers: Headers }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text(), headers: res.headers };
}
