/**
 * The hello service's Prometheus rules: the shipped files pass promtool, every alert is documented and tested, and
 * per-stack SLO settings change what the alerts fire on, without touching the files.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { REPOSITORY_ROOT, Rule, RuleGroup, ruleFiles, ruleGroups, shippedRuleGroups, toRuleFile } from "../monitoring/ruleGroups";
import {
    DEFAULT_SLO,
    LATENCY_BUCKET_BOUNDARIES,
    SLO_OBJECTIVES_GROUP,
    SloSettings,
    resolveSloSettings,
    sloObjectivesGroup,
    validateSloSettings,
} from "../monitoring/slo";
import { RunResult } from "../scripts/lib/process";
import { promtool, removeDir, requireTool, tempDir } from "./support/prometheus";

const TESTS_DIR = path.join(REPOSITORY_ROOT, "monitoring", "tests");
const RUNBOOKS_DIR = path.join(REPOSITORY_ROOT, "monitoring", "runbooks");
const OBJECTIVES_FIXTURE = path.join(TESTS_DIR, "slo-objectives.default.yaml");
const promtoolTestFiles = fs.readdirSync(TESTS_DIR).filter((f) => f.endsWith(".test.yaml")).sort();

const alerts = (groups: readonly RuleGroup[]): Rule[] => groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));

/** promtool's verdict, with its output in the assertion message. */
function assertPromtoolOk(r: RunResult, what: string): void {
    assert.equal(r.code, 0, `${what} failed:\n${r.stdout}${r.stderr}`);
}

