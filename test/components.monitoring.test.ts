/**
 * What the on-call engineer and the platform team rely on in the monitoring stack's configuration, the chart
 * checksums and the deploy's diagnostics: each builder's whole output, checked without mocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { buildAlertmanagerConfig, buildMonitoringValues, MonitoringProfile } from "../components/monitoringStack";
import { ClusterEvent, rolloutProblems, watchRollout } from "../components/rolloutDiagnostics";
import { chartChecksum, DASHBOARDS_CHART, projectPath, readChartYaml, SERVICE_CHART } from "../components/localChart";

const PROFILE: MonitoringProfile = {
    alertmanager: true, nodeExporter: true, retention: "7d",
    resources: { cpuRequest: "200m", memoryRequest: "1Gi", memoryLimit: "2Gi" },
};

describe("buildAlertmanagerConfig, as the on-call engineer gets it", function () {
    it("groups alerts, drops Watchdog, repeats critical ones hourly, lets them silence warnings, and resolves to the webhook", function () {
        assert.deepStrictEqual(parse(buildAlertmanagerConfig("https://hooks.example.com/abc")), {
            route: {
                receiver: "webhook",
                group_by: ["alertname", "namespace", "job"],
                group_wait: "30s",
                group_interval: "5m",
                repeat_interval: "4h",
                routes: [
                    { receiver: "null", matchers: ['alertname = "Watchdog"'] },
                    { receiver: "webhook", matchers: ['severity = "critical"'], repeat_interval: "1h" },
                ],
            },
            inhibit_rules: [{
                source_matchers: ['severity = "critical"'],
                target_matchers: ['severity = "warning"'],
                equal: ["alertname", "namespace"],
            }],
            receivers: [
                { name: "null" },
                { name: "webhook", webhook_configs: [{ url: "https://hooks.example.com/abc", send_resolved: true }] },
            ],
        });
    });
});

describe("buildMonitoringValues, for a profile that leaves the defaults", function () {
    const values = buildMonitoringValues({ profile: PROFILE }) as any;

    it("installs the operator's CRDs with the chart", function () {
        assert.deepStrictEqual(values.crds, { enabled: true });
    });

    it("sizes Prometheus from the profile: CPU and memory requests, a memory limit", function () {
        assert.deepStrictEqual(values.prometheus.prometheusSpec.resources, {
            requests: { cpu: "200m", memory: "1Gi" },
            limits: { memory: "2Gi" },
        });
    });

    it("scrapes the control plane and installs Grafana's stock dashboards unless the profile turns them off", function () {
        for (const component of ["kubeEtcd", "kubeScheduler", "kubeControllerManager", "kubeProxy"]) {
            assert.deepStrictEqual(values[component], { enabled: true }, component);
        }
        assert.strictEqual(values.grafana.defaultDashboardsEnabled, true);
        const explicit = buildMonitoringValues({ profile: { ...PROFILE, controlPlane: true, defaultDashboards: true } }) as any;
        assert.deepStrictEqual(explicit.kubeEtcd, { enabled: true });
        assert.strictEqual(explicit.grafana.defaultDashboardsEnabled, true);
    });

    it("has Grafana's sidecar load the dashboards ConfigMaps", function () {
        assert.strictEqual(values.grafana.sidecar.dashboards.enabled, true);
    });

    it("turns Grafana's Ingress on for a host", function () {
        const withHost = buildMonitoringValues({ profile: PROFILE, grafanaHost: "grafana.example.com" }) as any;
        assert.deepStrictEqual(withHost.grafana.ingress, { enabled: true, hosts: ["grafana.example.com"] });
    });
});

describe("chartChecksum, as the preview shows a chart change", function () {
    let root: string;
    /** A chart directory holding `files` (name to content), written in the given order. */
    const chart = (name: string, files: Record<string, string>) => {
        const dir = path.join(root, name);
        for (const [file, content] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, file), content);
        }
        return chartChecksum(dir);
    };
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "checksum-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("is 16 hex characters, the same whatever order the files were written in", function () {
        const files = Object.fromEntries(["b.yaml", "a.yaml", "d.yaml", "c.yaml", "templates/z.yaml", "templates/m.yaml"]
            .map((f) => [f, `kind: ${f}\n`]));
        const forward = chart("forward", files);
        assert.match(forward, /^[0-9a-f]{16}$/);
        assert.strictEqual(chart("backward", Object.fromEntries(Object.entries(files).reverse())), forward);
    });

    it("changes when content moves from one file name to another", function () {
        assert.notStrictEqual(chart("one", { "ab": "c" }), chart("two", { "a": "bc" }));
        assert.notStrictEqual(chart("three", { "a": "", "sb": "t" }), chart("four", { "a": "s", "b": "t" }));
    });
});

describe("readChartYaml", function () {
    it("reads the name and version of the project's charts, and nothing of a directory without Chart.yaml", function () {
        const dashboards = readChartYaml(projectPath(DASHBOARDS_CHART));
        assert.strictEqual(dashboards.name, "grafana-dashboards");
        assert.match(dashboards.version ?? "", /^\d+\.\d+\.\d+/);
        assert.match(readChartYaml(projectPath(SERVICE_CHART)).version ?? "", /^\d+\.\d+\.\d+/);
        assert.deepStrictEqual(readChartYaml(os.tmpdir()), {});
    });
});

describe("rolloutProblems, at the edges of the deploy", function () {
    const since = new Date("2026-11-26T10:00:00Z");
    const warning = (name: string | undefined, at = "2026-11-26T10:00:05Z"): ClusterEvent => ({
        type: "Warning", reason: "BackOff", message: "  back-off restarting  ", lastTimestamp: at,
        involvedObject: { kind: "Pod", name, namespace: "hello" },
    });

    it("counts an event stamped exactly when the deploy started, and trims the message", function () {
        assert.deepStrictEqual(rolloutProblems([warning("hello-1", "2026-11-26T10:00:00Z")], { release: "hello", since }),
            ["Pod hello/hello-1: BackOff: back-off restarting"]);
    });

    it("leaves out events of other releases and of unnamed objects", function () {
        assert.deepStrictEqual(rolloutProblems([warning("other-1"), warning(undefined), warning("hello")], { release: "hello", since }),
            ["Pod hello/hello: BackOff: back-off restarting"]);
    });

    it("describes an event without kind, namespace, reason or message as well as it can", function () {
        const bare: ClusterEvent = { type: "Warning", lastTimestamp: "2026-11-26T10:00:05Z", involvedObject: { name: "hello-1" } };
        assert.deepStrictEqual(rolloutProblems([bare], { release: "hello", since }), ["object hello-1: Warning: "]);
    });
});

describe("watchRollout, between polls", function () {
    it("waits about two seconds between polls by default", async function () {
        let calls = 0;
        let ready!: () => void;
        const until = new Promise<void>((resolve) => (ready = resolve));
        const { done } = watchRollout({
            context: "unused", namespace: "hello", release: "hello", until, timeoutMs: 10_000,
            report: () => undefined, listEvents: async () => { calls++; return []; },
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        ready();
        await done;
        assert.strictEqual(calls, 1);
    });
});
