/**
 * `npm run bench:service`: how fast is the instrumented service, against a bare net/http server (the limit) and the
 * original example (a mutex-guarded global int and fmt.Fprintf)?
 *
 * Builds the three servers, starts each on a loopback port, and drives each with wrk (Debian's package) in rounds that
 * alternate the servers, then reports the median requests/s and p99 latency of each, the ratios ours/bare (target
 * >= 0.90) and ours/original (target >= 1.0), the stripped binary size and the image size. On a machine with two or
 * more CPUs the servers run on CPU 0 with GOMAXPROCS=1 and wrk on CPU 1, so that they do not compete for a core.
 *
 * It is a benchmark, not a test: it reports and exits 0 whatever the figures; it fails only when it cannot measure.
 * The last line printed is one JSON object with every figure.
 *
 * Requests/s and p99 are medians over the rounds (the order of the servers rotates each round), and the ratios are
 * ratios of those medians. On a shared machine single runs vary by 10-30%: read the figures with the load average
 * printed beside them, and prefer a quiet machine and more rounds for decisions.
 *
 * Options: --rounds N (9), --duration SECONDS per run (3), --connections N (50), --warmup SECONDS (2), --no-image.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

import { buildServiceImage, DockerCli, ensureEngine, imageSize, repoRoot } from "../test/support/docker";
import { freePort, httpGet, run, runOk, start, Started, waitFor } from "../scripts/lib/process";

type ServerName = "ours" | "bare" | "original";
const SERVERS: readonly ServerName[] = ["ours", "bare", "original"];

interface Options {
    readonly rounds: number;
    readonly durationS: number;
    readonly connections: number;
    readonly warmupS: number;
    readonly image: boolean;
}

/** One wrk run. */
interface Sample {
    readonly rps: number;
    readonly p99Ms: number;
    readonly errors: number;
}