describe("monitoring: the shipped rule files", function () {
    // promtool test runs take seconds each: start them all at once, each spec awaits its own.
    const testRuns = new Map<string, Promise<RunResult>>();
    before(function () {
        requireTool(this, "promtool");
        for (const f of promtoolTestFiles) testRuns.set(f, promtool(["test", "rules", f], TESTS_DIR));
    });

    it("are plain Prometheus rule files that `promtool check rules` accepts", async function () {
        requireTool(this, "promtool");
        const r = await promtool(["check", "rules", ...ruleFiles()]);
        assertPromtoolOk(r, "promtool check rules");
    });

    for (const file of promtoolTestFiles) {
        it(`pass \`promtool test rules monitoring/tests/${file}\``, async function () {
            requireTool(this, "promtool");
            assertPromtoolOk(await testRuns.get(file)!, `promtool test rules ${file}`);
        });
    }

    it("give every alert a severity: critical (pages) or warning (ticket)", function () {
        for (const a of alerts(shippedRuleGroups())) {
            assert.ok(["critical", "warning"].includes(a.labels?.severity ?? ""), `${a.alert}: severity is ${a.labels?.severity}`);
        }
    });

    it("give every alert a summary, a description and a runbook_url", function () {
        for (const a of alerts(shippedRuleGroups())) {
            for (const key of ["summary", "description", "runbook_url"]) {
                assert.ok(a.annotations?.[key]?.trim(), `${a.alert} has no ${key}`);
            }
        }
    });

    it("point every runbook_url at a runbook that exists under monitoring/runbooks/", function () {
        for (const a of alerts(shippedRuleGroups())) {
            const url = a.annotations!.runbook_url!;
            const file = path.resolve(REPOSITORY_ROOT, url);
            assert.ok(!path.isAbsolute(url) && file.startsWith(RUNBOOKS_DIR + path.sep), `${a.alert}: runbook_url ${url} is not under monitoring/runbooks/`);
            assert.ok(fs.existsSync(file), `${a.alert}: ${url} does not exist`);
        }
    });

    it("have runbooks that say what the alert means, how to confirm it and what to do", function () {
        const runbooks = new Set(alerts(shippedRuleGroups()).map((a) => a.annotations!.runbook_url!));
        for (const url of runbooks) {
            const text = fs.readFileSync(path.resolve(REPOSITORY_ROOT, url), "utf8");
            for (const heading of ["## What it means", "## How to confirm", "## What to do"]) {
                assert.ok(text.includes(heading), `${url} has no "${heading}" section`);
            }
        }
    });

    it("test every alert at least once firing with its labels and once staying silent", function () {
        type AlertTest = { alertname: string; exp_alerts?: { exp_labels?: Record<string, string> }[] };
        const cases = promtoolTestFiles.flatMap((f) => {
            const doc = parse(fs.readFileSync(path.join(TESTS_DIR, f), "utf8")) as { tests: { alert_rule_test?: AlertTest[] }[] };
            return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
        });
        for (const name of new Set(alerts(shippedRuleGroups()).map((a) => a.alert!))) {
            const mine = cases.filter((c) => c.alertname === name);
            const fires = mine.filter((c) => (c.exp_alerts ?? []).length > 0);
            assert.ok(fires.length > 0, `${name} has no promtool test where it fires`);
            assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name} has no promtool test where it stays silent`);
            for (const c of fires) {
                for (const e of c.exp_alerts!) assert.ok(e.exp_labels?.severity, `${name}: a firing test expects no severity label`);
            }
        }
    });

    it("test every rule of every burn-rate alert (each window pair) firing", function () {
        const text = promtoolTestFiles.map((f) => fs.readFileSync(path.join(TESTS_DIR, f), "utf8")).join("\n");
        for (const a of alerts(shippedRuleGroups()).filter((r) => r.labels?.long_window)) {
            const pattern = new RegExp(`long_window: ${a.labels!.long_window}\\s+short_window: ${a.labels!.short_window}\\s+namespace: \\S+\\s+job: hello\\s+slo: (\\w+)`, "g");
            const slos = [...text.matchAll(pattern)].map((m) => m[1]);
            const slo = a.alert === "HelloAvailabilityBudgetBurn" ? "availability" : "latency";
            assert.ok(slos.includes(slo), `${a.alert} ${a.labels!.long_window}/${a.labels!.short_window} is never tested firing`);
        }
    });

    it('scope every expression to the service (job="hello"), so other services\' series never mix in', function () {
        for (const g of shippedRuleGroups()) {
            for (const r of g.rules) assert.match(r.expr, /job="hello"/, `${r.record ?? r.alert} in ${g.name} does not select job="hello"`);
        }
    });
});

describe("monitoring: ruleGroups()", function () {
    it("ships the generated objectives group first, then every group of the rule files unchanged", function () {
        const groups = ruleGroups({ slo: DEFAULT_SLO });
        assert.deepEqual(groups[0], sloObjectivesGroup(DEFAULT_SLO));
        assert.deepEqual(groups.slice(1), shippedRuleGroups());
        assert.deepEqual(groups.map((g) => g.name), [SLO_OBJECTIVES_GROUP, "hello.alerts", "hello.red", "hello.slo"]);
    });

    it("resolves every runbook_url against runbookBaseUrl, with or without a trailing slash", function () {
        for (const base of ["https://github.com/acme/hello/blob/main", "https://github.com/acme/hello/blob/main/"]) {
            for (const a of alerts(ruleGroups({ slo: DEFAULT_SLO, runbookBaseUrl: base }))) {
                assert.match(a.annotations!.runbook_url!, /^https:\/\/github\.com\/acme\/hello\/blob\/main\/monitoring\/runbooks\/hello-[a-z0-9-]+\.md$/);
            }
        }
    });

    it("keeps runbook URLs repository-relative when no runbookBaseUrl is given", function () {
        for (const a of alerts(ruleGroups({ slo: DEFAULT_SLO }))) {
            assert.match(a.annotations!.runbook_url!, /^monitoring\/runbooks\/hello-[a-z0-9-]+\.md$/);
        }
    });

    it("rejects a runbookBaseUrl that is not an absolute http(s) URL, naming it", function () {
        assert.throws(() => ruleGroups({ slo: DEFAULT_SLO, runbookBaseUrl: "github.com/acme/hello" }), /`runbookBaseUrl` is "github.com\/acme\/hello"/);
        assert.throws(() => ruleGroups({ slo: DEFAULT_SLO, runbookBaseUrl: "file:///etc/" }), /absolute http\(s\) URL/);
    });

    it("rejects SLO settings that validation rejects, before any group is built", function () {
        const slo = { ...DEFAULT_SLO, latency: { thresholdSeconds: 0.3, objective: 0.99 } };
        assert.throws(() => ruleGroups({ slo }), /latency\.thresholdSeconds` is 0\.3/);
    });

    it("ships groups that `promtool check rules` accepts, for the defaults and for other objectives", async function () {
        requireTool(this, "promtool");
        const dir = tempDir("rules");
        try {
            const stacks: SloSettings[] = [
                DEFAULT_SLO,
                { availability: { objective: 0.99 }, latency: { thresholdSeconds: 1, objective: 0.95 }, window: "28d" },
            ];
            const files = stacks.map((slo, i) => {
                const file = path.join(dir, `stack-${i}.rules.yaml`);
                fs.writeFileSync(file, toRuleFile(ruleGroups({ slo, runbookBaseUrl: "https://example.com/hello/" })));
                return file;
            });
            assertPromtoolOk(await promtool(["check", "rules", ...files]), "promtool check rules");
        } finally {
            removeDir(dir);
        }
    });
});

