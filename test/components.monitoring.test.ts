/**
 * What the on-call engineer and the platform team rely on in the monitoring stack's configuration, the chart
 * checksums and the deploy's diagnostics: each builder's whole output, checked without mocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { buildAlertmanagerConfig, buildMonitoringValues, monitoringChartSource, MonitoringProfile } from "../components/monitoringStack";
import { ClusterEvent, rolloutProblems, watchRollout } from "../components/rolloutDiagnostics";
import { parseImageRef } from "../components/imageReference";
import { sourceRevision } from "../components/serviceImage";
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

describe("monitoringChartSource", function () {
    it("names the chart under an OCI mirror written with trailing slashes", function () {
        assert.deepStrictEqual(monitoringChartSource("oci://mirror.example.com/charts//"),
            { chart: "oci://mirror.example.com/charts/kube-prometheus-stack" });
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

describe("sourceRevision, when git answers oddly", function () {
    let bin: string;
    let savedPath: string | undefined;
    /** Puts a `git` first on PATH that prints `output`, as a wrapper or an odd git version might. */
    const gitPrinting = (output: string) =>
        fs.writeFileSync(path.join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' '${output}'\n`, { mode: 0o755 });
    beforeEach(function () {
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-git-"));
        savedPath = process.env.PATH;
        process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    });
    afterEach(function () {
        process.env.PATH = savedPath;
        fs.rmSync(bin, { recursive: true, force: true });
    });

    it("takes a commit only with a time in whole seconds, else stamps commit \"unknown\" at time 0", function () {
        gitPrinting("abc123def456 1700000000");
        assert.deepStrictEqual(sourceRevision(os.tmpdir()), { commit: "abc123def456", time: 1700000000 });
        for (const odd of ["abc123def456 x1700000000", "abc123def456 1700000000x", "abc123def456"]) {
            gitPrinting(odd);
            assert.deepStrictEqual(sourceRevision(os.tmpdir()), { commit: "unknown", time: 0 }, odd);
        }
    });
});

describe("parseImageRef, on references that only look like a digest", function () {
    const DIGEST = `sha256:${"a".repeat(64)}`;
    it("refuses a reference with anything before the name or after the digest", function () {
        assert.throws(() => parseImageRef(`mirror@ghcr.io/acme/hello@${DIGEST}`), /expected an image reference by digest/);
        assert.throws(() => parseImageRef(`ghcr.io/acme/hello@${DIGEST}0`), /expected an image reference by digest/);
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

    it("stops as soon as the release fails, too", async function () {
        let calls = 0;
        let failed!: (err: Error) => void;
        const until = new Promise<void>((_, reject) => (failed = reject));
        const { done } = watchRollout({
            context: "unused", namespace: "hello", release: "hello", until, timeoutMs: 10_000, pollMs: 5,
            report: () => undefined, listEvents: async () => { calls++; return []; },
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const failedAt = Date.now();
        failed(new Error("release failed"));
        await done;
        assert.ok(Date.now() - failedAt < 1000, "the watch ended with the release, not at Helm's timeout");
        const after = calls;
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.strictEqual(calls, after, "no poll after the release failed");
    });
});
