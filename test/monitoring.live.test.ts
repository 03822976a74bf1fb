/**
 * The proof against a real Prometheus: the real hello service, built from app/, scraped by Debian's Prometheus on
 * loopback with the labels its ServiceMonitor gives it and the very rule groups the program ships, under traffic.
 * Through Prometheus's HTTP API: every rule group loads and evaluates cleanly, every recording rule has data, and
 * every query of every dashboard panel returns data (a query that returns nothing names a wrong metric or label).
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { dashboards } from "../monitoring/dashboards";
import { Rule, ruleGroups, toRuleFile } from "../monitoring/ruleGroups";
import { DEFAULT_SLO } from "../monitoring/slo";
import { labelValuesAsPromQL, panelQueries, substitute, variablesOf } from "./monitoring/dashboardQueries";
import { Started, runOk, start, waitFor } from "../scripts/lib/process";
import {
    AlertsData,
    PrometheusServer,
    RulesData,
    Sample,
    api,
    hasFiniteSample,
    instantQuery,
    removeDir,
    requireTool,
    serviceMonitorScrapeJob,
    startPrometheus,
    tempDir,
} from "./support/prometheus";

const ROOT = path.resolve(__dirname, "..");
/** Where the service "runs": a namespace other than the job's name, so a swapped $namespace/$job cannot pass. */
const NAMESPACE = "staging";
const POD = "hello-6f7d9c8b5-x2x9z";
/** Scrape and rule evaluation interval of the local Prometheus. */
const INTERVAL = "1s";
/** Grafana's variables as Grafana would substitute them against this Prometheus ($__rate_interval = 4 x scrape). */
const VARIABLES = { datasource: "prometheus", namespace: NAMESPACE, job: "hello", __rate_interval: "4s", __interval: "1s", __range: "5m" };

const slo = DEFAULT_SLO;
const groups = ruleGroups({ slo, runbookBaseUrl: "https://github.com/acme/hello/blob/main/" });
const recordingRules = groups.flatMap((g) => g.rules.filter((r): r is Rule & { record: string } => r.record !== undefined).map((r) => ({ group: g.name, rule: r })));
const shippedDashboards = dashboards({ slo });

/** A recording rule's own series: its name with its static labels, for the hello job. */
function recordedSeries(rule: Rule & { record: string }): string {
    const labels = { job: "hello", ...rule.labels };
    return `${rule.record}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(", ")}}`;
}