describe("monitoring: SLO settings", function () {
    it("default to 99.9% availability and 99% of requests within 250ms, over 30d", function () {
        assert.deepEqual(DEFAULT_SLO, { availability: { objective: 0.999 }, latency: { thresholdSeconds: 0.25, objective: 0.99 }, window: "30d" });
        assert.deepEqual(validateSloSettings(DEFAULT_SLO), []);
    });

    it("accept every histogram bucket boundary as the latency threshold", function () {
        for (const thresholdSeconds of LATENCY_BUCKET_BOUNDARIES) {
            assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, latency: { thresholdSeconds, objective: 0.99 } }), []);
        }
    });

    it("reject a latency threshold between buckets, naming the config key, the value and the allowed values", function () {
        const problems = validateSloSettings({ ...DEFAULT_SLO, latency: { thresholdSeconds: 0.3, objective: 0.99 } }, "hello-service:slo");
        assert.deepEqual(problems, [
            "`hello-service:slo.latency.thresholdSeconds` is 0.3; it must be one of the histogram bucket boundaries " +
                "0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 (seconds)",
        ]);
    });

    it("reject an objective at which a 14.4x burn rate is impossible (at or below 93.06%), or of 100%", function () {
        for (const objective of [0.93, 1, 99.9, NaN]) {
            const problems = validateSloSettings({ ...DEFAULT_SLO, availability: { objective } });
            assert.equal(problems.length, 1, `${objective}: ${problems}`);
            assert.match(problems[0], /`slo\.availability\.objective` is .*; it must be a ratio above 0\.9306 and below 1/);
        }
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, availability: { objective: 0.95 } }), []);
    });

    it("reject a window that is not whole days between 7d and 90d", function () {
        for (const window of ["30", "4w", "720h", "6d", "91d", "030d"]) {
            assert.match(validateSloSettings({ ...DEFAULT_SLO, window }).join(), /`slo\.window` is .*whole number of days between 7d and 90d/, window);
        }
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, window: "28d" }), []);
    });

    it("resolve a partial input over the defaults, and throw one error listing every problem", function () {
        assert.deepEqual(resolveSloSettings({ latency: { thresholdSeconds: 0.5 } }), {
            ...DEFAULT_SLO,
            latency: { thresholdSeconds: 0.5, objective: 0.99 },
        });
        assert.throws(
            () => resolveSloSettings({ availability: { objective: 0.5 }, window: "1y" }, "hello-service:slo"),
            (e: Error) => /availability\.objective/.test(e.message) && /hello-service:slo\.window/.test(e.message),
        );
    });

    it('record a whole-second threshold under both `le` spellings: "1" (Prometheus 2) and "1.0" (Prometheus 3)', function () {
        const group = sloObjectivesGroup({ ...DEFAULT_SLO, latency: { thresholdSeconds: 1, objective: 0.99 } });
        const thresholds = group.rules.filter((r) => r.record === "slo:latency_threshold:seconds");
        assert.deepEqual(thresholds.map((r) => r.labels?.le), ["1", "1.0"]);
        const fractional = sloObjectivesGroup(DEFAULT_SLO).rules.filter((r) => r.record === "slo:latency_threshold:seconds");
        assert.deepEqual(fractional.map((r) => r.labels?.le), ["0.25"]);
    });

    it("match monitoring/tests/slo-objectives.default.yaml, the objectives fixture of the promtool tests", function () {
        const expected = toRuleFile(
            [sloObjectivesGroup(DEFAULT_SLO)],
            "The generated SLO objectives group for DEFAULT_SLO (monitoring/slo.ts), for the promtool tests beside it.\n" +
                "Do not edit: test/monitoring.rules.test.ts fails when it differs from the code; UPDATE_FIXTURES=1 rewrites it.",
        );
        if (process.env.UPDATE_FIXTURES === "1") fs.writeFileSync(OBJECTIVES_FIXTURE, expected);
        assert.equal(fs.readFileSync(OBJECTIVES_FIXTURE, "utf8"), expected, "stale fixture: run `UPDATE_FIXTURES=1 npx mocha test/monitoring.rules.test.ts`");
    });
});

