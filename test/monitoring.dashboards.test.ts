/**
 * The hello dashboards as the program ships them: two SDK-built JSON models with the variables, panels and queries
 * the issue asks for, valid PromQL, and `npm run dashboards` writing them for review. Whether each query returns
 * data from the real service is proved in monitoring.live.test.ts.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DASHBOARD_FOLDER, DashboardFile, dashboards } from "../monitoring/dashboards";
import { toRuleFile } from "../monitoring/ruleGroups";
import { DEFAULT_SLO } from "../monitoring/slo";
import { panelQueries, panelsOf, substitute, variablesOf } from "./monitoring/dashboardQueries";
import { run } from "../scripts/lib/process";
import { promtool, removeDir, requireTool, tempDir } from "./support/prometheus";

const ROOT = path.resolve(__dirname, "..");
const all = dashboards({ slo: DEFAULT_SLO });
const byUid = (uid: string): DashboardFile => all.find((d) => d.uid === uid)!;
const exprs = (d: DashboardFile) => panelQueries(d).map((q) => q.expr);
/** Values for Grafana's variables that make a query valid PromQL. */
const SAMPLE_VARIABLES = { datasource: "prometheus", namespace: "staging", job: "hello", __rate_interval: "1m", __interval: "15s", __range: "1h" };

