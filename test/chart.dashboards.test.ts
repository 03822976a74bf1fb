/**
 * charts/grafana-dashboards: the service's dashboards, as values, rendered to the ConfigMaps Grafana's sidecar reads.
 */
import * as assert from "assert";
import { DASHBOARDS_CHART, projectPath } from "../components/localChart";
import { dashboardValues } from "../components/serviceMonitoring";
import { DASHBOARD_FOLDER, dashboards } from "../monitoring/dashboards";
import { helmLint, helmTemplate, ToolError } from "./support/chart";

const CHART = { chartDir: projectPath(DASHBOARDS_CHART), releaseName: "hello-dashboards", namespace: "hello" };

async function renderError(values: object): Promise<string> {
    try {
        await helmTemplate(values, CHART);
    } catch (err) {
        if (err instanceof ToolError || err instanceof Error) return err.message;
    }
    assert.fail("the chart rendered");
}

describe("charts/grafana-dashboards", function () {
    const shipped = dashboards();
    const values = dashboardValues(shipped, DASHBOARD_FOLDER, { labels: { "app.kubernetes.io/part-of": "hello" }, chartChecksum: "abc123" });

    it("GIVEN the program's dashboards THEN it lints clean", async function () {
        await helmLint(values, CHART);
    });

    it("GIVEN the program's dashboards THEN each becomes one ConfigMap holding exactly its JSON model, nulls included", async function () {
        const maps = await helmTemplate(values, CHART);
        assert.deepStrictEqual(maps.map((m) => `${m.kind}/${m.metadata.name}`).sort(),
            shipped.map((d) => `ConfigMap/dashboard-${d.uid}`).sort());
        for (const d of shipped) {
            const cm = maps.find((m) => m.metadata.name === `dashboard-${d.uid}`)!;
            const data = cm.data as Record<string, string>;
            assert.deepStrictEqual(Object.keys(data), [d.fileName]);
            assert.deepStrictEqual(JSON.parse(data[d.fileName]), d.json);
        }
    });

    it("GIVEN labels, a folder and the chart's checksum THEN every ConfigMap carries them, with the sidecar's label", async function () {
        for (const cm of await helmTemplate(values, CHART)) {
            assert.strictEqual(cm.metadata.namespace, "hello");
            assert.strictEqual(cm.metadata.labels?.grafana_dashboard, "1");
            assert.strictEqual(cm.metadata.labels?.["app.kubernetes.io/part-of"], "hello");
            assert.strictEqual(cm.metadata.annotations?.grafana_folder, DASHBOARD_FOLDER);
            assert.strictEqual(cm.metadata.annotations?.["hello.platform/chart-checksum"], "abc123", "a template change shows");
        }
    });

    it("GIVEN a dashboard under another uid's key THEN it refuses, naming the key and the uid", async function () {
        const wrong = { ...values, dashboards: { "hello-other": shipped[0].json } };
        assert.match(await renderError(wrong), new RegExp(`dashboards\\.hello-other: the dashboard's uid is "${shipped[0].uid}"; each dashboard is keyed by its own uid`));
    });

    it("GIVEN no folder, or a dashboard without panels THEN the schema names the value", async function () {
        assert.match(await renderError({ ...values, folder: "" }), /at '\/folder': minLength: got 0, want 1/);
        const { panels: _panels, ...noPanels } = shipped[0].json as Record<string, unknown>;
        assert.match(await renderError({ ...values, dashboards: { [shipped[0].uid]: noPanels } }), /at '\/dashboards\/hello-overview': missing property 'panels'/);
    });
});
