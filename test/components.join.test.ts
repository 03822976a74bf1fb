/**
 * What the components need to serve more than one service and to join a kube-prometheus-stack they did not install,
 * checked on their pure builders and the charts they render: type tokens without a service's name (and the alias to
 * the old one), the labels an existing Prometheus and Grafana select by, and how to reach that Grafana.
 */
import * as assert from "assert";
import { componentType, formerComponentType, withFormerType } from "../components/componentType";
import { DASHBOARDS_CHART, projectPath } from "../components/localChart";
import {
    buildMonitoringValues, DEFAULT_DASHBOARD_LABEL, existingMonitoringStack, grafanaServiceName, MonitoringProfile,
} from "../components/monitoringStack";
import { dashboardValues } from "../components/serviceMonitoring";
import { buildServiceValues } from "../components/serviceRelease";
import { BASE_DEFAULTS } from "../stacks/environments";
import { joinedMonitoringStack } from "../stacks/monitoring";
import type { StackSettings } from "../stacks/settings";
import { load } from "./support/stacks";
import { helmTemplate, ToolError } from "./support/chart";

const DIGEST = `sha256:${"a".repeat(64)}`;
const DASHBOARD = { uid: "orders-overview", title: "orders", json: { uid: "orders-overview", title: "orders", panels: [] } };
const DASHBOARDS = { chartDir: projectPath(DASHBOARDS_CHART), releaseName: "orders-dashboards", namespace: "apps" };

describe("the components' type tokens", function () {
    it("carry no service's name: platform:index:<Component>", function () {
        assert.strictEqual(componentType("ServiceRelease"), "platform:index:ServiceRelease");
        assert.strictEqual(formerComponentType("ServiceRelease"), "hello:platform:ServiceRelease");
    });

    it("keep an alias to the former hello:platform: token, after any alias the caller gives", function () {
        assert.deepStrictEqual(withFormerType("MonitoringStack").aliases, [{ type: "hello:platform:MonitoringStack" }]);
        const opts = withFormerType("ServiceMonitoring", { aliases: [{ name: "old-name" }], protect: true });
        assert.deepStrictEqual(opts.aliases, [{ name: "old-name" }, { type: "hello:platform:ServiceMonitoring" }]);
        assert.strictEqual(opts.protect, true, "the caller's options stay");
    });
});

describe("existingMonitoringStack: a kube-prometheus-stack the cluster already runs", function () {
    it("is selected by release: <its release>, loads dashboards labelled grafana_dashboard: \"1\", and is reached by port-forward", function () {
        assert.deepStrictEqual(existingMonitoringStack({ namespace: "observability", release: "prom" }), {
            namespace: "observability",
            selectorLabels: { release: "prom" },
            dashboardLabel: { name: "grafana_dashboard", value: "1" },
            grafanaAccess: "kubectl --namespace observability port-forward svc/prom-grafana 3000:80, then http://localhost:3000",
        });
    });

    it("takes another sidecar label, and its Grafana's host name for the URL", function () {
        const target = existingMonitoringStack({
            namespace: "monitoring", release: "kube-prometheus-stack", dashboardLabel: { name: "dash", value: "on" }, grafanaHost: "grafana.example.com",
        });
        assert.deepStrictEqual([target.dashboardLabel, target.grafanaAccess], [{ name: "dash", value: "on" }, "http://grafana.example.com"]);
    });

    it("names the Grafana Service as the Grafana chart does: the release alone when it says grafana, at most 63 characters", function () {
        assert.strictEqual(grafanaServiceName("kube-prometheus-stack"), "kube-prometheus-stack-grafana");
        assert.strictEqual(grafanaServiceName("grafana-and-prometheus"), "grafana-and-prometheus");
        assert.strictEqual(grafanaServiceName(`${"a".repeat(52)}-x`), `${"a".repeat(52)}-x-grafana`.slice(0, 63));
        assert.strictEqual(grafanaServiceName(`${"a".repeat(55)}-x`).length, 63);
        assert.ok(!grafanaServiceName(`${"a".repeat(62)}-x`).endsWith("-"), "no trailing '-' where it is cut");
    });

    it("is what a stack's settings join, and nothing where they install their own", function () {
        const join = load("staging", { existingMonitoringRelease: "prom", monitoringNamespace: "observability", grafanaDashboardLabelValue: "true" }).settings;
        assert.deepStrictEqual(joinedMonitoringStack(join), existingMonitoringStack({
            namespace: "observability", release: "prom", dashboardLabel: { name: "grafana_dashboard", value: "true" }, grafanaHost: undefined,
        }));
        assert.strictEqual(joinedMonitoringStack({ ...BASE_DEFAULTS } as StackSettings), undefined);
    });
});