describe("monitoring: dashboards()", function () {
    it("returns the overview and the SLO dashboard, with stable uids and <uid>.json file names", function () {
        assert.deepEqual(all.map((d) => [d.uid, d.title, d.fileName]), [
            ["hello-overview", "hello: overview", "hello-overview.json"],
            ["hello-slo", "hello: SLOs", "hello-slo.json"],
        ]);
        for (const d of all) assert.equal((d.json as { uid?: string }).uid, d.uid);
    });

    it("puts them in a Grafana folder named for the service", function () {
        assert.equal(DASHBOARD_FOLDER, "hello");
    });

    it("builds the same JSON every time (no random ids, so no spurious diffs on pulumi up)", function () {
        assert.deepEqual(dashboards({ slo: DEFAULT_SLO }), all);
    });

    it("gives every dashboard datasource, namespace and job variables, job defaulting to hello", function () {
        for (const d of all) {
            const vars = variablesOf(d);
            assert.deepEqual(vars.map((v) => [v.name, v.type]), [["datasource", "datasource"], ["namespace", "query"], ["job", "query"]], d.title);
            assert.equal(vars[0].query, "prometheus");
            assert.deepEqual((vars[2] as { current?: { value?: string } }).current?.value, "hello");
            for (const v of vars.slice(1)) assert.deepEqual(v.datasource, { type: "prometheus", uid: "${datasource}" }, `${d.title}: ${v.name}`);
        }
    });

    it("makes every panel and every query use the Prometheus chosen in $datasource", function () {
        for (const d of all) {
            for (const p of panelsOf(d) as { title: string; datasource?: unknown; targets?: { datasource?: unknown }[] }[]) {
                assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, `${d.title} / ${p.title}`);
                for (const t of p.targets ?? []) assert.deepEqual(t.datasource, p.datasource, `${d.title} / ${p.title}`);
            }
        }
    });

    it("numbers panels uniquely and gives each a title, a description and at least one query", function () {
        for (const d of all) {
            const ids = (d.json as { panels: { id: number }[] }).panels.map((p) => p.id);
            assert.equal(new Set(ids).size, ids.length, `${d.title}: duplicate panel ids ${ids}`);
            for (const p of panelsOf(d) as { title?: string; description?: string; targets?: { expr?: string; refId?: string }[] }[]) {
                assert.ok(p.title && p.description, `${d.title}: a panel without title or description`);
                assert.ok((p.targets ?? []).length > 0, `${d.title} / ${p.title}: no query`);
                const refIds = p.targets!.map((t) => t.refId);
                assert.equal(new Set(refIds).size, refIds.length, `${d.title} / ${p.title}: duplicate refIds`);
            }
        }
    });

    it("selects the chosen job in every query, and the chosen namespace in every query of the service's own series", function () {
        for (const q of all.flatMap(panelQueries)) {
            assert.match(q.expr, /job="\$job"/, `${q.dashboard} / ${q.panel}`);
            // The objective and threshold series are per service, not per namespace: one Prometheus per stack.
            if (!/^max\(slo:(objective:ratio|latency_threshold:seconds)\{/.test(q.expr)) {
                assert.match(q.expr, /namespace="\$namespace"/, `${q.dashboard} / ${q.panel}`);
            }
        }
    });

    it("shows on the overview requests/s by handler and code, error ratio, p50/p90/p99, in-flight, CPU, memory, goroutines and the hello counter", function () {
        const overview = exprs(byUid("hello-overview")).join("\n");
        for (const needle of [
            "sum by (handler, code) (rate(http_requests_total{",
            'code=~"5.."',
            "histogram_quantile(0.5,",
            "histogram_quantile(0.9,",
            "histogram_quantile(0.99,",
            "http_requests_in_flight{",
            "process_cpu_seconds_total{",
            "process_resident_memory_bytes{",
            "go_goroutines{",
            "hello_counter_total{",
        ]) {
            assert.ok(overview.includes(needle), `the overview has no query with ${needle}`);
        }
    });

    it("shows on the SLO dashboard availability and error budget over the window, and burn rates, for both SLOs", function () {
        const slo = byUid("hello-slo");
        const titles = panelsOf(slo).map((p) => p.title);
        assert.deepEqual(titles, [
            "Objective", "Availability over 30d", "Error budget remaining", "Availability burn rate",
            "Objective", "Threshold", "Within threshold over 30d", "Error budget remaining", "Latency burn rate",
        ]);
        const text = exprs(slo).join("\n");
        for (const w of ["5m", "1h", "6h", "1d", "3d"]) {
            assert.ok(text.includes(`slo:error_budget:burn_rate${w}{namespace="$namespace", job="$job", slo="availability"}`), `availability ${w}`);
            assert.ok(text.includes(`slo:error_budget:burn_rate${w}{namespace="$namespace", job="$job", slo="latency"}`), `latency ${w}`);
        }
    });

    it("reports the SLO dashboard over the stack's window", function () {
        const slo = dashboards({ slo: { ...DEFAULT_SLO, window: "28d" } }).find((d) => d.uid === "hello-slo")!;
        const windowed = exprs(slo).filter((e) => e.includes("increase("));
        assert.ok(windowed.length > 0);
        for (const e of windowed) assert.ok(e.includes("[28d]") && !e.includes("[30d]"), e);
        assert.ok(panelsOf(slo).some((p) => p.title === "Availability over 28d"));
    });

    it("uses only valid PromQL in every query, with the variables substituted (`promtool check rules`)", async function () {
        requireTool(this, "promtool");
        const dir = tempDir("dashboard-queries");
        try {
            const queries = all.flatMap(panelQueries);
            const file = path.join(dir, "queries.rules.yaml");
            fs.writeFileSync(file, toRuleFile([{
                name: "dashboard-queries",
                rules: queries.map((q, i) => ({ record: `dashboard:query:${i}`, expr: substitute(q.expr, SAMPLE_VARIABLES) })),
            }]));
            const r = await promtool(["check", "rules", file]);
            assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        } finally {
            removeDir(dir);
        }
    });
});

describe("monitoring: npm run dashboards", function () {
    it("writes each dashboard's JSON, as shipped, into the directory given", async function () {
        const dir = tempDir("dashboards");
        try {
            const r = await run(process.execPath, [require.resolve("ts-node/dist/bin.js"), "monitoring/dashboards/write.ts", dir], { cwd: ROOT, timeoutMs: 60_000 });
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(fs.readdirSync(dir).sort(), ["hello-overview.json", "hello-slo.json"]);
            for (const d of all) assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, d.fileName), "utf8")), d.json);
        } finally {
            removeDir(dir);
        }
    });
});