describe("monitoring: per-stack SLO settings change what the unchanged rule files alert on (promtool)", function () {
    let dir: string;
    before(function () {
        requireTool(this, "promtool");
        dir = tempDir("slo-per-stack");
    });
    after(() => removeDir(dir));

    const sel = 'job="hello", namespace="staging", pod="hello-a", handler="/", method="get"';

    /**
     * Runs `promtool test rules` on the shipped SLO file plus the objectives group generated for `slo`: the same
     * files as production, with only the stack's settings changed.
     */
    async function promtoolWith(name: string, slo: SloSettings, test: object): Promise<RunResult> {
        const objectives = path.join(dir, `${name}.objectives.yaml`);
        fs.writeFileSync(objectives, toRuleFile([sloObjectivesGroup(slo)]));
        const testFile = path.join(dir, `${name}.test.yaml`);
        fs.writeFileSync(testFile, stringify({
            rule_files: [objectives, path.join(REPOSITORY_ROOT, "monitoring", "rules", "hello-slo.rules.yaml")],
            evaluation_interval: "1m",
            tests: [{ interval: "1m", ...test }],
        }));
        return promtool(["test", "rules", testFile]);
    }

    const firing = (alertname: string, longWindow: string) =>
        `ALERTS{alertname="${alertname}", alertstate="firing", long_window="${longWindow}"}`;
    const pageSample = (alertname: string, slo: string) => ({
        labels: `ALERTS{alertname="${alertname}", alertstate="firing", namespace="staging", job="hello", slo="${slo}", severity="critical", long_window="1h", short_window="5m"}`,
        value: 1,
    });

    it("2% errors page at a 99.9% availability objective, and not at 99%", async function () {
        const traffic = {
            input_series: [
                { series: `http_requests_total{${sel}, code="200"}`, values: "0+980x20" },
                { series: `http_requests_total{${sel}, code="500"}`, values: "0+20x20" },
            ],
        };
        const strict = await promtoolWith("availability-999", { ...DEFAULT_SLO, availability: { objective: 0.999 } }, {
            ...traffic,
            promql_expr_test: [{ expr: firing("HelloAvailabilityBudgetBurn", "1h"), eval_time: "10m", exp_samples: [pageSample("HelloAvailabilityBudgetBurn", "availability")] }],
        });
        assertPromtoolOk(strict, "99.9%: the page");
        const lenient = await promtoolWith("availability-99", { ...DEFAULT_SLO, availability: { objective: 0.99 } }, {
            ...traffic,
            promql_expr_test: [
                { expr: 'ALERTS{alertname="HelloAvailabilityBudgetBurn", severity="critical"}', eval_time: "20m", exp_samples: [] },
                // burn rate 2: the budget goes twice as fast as allowed, still worth the slow ticket's attention
                { expr: 'round(slo:error_budget:burn_rate1h{slo="availability"}, 0.001)', eval_time: "20m", exp_samples: [{ labels: '{namespace="staging", job="hello", slo="availability"}', value: 2 }] },
            ],
        });
        assertPromtoolOk(lenient, "99%: no page");
    });

    it("requests between 250ms and 500ms burn the latency budget with a 250ms threshold, and not with 500ms", async function () {
        // 1000 requests/min, 30% of them between 250ms and 500ms
        const bucket = (le: string, values: string) => ({ series: `http_request_duration_seconds_bucket{${sel}, code="200", le="${le}"}`, values });
        const traffic = {
            input_series: [
                bucket("0.25", "0+700x20"),
                bucket("0.5", "0+1000x20"),
                bucket("+Inf", "0+1000x20"),
                { series: `http_request_duration_seconds_count{${sel}, code="200"}`, values: "0+1000x20" },
            ],
        };
        const tight = await promtoolWith("latency-250ms", DEFAULT_SLO, {
            ...traffic,
            promql_expr_test: [{ expr: firing("HelloLatencyBudgetBurn", "1h"), eval_time: "10m", exp_samples: [pageSample("HelloLatencyBudgetBurn", "latency")] }],
        });
        assertPromtoolOk(tight, "250ms: the page");
        const loose = await promtoolWith("latency-500ms", { ...DEFAULT_SLO, latency: { thresholdSeconds: 0.5, objective: 0.99 } }, {
            ...traffic,
            promql_expr_test: [
                { expr: 'ALERTS{alertname="HelloLatencyBudgetBurn"}', eval_time: "20m", exp_samples: [] },
                { expr: 'slo:sli_error:ratio_rate5m{slo="latency"}', eval_time: "20m", exp_samples: [{ labels: 'slo:sli_error:ratio_rate5m{namespace="staging", job="hello", slo="latency"}', value: 0 }] },
            ],
        });
        assertPromtoolOk(loose, "500ms: no page");
    });

    for (const le of ["1", "1.0"]) {
        it(`a 1s threshold finds its bucket when Prometheus spells it le="${le}"`, async function () {
            const r = await promtoolWith(`latency-1s-${le}`, { ...DEFAULT_SLO, latency: { thresholdSeconds: 1, objective: 0.99 } }, {
                input_series: [
                    { series: `http_request_duration_seconds_bucket{${sel}, code="200", le="${le}"}`, values: "0+750x20" },
                    { series: `http_request_duration_seconds_bucket{${sel}, code="200", le="+Inf"}`, values: "0+1000x20" },
                    { series: `http_request_duration_seconds_count{${sel}, code="200"}`, values: "0+1000x20" },
                ],
                promql_expr_test: [
                    { expr: 'slo:sli_error:ratio_rate5m{slo="latency"}', eval_time: "10m", exp_samples: [{ labels: 'slo:sli_error:ratio_rate5m{namespace="staging", job="hello", slo="latency"}', value: 0.25 }] },
                ],
            });
            assertPromtoolOk(r, `le="${le}"`);
        });
    }
});
