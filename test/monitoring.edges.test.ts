/**
 * The monitoring content at its edges: where the SLO settings' ranges start and end, the exact messages a bad setting
 * gets, what in monitoring/rules counts as a rule file, runbook links on a plain-http wiki, and the SLO dashboard's
 * objective panels reading the objective of their own SLO.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { dashboards } from "../monitoring/dashboards";
import { ruleFiles, ruleGroups, shippedRuleGroups, toRuleFile } from "../monitoring/ruleGroups";
import {
    DEFAULT_SLO,
    MIN_OBJECTIVE,
    SloSettings,
    resolveSloSettings,
    sloObjectivesGroup,
    validateSloSettings,
} from "../monitoring/slo";
import { panelQueries } from "./monitoring/dashboardQueries";
import { removeDir, tempDir } from "./support/prometheus";

const OBJECTIVE_RULE = "it must be a ratio above 0.9306 and below 1 (e.g. 0.999), because below that a 14.4x burn rate " +
    "cannot happen and the page alert could never fire";
const WINDOW_RULE = 'it must be a whole number of days between 7d and 90d (e.g. "30d")';

describe("monitoring edges: SLO settings", function () {
    it("refuse an objective of exactly 1 - 1/14.4, where the page alert could never fire, and accept one just above", function () {
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, availability: { objective: MIN_OBJECTIVE } }), [
            `\`slo.availability.objective\` is ${JSON.stringify(MIN_OBJECTIVE)}; ${OBJECTIVE_RULE}`,
        ]);
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, availability: { objective: 0.9306 } }), []);
    });

    it("name the latency objective, with the whole rule, when it is out of range", function () {
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, latency: { thresholdSeconds: 0.25, objective: 0.9 } }, "hello-service:slo"), [
            `\`hello-service:slo.latency.objective\` is 0.9; ${OBJECTIVE_RULE}`,
        ]);
    });

    it("accept a window of 7d and of 90d, the ends of the range, and a three-digit count only if it is in range", function () {
        for (const window of ["7d", "90d", "30d"]) assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, window }), [], window);
        assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, window: "100d" }), [`\`slo.window\` is "100d"; ${WINDOW_RULE}`]);
    });

    it("refuse a window in other units even when the number would be in range", function () {
        for (const window of ["14w", "30h", " 30d", "30d "]) {
            assert.deepEqual(validateSloSettings({ ...DEFAULT_SLO, window }), [`\`slo.window\` is ${JSON.stringify(window)}; ${WINDOW_RULE}`]);
        }
    });

    it("report settings with whole sections missing (read from JSON) as problems, not as a crash", function () {
        const problems = validateSloSettings({ window: "30d" } as unknown as SloSettings);
        assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(";"))), [
            "`slo.availability.objective` is undefined",
            "`slo.latency.objective` is undefined",
            "`slo.latency.thresholdSeconds` is undefined",
        ]);
    });

    it("throw one error with each problem on its own line, under the `slo` key unless told otherwise", function () {
        const expected = "Invalid service level objectives:\n" +
            `  - \`slo.availability.objective\` is 0.5; ${OBJECTIVE_RULE}\n` +
            `  - \`slo.window\` is "1y"; ${WINDOW_RULE}`;
        assert.throws(() => resolveSloSettings({ availability: { objective: 0.5 }, window: "1y" }), (e: Error) => e.message === expected);
        assert.throws(
            () => sloObjectivesGroup({ ...DEFAULT_SLO, availability: { objective: 0.5 }, window: "1y" }),
            (e: Error) => e.message === expected,
        );
    });
});

describe("monitoring edges: rule files", function () {
    let dir: string;
    beforeEach(() => (dir = tempDir("rule-files")));
    afterEach(() => removeDir(dir));
    const group = (name: string) => `groups:\n  - name: ${name}\n    rules:\n      - record: x:${name}\n        expr: vector(1)\n`;

    it("reads only *.rules.yaml from the rules directory, in name order: a README or a backup there is not shipped", function () {
        fs.writeFileSync(path.join(dir, "b.rules.yaml"), group("b"));
        fs.writeFileSync(path.join(dir, "a.rules.yaml"), group("a"));
        fs.writeFileSync(path.join(dir, "README.md"), "# Rules\n");
        fs.writeFileSync(path.join(dir, "a.rules.yaml.bak"), "not yaml: [\n");
        assert.deepEqual(ruleFiles(dir), [path.join(dir, "a.rules.yaml"), path.join(dir, "b.rules.yaml")]);
        assert.deepEqual(shippedRuleGroups(dir).map((g) => g.name), ["a", "b"]);
    });

    it("refuses a *.rules.yaml without a groups list, naming the file", function () {
        fs.writeFileSync(path.join(dir, "broken.rules.yaml"), "rules: []\n");
        assert.throws(() => shippedRuleGroups(dir), (e: Error) =>
            e.message.endsWith("broken.rules.yaml: not a Prometheus rule file (no `groups:` list)"));
    });

    it("writes a long expression on one line, as it reads in the PrometheusRule diff", function () {
        const expr = `sum(rate(http_requests_total{job="hello", code=~"5.."}[5m])) / sum(rate(http_requests_total{job="hello"}[5m])) > 0.05`;
        const text = toRuleFile([{ name: "g", rules: [{ alert: "A", expr }] }]);
        assert.ok(text.split("\n").includes(`        expr: ${expr}`), text);
    });
});

describe("monitoring edges: runbook links", function () {
    it("accepts a plain-http runbookBaseUrl, an internal wiki's", function () {
        const alert = ruleGroups({ slo: DEFAULT_SLO, runbookBaseUrl: "http://wiki.internal/hello" })
            .flatMap((g) => g.rules)
            .find((r) => r.alert !== undefined)!;
        assert.match(alert.annotations!.runbook_url!, /^http:\/\/wiki\.internal\/hello\/monitoring\/runbooks\/hello-[a-z0-9-]+\.md$/);
    });
});

describe("monitoring edges: the SLO dashboard's objectives", function () {
    const slo = dashboards({ slo: DEFAULT_SLO }).find((d) => d.uid === "hello-slo")!;
    const queries = panelQueries(slo);
    const objectiveOf = (name: string) => `max(slo:objective:ratio{job="$job", slo="${name}"})`;

    it("shows each SLO's own objective, and computes its error budget from it", function () {
        const [availability, latency] = ["availability", "latency"].map((name) => queries.filter((q) => q.expr.includes(objectiveOf(name))));
        assert.deepEqual(availability.map((q) => q.panel), ["Objective", "Error budget remaining"]);
        assert.deepEqual(latency.map((q) => q.panel), ["Objective", "Error budget remaining"]);
        assert.equal(availability[0].expr, objectiveOf("availability"));
        assert.equal(latency[0].expr, objectiveOf("latency"));
        assert.ok(availability[1].expr.endsWith(`/ (1 - ${objectiveOf("availability")})`), availability[1].expr);
        assert.ok(latency[1].expr.endsWith(`/ (1 - ${objectiveOf("latency")})`), latency[1].expr);
        assert.notEqual(availability[1], latency[1]);
    });
});
