/**
 * Prometheus for the monitoring specs: promtool, a real Prometheus server on loopback (Debian's `prometheus`
 * package), its HTTP API, and a scrape configuration that labels a local target as the ServiceMonitor would.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { RunResult, Started, freePort, run, start, waitFor } from "../../scripts/lib/process";

/**
 * The absolute path of `tool` on PATH. Missing: under CI=true the spec fails (CI installs Debian's `prometheus`
 * package, which brings promtool); elsewhere it is skipped.
 */
export function requireTool(ctx: Mocha.Context, tool: "promtool" | "prometheus"): string {
    const found = (process.env.PATH ?? "")
        .split(path.delimiter)
        .map((dir) => path.join(dir, tool))
        .find((file) => {
            try {
                fs.accessSync(file, fs.constants.X_OK);
                return true;
            } catch {
                return false;
            }
        });
    if (found) return found;
    if (process.env.CI === "true") {
        throw new Error(`${tool} is not on PATH; CI installs it with Debian's \`prometheus\` package (.ci/run)`);
    }
    ctx.skip();
}

/** Runs promtool with `args`; never throws for a non-zero exit. */
export function promtool(args: readonly string[], cwd?: string): Promise<RunResult> {
    return run("promtool", args, { cwd, timeoutMs: 120_000 });
}

/** A fresh temporary directory; remove it with {@link removeDir}. */
export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** The target labels the Prometheus Operator gives a pod scraped through a ServiceMonitor endpoint. */
export interface ServiceMonitorTarget {
    /** host:port to scrape. Becomes `instance`, as the pod's IP:port would. */
    readonly address: string;
    readonly namespace: string;
    /** The Service's name: the operator sets `job` (and `service`) to it. */
    readonly service: string;
    readonly pod: string;
    readonly container: string;
    /** The endpoint's port name. */
    readonly endpoint: string;
}

/**
 * A scrape job equivalent to what the operator generates for a ServiceMonitor endpoint
 * (job_name `serviceMonitor/<namespace>/<name>/0`, relabelled `job`, `namespace`, `service`, `pod`, `container`,
 * `endpoint`; `instance` = the address), with a static target in place of Kubernetes service discovery.
 */
export function serviceMonitorScrapeJob(t: ServiceMonitorTarget, interval: string): object {
    const set = (label: string, value: string) => ({ target_label: label, replacement: value });
    return {
        job_name: `serviceMonitor/${t.namespace}/${t.service}/0`,
        honor_labels: false,
        scrape_interval: interval,
        scrape_timeout: interval,
        metrics_path: "/metrics",
        static_configs: [{ targets: [t.address] }],
        relabel_configs: [
            set("namespace", t.namespace),
            set("service", t.service),
            set("pod", t.pod),
            set("container", t.container),
            set("endpoint", t.endpoint),
            set("job", t.service),
        ],
    };
}

/** A ServiceMonitor, as far as {@link serviceMonitorDiscoveryJobs} reads it. */
export interface ServiceMonitorObject {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: {
        readonly selector: { readonly matchLabels?: Readonly<Record<string, string>>; readonly matchExpressions?: readonly unknown[] };
        readonly namespaceSelector?: unknown;
        readonly jobLabel?: string;
        readonly endpoints: readonly { readonly port?: string; readonly targetPort?: unknown; readonly path?: string; readonly interval?: string }[];
    };
}

/**
 * The scrape jobs the Prometheus Operator generates for a ServiceMonitor (one per endpoint; its promcfg.go, role
 * endpointslice): Kubernetes service discovery in the monitor's namespace, kept to the Services its selector selects
 * and the endpoint port it names, labelled `job` (the Service's name), `namespace`, `service`, `pod`, `container`,
 * `endpoint`. Only what this project's ServiceMonitor uses is translated; anything else throws rather than being
 * scraped differently from the operator. `kubeconfig` is the cluster's, for discovery from outside it.
 */
export function serviceMonitorDiscoveryJobs(monitor: ServiceMonitorObject, kubeconfig: string, interval: string): object[] {
    const { selector, namespaceSelector, jobLabel, endpoints } = monitor.spec;
    if (selector.matchExpressions?.length || namespaceSelector !== undefined || jobLabel !== undefined) {
        throw new Error(`ServiceMonitor ${monitor.metadata.name} uses selector features this translation does not cover`);
    }
    const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");
    const meta = (name: string) => `__meta_kubernetes_${name}`;
    const set = (label: string, source: string) => ({ source_labels: [meta(source)], target_label: label });
    return endpoints.map((endpoint, i) => {
        if (endpoint.port === undefined || endpoint.targetPort !== undefined) {
            throw new Error(`ServiceMonitor ${monitor.metadata.name} endpoint ${i}: only a named Service port is translated`);
        }
        return {
            job_name: `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${i}`,
            honor_labels: false,
            scrape_interval: interval,
            scrape_timeout: interval,
            metrics_path: endpoint.path ?? "/metrics",
            kubernetes_sd_configs: [{ role: "endpointslice", kubeconfig_file: kubeconfig, namespaces: { names: [monitor.metadata.namespace] } }],
            relabel_configs: [
                ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => ({
                    action: "keep",
                    source_labels: [meta(`service_label_${sanitize(k)}`), meta(`service_labelpresent_${sanitize(k)}`)],
                    regex: `(${v});true`,
                })),
                { action: "keep", source_labels: [meta("endpointslice_port_name")], regex: endpoint.port },
                set("namespace", "namespace"),
                set("service", "service_name"),
                set("pod", "pod_name"),
                set("container", "pod_container_name"),
                set("job", "service_name"),
                { target_label: "endpoint", replacement: endpoint.port },
            ],
        };
    });
}