function options(): Options {
    const { values } = parseArgs({
        options: {
            rounds: { type: "string", default: "9" },
            duration: { type: "string", default: "3" },
            connections: { type: "string", default: "50" },
            warmup: { type: "string", default: "2" },
            "no-image": { type: "boolean", default: false },
        },
    });
    const positive = (name: string, v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${JSON.stringify(v)}: must be a positive integer`);
        return n;
    };
    return {
        rounds: positive("rounds", values.rounds),
        durationS: positive("duration", values.duration),
        connections: positive("connections", values.connections),
        warmupS: positive("warmup", values.warmup),
        image: !values["no-image"],
    };
}

async function has(command: string): Promise<boolean> {
    return (await run("sh", ["-c", `command -v ${command}`])).code === 0;
}

/** Builds the three servers the same way (stripped, -trimpath) into dir; returns their paths. */
async function buildServers(dir: string): Promise<Record<ServerName, string>> {
    const flags = ["build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o"];
    const bins = { ours: path.join(dir, "hello"), bare: path.join(dir, "bare"), original: path.join(dir, "original") };
    await runOk("go", [...flags, bins.ours, "./cmd/hello"], { cwd: path.join(repoRoot, "app") });
    for (const name of ["bare", "original"] as const) {
        await runOk("go", [...flags, bins[name], path.join("bench", "servers", name, "main.go")], { cwd: repoRoot });
    }
    return bins;
}

/** wrk's duration text (e.g. 812.00us, 1.23ms, 2.01s) in milliseconds. */
function toMs(v: string): number {
    const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
    if (!m) throw new Error(`unexpected wrk latency ${JSON.stringify(v)}`);
    return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[m[2] as "us" | "ms" | "s" | "m"];
}

export function parseWrk(out: string): Sample {
    const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
    const p99 = /^\s+99%\s+(\S+)/m.exec(out);
    if (!rps || !p99) throw new Error(`cannot read wrk's output:\n${out}`);
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = Number(non2xx?.[1] ?? 0) + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
    return { rps: Number(rps[1]), p99Ms: toMs(p99[1]), errors };
}

function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function imageFigure(opts: Options): Promise<{ bytes: number | null; note?: string }> {
    if (!opts.image) return { bytes: null, note: "skipped (--no-image)" };
    const engine = await ensureEngine();
    if (!engine.ok) return { bytes: null, note: `no Docker: ${engine.reason}` };
    const cli = DockerCli.create();
    const tag = `hello-bench:${randomBytes(4).toString("hex")}`;
    try {
        await buildServiceImage(cli, { tag, version: "bench", commit: "bench" });
        return { bytes: await imageSize(cli, tag), note: "built from app/Dockerfile on the local stand-in base images" };
    } catch (e) {
        return { bytes: null, note: `image build failed: ${(e as Error).message.split("\n")[0]}` };
    } finally {
        await cli.run(["image", "rm", tag]);
        cli.close();
    }
}

async function main(): Promise<void> {
    const opts = options();
    if (!(await has("wrk"))) throw new Error("wrk is not installed: apt-get install wrk");
    const pin = os.availableParallelism() >= 2 && (await has("taskset"));
    const onServerCpu = (cmd: string, args: string[]): [string, string[]] => (pin ? ["taskset", ["-c", "0", cmd, ...args]] : [cmd, args]);
    const onLoadCpu = (cmd: string, args: string[]): [string, string[]] => (pin ? ["taskset", ["-c", "1", cmd, ...args]] : [cmd, args]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-bench-"));
    const running: Started[] = [];
    const stopAll = () => Promise.all(running.map((s) => s.stop()));
    process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
    try {
        console.error("building the three servers (stripped, -trimpath) ...");
        const bins = await buildServers(dir);

        const urls = {} as Record<ServerName, string>;
        for (const name of SERVERS) {
            const port = await freePort();
            const [cmd, args] = onServerCpu(bins[name], []);
            // GOMAXPROCS=1 with the server pinned to one CPU: a fair, stable single-core comparison.
            // DRAIN_DELAY=0s: no load balancer to drain here, so ours stops at once like the others.
            const srv = start(cmd, args, {
                env: { ...process.env, PORT: String(port), DRAIN_DELAY: "0s", GOMAXPROCS: pin ? "1" : process.env.GOMAXPROCS },
            });
            running.push(srv);
            urls[name] = `http://127.0.0.1:${port}/`;
            const body = await waitFor(`${name} to answer on ${urls[name]}`, async () => {
                if (srv.child.exitCode !== null) throw new Error(`${name} exited: ${srv.output()}`);
                return (await httpGet(urls[name], 1000)).body;
            }, 30_000, 50);
            if (!body.startsWith("Hello, World!")) throw new Error(`${name} answered ${JSON.stringify(body)}`);
        }

        const wrk = async (url: string, seconds: number) => {
            const [cmd, args] = onLoadCpu("wrk", ["-t1", `-c${opts.connections}`, `-d${seconds}s`, "--latency", url]);
            return parseWrk(await runOk(cmd, args, { timeoutMs: (seconds + 30) * 1000 }));
        };

        console.error(`warming up (${opts.warmupS}s each) ...`);
        for (const name of SERVERS) await wrk(urls[name], opts.warmupS);

        const samples: Record<ServerName, Sample[]> = { ours: [], bare: [], original: [] };
        for (let round = 0; round < opts.rounds; round++) {
            // Rotate the order each round, so that no server always runs first or last.
            const order = SERVERS.map((_, i) => SERVERS[(i + round) % SERVERS.length]);
            for (const name of order) {
                const s = await wrk(urls[name], opts.durationS);
                samples[name].push(s);
                console.error(`round ${round + 1}/${opts.rounds} ${name.padEnd(8)} ${s.rps.toFixed(0).padStart(8)} req/s  p99 ${s.p99Ms.toFixed(2)} ms${s.errors ? `  ${s.errors} errors` : ""}`);
            }
        }
        await stopAll();

        const figures = Object.fromEntries(SERVERS.map((n) => [n, {
            rps: Math.round(median(samples[n].map((s) => s.rps))),
            p99_ms: Number(median(samples[n].map((s) => s.p99Ms)).toFixed(3)),
            errors: samples[n].reduce((a, s) => a + s.errors, 0),
        }])) as Record<ServerName, { rps: number; p99_ms: number; errors: number }>;
        const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
        const oursOverBare = ratio(figures.ours.rps, figures.bare.rps);
        const oursOverOriginal = ratio(figures.ours.rps, figures.original.rps);
        const binaryBytes = fs.statSync(bins.ours).size;

        console.error("building the image for its size ...");
        const image = await imageFigure(opts);

        const mark = (ok: boolean) => (ok ? "meets target" : "BELOW TARGET");
        const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
        console.log("");
        console.log(`medians of ${opts.rounds} rounds x ${opts.durationS}s, wrk -t1 -c${opts.connections}` +
            (pin ? ", servers on CPU 0 with GOMAXPROCS=1, wrk on CPU 1" : ", unpinned (fewer than 2 CPUs or no taskset)") +
            `, load average ${os.loadavg()[0].toFixed(2)}`);
        console.log("server      requests/s   p99 latency   errors");
        for (const n of SERVERS) {
            console.log(`${n.padEnd(10)} ${String(figures[n].rps).padStart(11)} ${figures[n].p99_ms.toFixed(3).padStart(10)} ms ${String(figures[n].errors).padStart(8)}`);
        }
        console.log(`ours/bare       ${oursOverBare.toFixed(3)}  (target >= 0.90: ${mark(oursOverBare >= 0.9)})`);
        console.log(`ours/original   ${oursOverOriginal.toFixed(3)}  (target >= 1.00: ${mark(oursOverOriginal >= 1.0)})`);
        console.log(`binary (stripped)  ${binaryBytes} bytes (${mib(binaryBytes)})`);
        console.log(`image              ${image.bytes === null ? "n/a" : `${image.bytes} bytes (${mib(image.bytes)})`}  ${image.note ?? ""}`);
        console.log(JSON.stringify({
            ours: figures.ours,
            bare: figures.bare,
            original: figures.original,
            ours_over_bare: oursOverBare,
            ours_over_original: oursOverOriginal,
            binary_size_bytes: binaryBytes,
            image_size_bytes: image.bytes,
            ...(image.bytes === null ? { image_size_note: image.note } : {}),
            rounds: opts.rounds,
            duration_s: opts.durationS,
            connections: opts.connections,
            pinned: pin,
            load_average_1m: Number(os.loadavg()[0].toFixed(2)),
        }));
    } finally {
        await stopAll();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`bench:service: ${e.message}`);
        process.exit(1);
    });
}
