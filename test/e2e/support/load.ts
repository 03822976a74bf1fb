/**
 * A steady load through a Service of the tier's own cluster, as its clients would send it while a spec changes the
 * service: GET requests at a fixed rate, each on a new connection (a client that reconnects is what a rollout must not
 * break), bounded in count and in time. Every request is counted, and every failure with its reason.
 *
 * Only to this machine: the URL must be a loopback address or an address of the cluster's own ranges.
 */
import * as http from "node:http";

export interface LoadReport {
    readonly sent: number;
    readonly ok: number;
    readonly failed: number;
    /** Failures by reason (`status 503`, `ECONNREFUSED`, `timeout`), with their count. */
    readonly failures: Readonly<Record<string, number>>;
    readonly seconds: number;
    /** One line for the spec's output. */
    readonly summary: string;
}

export interface Load {
    /** Stops sending, waits for the requests in flight, and reports. */
    stop(): Promise<LoadReport>;
}

export interface LoadOptions {
    readonly url: string;
    /** Requests per second. @default 40 */
    readonly rate?: number;
    /** The most requests it sends. @default 6000 */
    readonly maxRequests?: number;
    /** The longest it runs, in ms. @default 5 minutes */
    readonly maxMs?: number;
    /** A response counts as ok when this holds. @default status 200 and a body starting "Hello" */
    readonly ok?: (status: number, body: string) => boolean;
    /** Per-request timeout, ms. @default 5000 */
    readonly timeoutMs?: number;
}

const LOCAL = /^http:\/\/(127\.|10\.(96|244)\.|\[::1\])/;

export function startLoad(opts: LoadOptions): Load {
    if (!LOCAL.test(opts.url)) throw new Error(`load goes only to this machine and its cluster's ranges, not to ${opts.url}`);
    const rate = opts.rate ?? 40;
    const maxRequests = opts.maxRequests ?? 6000;
    const maxMs = opts.maxMs ?? 5 * 60_000;
    const timeoutMs = opts.timeoutMs ?? 5000;
    const isOk = opts.ok ?? ((status, body) => status === 200 && body.startsWith("Hello"));
    const started = Date.now();
    const failures: Record<string, number> = {};
    let sent = 0;
    let ok = 0;
    const inFlight = new Set<Promise<void>>();

    const once = () => new Promise<void>((resolve) => {
        const fail = (why: string) => {
            failures[why] = (failures[why] ?? 0) + 1;
            resolve();
        };
        // agent: false, a new connection for each request.
        const req = http.get(opts.url, { agent: false, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => {
                if (isOk(res.statusCode ?? 0, body)) {
                    ok++;
                    resolve();
                } else fail(`status ${res.statusCode}`);
            });
            res.on("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
        });
        req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
        req.on("error", (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    });

    const timer = setInterval(() => {
        if (sent >= maxRequests || Date.now() - started >= maxMs) {
            clearInterval(timer);
            return;
        }
        sent++;
        const p = once().finally(() => inFlight.delete(p));
        inFlight.add(p);
    }, 1000 / rate);

    return {
        async stop() {
            clearInterval(timer);
            await Promise.all([...inFlight]);
            const failed = Object.values(failures).reduce((a, b) => a + b, 0);
            const seconds = (Date.now() - started) / 1000;
            const reasons = Object.entries(failures).map(([why, n]) => `${n} ${why}`).join(", ");
            return {
                sent, ok, failed, failures, seconds,
                summary: `load on ${opts.url}: ${sent} requests in ${seconds.toFixed(1)} s, ${failed} failed${reasons ? ` (${reasons})` : ""}`,
            };
        },
    };
}