describe("the labels an existing stack selects by, on what the charts render", function () {
    it("GIVEN ServiceMonitor labels THEN the chart's ServiceMonitor carries them beside its own", async function () {
        const values = buildServiceValues({ ...BASE_DEFAULTS } as StackSettings, { repository: "r", digest: DIGEST }, { serviceMonitorLabels: { release: "prom" } });
        const monitor = (await helmTemplate(values, { releaseName: "orders", namespace: "apps" })).find((m) => m.kind === "ServiceMonitor")!;
        assert.strictEqual(monitor.metadata.name, "orders");
        assert.strictEqual(monitor.metadata.labels?.release, "prom");
        assert.strictEqual(monitor.metadata.labels?.["app.kubernetes.io/name"], "orders");
    });

    it("GIVEN none THEN the values say nothing about labels: a stack that installs its own sees no change", function () {
        for (const opts of [{}, { serviceMonitorLabels: {} }]) {
            const values = buildServiceValues({ ...BASE_DEFAULTS } as StackSettings, { repository: "r", digest: DIGEST }, opts);
            assert.deepStrictEqual(values.serviceMonitor, { enabled: true, interval: "30s" });
        }
    });

    it("GIVEN the sidecar's label THEN every dashboard ConfigMap carries it, and not the default one", async function () {
        const values = dashboardValues([DASHBOARD], "orders", { labels: { release: "prom" }, dashboardLabel: { name: "example.com/dashboard", value: "" } });
        const [cm] = await helmTemplate(values, DASHBOARDS);
        assert.deepStrictEqual([cm.metadata.labels?.["example.com/dashboard"], cm.metadata.labels?.release], ["", "prom"]);
        assert.strictEqual(cm.metadata.labels?.grafana_dashboard, undefined);
    });

    it("GIVEN no sidecar label THEN kube-prometheus-stack's default, grafana_dashboard: \"1\"", async function () {
        const values = dashboardValues([DASHBOARD], "orders");
        assert.deepStrictEqual(values.sidecarLabel, { name: "grafana_dashboard", value: "1" });
        assert.strictEqual((await helmTemplate(values, DASHBOARDS))[0].metadata.labels?.grafana_dashboard, "1");
    });

    it("GIVEN a label name Kubernetes refuses THEN the chart's schema names the value", async function () {
        const values = dashboardValues([DASHBOARD], "orders", { dashboardLabel: { name: "not a label", value: "1" } });
        const error = await helmTemplate(values, DASHBOARDS).then(() => undefined, (err: ToolError | Error) => err.message);
        assert.match(error ?? "rendered", /sidecarLabel\/name/);
    });

    it("GIVEN a dashboard label THEN the Grafana a stack installs loads dashboards by it", function () {
        const profile: MonitoringProfile = { alertmanager: false, nodeExporter: false, retention: "6h", resources: { cpuRequest: "1", memoryRequest: "1Gi", memoryLimit: "1Gi" } };
        const sidecar = (values: Record<string, any>) => values.grafana.sidecar.dashboards;
        assert.deepStrictEqual([sidecar(buildMonitoringValues({ profile })).label, sidecar(buildMonitoringValues({ profile })).labelValue],
            [DEFAULT_DASHBOARD_LABEL.name, DEFAULT_DASHBOARD_LABEL.value]);
        const custom = sidecar(buildMonitoringValues({ profile, dashboardLabel: { name: "dash", value: "on" } }));
        assert.deepStrictEqual([custom.label, custom.labelValue], ["dash", "on"]);
    });
});