describe("monitoring proof: the real service, scraped by a real Prometheus running the shipped rules", function () {
    this.timeout(120_000);

    let workDir: string | undefined;
    let service: Started | undefined;
    let prometheus: PrometheusServer | undefined;
    let serviceUrl = "";
    let address = "";
    let traffic: Promise<void> | undefined;
    let trafficOn = false;
    let requestsSent = 0;

    /** Until stopped: user requests ("/", 5 at a time), unknown paths (404), probes; like real traffic, plus scrapes. */
    async function driveTraffic(): Promise<void> {
        const get = (p: string) =>
            fetch(`${serviceUrl}${p}`, { signal: AbortSignal.timeout(2000) })
                .then((r) => r.arrayBuffer())
                .then(() => void requestsSent++, () => undefined);
        while (trafficOn) {
            await Promise.all([...Array.from({ length: 5 }, () => get("/")), get("/no/such/page"), get("/healthz"), get("/readyz")]);
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    const query = (expr: string): Promise<Sample[]> => instantQuery(prometheus!.url, expr);

    before(async function () {
        this.timeout(90_000);
        requireTool(this, "prometheus");
        workDir = tempDir("monitoring-proof");

        const binary = path.join(workDir, "hello");
        await runOk("go", ["build", "-o", binary, "./cmd/hello"], { cwd: path.join(ROOT, "app") });
        service = start(binary, [], { env: { ...process.env, PORT: "0", LOG_LEVEL: "info", DRAIN_DELAY: "0s", SHUTDOWN_TIMEOUT: "2s" } });
        // The JSON startup line names the listen address ("[::]:41234"): PORT=0 picked a free port.
        const port = await waitFor("the service's startup log line", async () => {
            if (service!.child.exitCode !== null) throw new Error(`hello exited:\n${service!.output()}`);
            return /"addr":"[^"]*:(\d+)"/.exec(service!.output())?.[1];
        }, 10_000);
        address = `127.0.0.1:${port}`;
        serviceUrl = `http://${address}`;

        prometheus = await startPrometheus({
            interval: INTERVAL,
            ruleFiles: { "hello.rules.yaml": toRuleFile(groups) },
            scrapeJobs: [serviceMonitorScrapeJob({ address, namespace: NAMESPACE, service: "hello", pod: POD, container: "go-service", endpoint: "http" }, INTERVAL)],
        });

        trafficOn = true;
        traffic = driveTraffic();

        // Ready when every recording rule has data; the specs below report whatever is still missing at the deadline.
        await waitFor("every recording rule to have data", async () => {
            for (const { rule } of recordingRules) if (!hasFiniteSample(await query(recordedSeries(rule)))) return undefined;
            return true;
        }, 45_000, 500).catch(() => undefined);
    });

    after(async function () {
        this.timeout(30_000);
        trafficOn = false;
        await traffic;
        await prometheus?.stop();
        await service?.stop(5000);
        removeDir(workDir);
    });

    it("scrapes the service with the target labels of its ServiceMonitor", async function () {
        const up = await query(`up{job="hello", namespace="${NAMESPACE}", service="hello", pod="${POD}", container="go-service", endpoint="http", instance="${address}"}`);
        assert.equal(up.length, 1, JSON.stringify(up));
        assert.equal(up[0].value[1], "1");
    });

    it('exposes the metrics contract: handler (route, or "unmatched" for unknown paths), lowercase method, code', async function () {
        const byLabels = await query(`sum by (handler, method, code) (http_requests_total{job="hello"})`);
        const seen = byLabels.map((s) => `${s.metric.handler} ${s.metric.method} ${s.metric.code}`).sort();
        for (const expected of ["/ get 200", "/healthz get 200", "/metrics get 200", "/readyz get 200", "unmatched get 404"]) {
            assert.ok(seen.includes(expected), `no http_requests_total{handler, method, code} = ${expected}; seen: ${seen.join(", ")}`);
        }
        for (const metric of ["http_request_duration_seconds_bucket", "http_requests_in_flight", "build_info", "hello_counter_total", "go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"]) {
            assert.ok((await query(`${metric}{job="hello"}`)).length > 0, `${metric} is not exposed`);
        }
    });

    it("loads every rule group the program ships, and evaluates every rule without error", async function () {
        const data = await api<RulesData>(prometheus!.url, "rules");
        assert.deepEqual(data.groups.map((g) => g.name).sort(), groups.map((g) => g.name).sort());
        for (const g of data.groups) {
            const shipped = groups.find((s) => s.name === g.name)!;
            assert.equal(g.rules.length, shipped.rules.length, `${g.name}: ${g.rules.length} rules loaded, ${shipped.rules.length} shipped`);
            for (const r of g.rules) {
                assert.equal(r.health, "ok", `${g.name} / ${r.name}: health ${r.health}, lastError ${r.lastError}`);
                assert.ok(!r.lastError, `${g.name} / ${r.name}: ${r.lastError}`);
            }
        }
    });

    for (const { group, rule } of recordingRules) {
        it(`records ${recordedSeries(rule)} (${group}) with data`, async function () {
            const samples = await query(recordedSeries(rule));
            assert.ok(hasFiniteSample(samples), `no data for ${recordedSeries(rule)}: ${JSON.stringify(samples)}`);
        });
    }

    it("records a burn rate for each SLO, availability and latency, over every window", async function () {
        const windows = [...new Set(recordingRules.map(({ rule }) => /^slo:error_budget:burn_rate(\w+)$/.exec(rule.record)?.[1]).filter(Boolean))];
        assert.deepEqual(windows, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
        for (const w of windows) {
            const slos = (await query(`slo:error_budget:burn_rate${w}{job="hello", namespace="${NAMESPACE}"}`)).filter((s) => hasFiniteSample([s])).map((s) => s.metric.slo);
            assert.deepEqual(slos.sort(), ["availability", "latency"], `burn_rate${w}`);
        }
    });

    for (const d of shippedDashboards) {
        for (const q of panelQueries(d)) {
            it(`answers "${q.dashboard}" / "${q.panel}" [${q.refId}] with data`, async function () {
                const expr = substitute(q.expr, VARIABLES);
                const samples = await query(expr);
                assert.ok(hasFiniteSample(samples), `no data for ${expr}: ${JSON.stringify(samples)}`);
            });
        }
        for (const v of variablesOf(d).filter((v) => v.type === "query")) {
            it(`lists the service in "${d.title}"'s ${v.name} variable`, async function () {
                const { promql, label } = labelValuesAsPromQL(substitute(String(v.query), VARIABLES));
                const values = (await query(promql)).map((s) => s.metric[label]);
                assert.ok(values.includes(VARIABLES[v.name as "namespace" | "job"]), `${promql} lists ${values.join(", ") || "nothing"}`);
            });
        }
    }

    it("fires no alert, and has none pending, while the service is healthy", async function () {
        const { alerts } = await api<AlertsData>(prometheus!.url, "alerts");
        assert.deepEqual(alerts.map((a) => `${a.labels.alertname} (${a.state})`), []);
    });

    it("finds no data for a misspelled metric, so the checks above can fail", async function () {
        assert.ok(requestsSent > 0, "no request reached the service");
        assert.deepEqual(await query(`http_request_total{job="hello"}`), []);
        assert.deepEqual(await query(substitute(`sum(rate(http_requests_total{namespace="$namespace", job="$job", handler="/hello"}[$__rate_interval]))`, VARIABLES)), []);
    });
});