/** A running Prometheus server and its HTTP API. */
export interface PrometheusServer {
    readonly url: string;
    readonly process: Started;
    /** Stops the server and removes its directory. Safe to call twice. */
    stop(): Promise<void>;
}

export interface PrometheusOptions {
    /** Scrape jobs (see {@link serviceMonitorScrapeJob}). */
    readonly scrapeJobs: readonly object[];
    /** Rule files' contents, by file name. */
    readonly ruleFiles: Readonly<Record<string, string>>;
    /** Global scrape and evaluation interval. @default "1s" */
    readonly interval?: string;
    /** The Prometheus to run. @default "prometheus" from PATH (Debian's) */
    readonly binary?: string;
}

/**
 * Starts `prometheus` on a free loopback port (never 9090), with a temporary configuration and TSDB, and waits for
 * /-/ready. The caller must `stop()` it in an after hook.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
    const dir = tempDir("prometheus");
    const interval = opts.interval ?? "1s";
    const ruleFiles = Object.entries(opts.ruleFiles).map(([name, text]) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, text);
        return file;
    });
    const config = {
        global: { scrape_interval: interval, evaluation_interval: interval },
        rule_files: ruleFiles,
        scrape_configs: opts.scrapeJobs,
    };
    fs.writeFileSync(path.join(dir, "prometheus.yml"), stringify(config));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = start(opts.binary ?? "prometheus", [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
    ]);
    let stopped = false;
    const server: PrometheusServer = {
        url,
        process: proc,
        async stop() {
            if (stopped) return;
            stopped = true;
            await proc.stop(5000);
            removeDir(dir);
        },
    };
    try {
        await waitFor("Prometheus to be ready", async () => {
            if (proc.child.exitCode !== null) throw new Error(`prometheus exited:\n${proc.output().slice(-2000)}`);
            const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
            return res.ok ? true : undefined;
        }, 20_000, 100);
    } catch (e) {
        await server.stop();
        throw e;
    }
    return server;
}

/** One sample of an instant vector. */
export interface Sample {
    readonly metric: Readonly<Record<string, string>>;
    readonly value: readonly [number, string];
}

/** GET an /api/v1 endpoint and return its `data`; an error status or `status: "error"` throws with Prometheus's message. */
export async function api<T>(baseUrl: string, endpoint: string, params: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${baseUrl}/api/v1/${endpoint}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (!res.ok || body.status !== "success") {
        throw new Error(`/api/v1/${endpoint} ${JSON.stringify(params)}: ${res.status} ${body.errorType ?? ""} ${body.error ?? ""}`);
    }
    return body.data;
}

/** Evaluates `expr` now; throws unless it yields an instant vector (or a scalar, returned as one label-less sample). */
export async function instantQuery(baseUrl: string, expr: string): Promise<Sample[]> {
    const data = await api<{ resultType: string; result: unknown }>(baseUrl, "query", { query: expr });
    if (data.resultType === "scalar") return [{ metric: {}, value: data.result as [number, string] }];
    if (data.resultType !== "vector") throw new Error(`${expr}: expected a vector, got ${data.resultType}`);
    return data.result as Sample[];
}

/** Whether some sample is a finite number: what "returns data" means for a panel or a recording rule. */
export function hasFiniteSample(samples: readonly Sample[]): boolean {
    return samples.some((s) => Number.isFinite(Number(s.value[1])));
}

/** /api/v1/rules: groups with their rules' health. */
export interface RulesData {
    readonly groups: readonly {
        readonly name: string;
        readonly file: string;
        readonly rules: readonly {
            readonly type: "recording" | "alerting";
            readonly name: string;
            readonly query: string;
            readonly labels?: Readonly<Record<string, string>>;
            readonly health: "ok" | "err" | "unknown";
            readonly lastError?: string;
            readonly state?: "inactive" | "pending" | "firing";
        }[];
    }[];
}

/** /api/v1/alerts: the active (pending or firing) alerts. */
export interface AlertsData {
    readonly alerts: readonly { readonly labels: Readonly<Record<string, string>>; readonly state: string }[];
}
