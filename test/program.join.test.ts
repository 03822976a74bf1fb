/**
 * The program under mocks for a stack that joins the kube-prometheus-stack its cluster already runs
 * (existingMonitoringRelease): it installs the service, its ServiceMonitor, rules and dashboards, labelled so that the
 * existing Prometheus and Grafana pick them up, and nothing of the monitoring stack itself; what it exports still
 * says how to reach Grafana; and the policy pack passes it as it passes a stack that installs its own.
 */
import * as assert from "assert";
import { DASHBOARDS_CHART, projectPath } from "../components/localChart";
import { UNKNOWN } from "../policy/testing";
import { CapturedResource, configuredStack, ProgramRun, runProgram, stackConfig, TEST_SECRETS } from "../scripts/lib/program";
import type { RawStackConfig } from "../stacks/load";
import { INSTALLED_MONITORING_KEYS } from "../stacks/rules";
import { helmTemplate } from "./support/chart";
import { findings, toWire } from "./support/policy";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const JOIN = {
    "hello-service:existingMonitoringRelease": "prom",
    "hello-service:monitoringNamespace": "observability",
};

/**
 * A committed stack switched to join `prom` in `observability`, as its platform engineer would: the keys of the stack
 * it no longer installs (prod's and staging's storageClass) taken out, and only the secret such a stack still has, the
 * registry's.
 */
function joining(stack: "dev" | "staging" | "prod", values: Record<string, string> = {}): RawStackConfig {
    const config = stack === "dev" ? stackConfig("dev") : stackConfig(stack, {
        values: { "hello-service:registryUsername": "ci-bot" },
        secrets: { "hello-service:registryPassword": TEST_SECRETS["hello-service:registryPassword"] },
    });
    const installedOnly = new Set<string>(INSTALLED_MONITORING_KEYS.map((k) => `hello-service:${k}`));
    const kept = Object.entries(config.values).filter(([key]) => !installedOnly.has(key));
    return { ...config, values: { ...Object.fromEntries(kept), ...JOIN, ...values } };
}

function one(run: ProgramRun, type: string, name: string): CapturedResource {
    const found = run.resources.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
}

describe("the program joining an existing kube-prometheus-stack, under mocks", function () {
    const runs = new Map<string, ProgramRun>();

    before(async function () {
        const configs: [string, RawStackConfig, boolean?][] = [
            ["dev", joining("dev")],
            ["staging", joining("staging")],
            ["prod", joining("prod", { "hello-service:grafanaDashboardLabel": "dashboards.example.com/load", "hello-service:grafanaDashboardLabelValue": "yes" })],
            ["prod (preview)", joining("prod"), true],
            ["prod (installs, own dashboard label)", stackConfig("prod", {
                values: { "hello-service:registryUsername": "ci-bot", "hello-service:grafanaDashboardLabel": "dashboards.example.com/load" },
                secrets: { ...TEST_SECRETS },
            })],
        ];
        const results = await Promise.all(configs.map(([, config, preview]) => runProgram(config, { preview })));
        configs.forEach(([name], i) => runs.set(name, results[i]));
        for (const [name, run] of runs) assert.strictEqual(run.error, undefined, `the ${name} program failed: ${run.error}`);
    });

    for (const stack of ["dev", "staging", "prod"] as const) {
        describe(`stack ${stack}`, function () {
            let run: ProgramRun;
            before(() => (run = runs.get(stack)!));

            it("installs no kube-prometheus-stack, no monitoring namespace, no Grafana admin or Alertmanager Secret", function () {
                const components = run.resources.filter((r) => !r.custom).map((r) => r.type).sort();
                assert.deepStrictEqual(components, ["platform:index:ServiceImage", "platform:index:ServiceMonitoring", "platform:index:ServiceRelease"]);
                assert.deepStrictEqual(run.resources.filter((r) => r.type === RELEASE).map((r) => r.name).sort(), ["hello", "hello-dashboards"]);
                assert.deepStrictEqual(run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.name), ["hello"]);
                const secrets = run.resources.filter((r) => r.type === "kubernetes:core/v1:Secret").map((r) => r.name);
                assert.deepStrictEqual(secrets, stack === "dev" ? [] : ["hello-pull"], "only the image pull Secret");
                assert.ok(!run.resources.some((r) => r.type.startsWith("random:")), "no generated Grafana password");
            });

            it("labels the ServiceMonitor release: prom, the label the existing Prometheus selects by, and the chart renders it", async function () {
                const values = one(run, RELEASE, "hello").inputs.values;
                assert.deepStrictEqual(values.serviceMonitor.labels, { release: "prom" });
                const monitor = (await helmTemplate(values, { releaseName: "hello", namespace: "hello" })).find((m) => m.kind === "ServiceMonitor")!;
                assert.strictEqual(monitor.metadata.labels?.release, "prom");
                assert.strictEqual(monitor.metadata.labels?.["app.kubernetes.io/instance"], "hello", "the chart's own labels stay");
            });

            it("labels the PrometheusRule release: prom, and ships it and the dashboards into the service's namespace", function () {
                const rule = one(run, RULE, "hello-rules").inputs.metadata;
                assert.deepStrictEqual([rule.namespace, rule.labels.release, rule.labels["app.kubernetes.io/part-of"]], ["hello", "prom", "hello"]);
                assert.strictEqual(one(run, RELEASE, "hello-dashboards").inputs.namespace, "hello");
            });

            it("lets the existing stack's namespace, not one of its own, scrape the pods", function () {
                assert.deepStrictEqual(one(run, RELEASE, "hello").inputs.values.networkPolicy.ingress.namespaces[0], "observability");
            });

            it("waits for no monitoring release, the CRDs being there already: only for its image, namespace and pull Secret", function () {
                const own = /(docker:index\/image:Image::hello|kubernetes:core\/v1:Namespace::hello|kubernetes:core\/v1:Secret::hello-pull)$/;
                for (const r of [one(run, RELEASE, "hello"), one(run, RULE, "hello-rules")]) {
                    assert.deepStrictEqual(r.dependencies.filter((urn) => !own.test(urn)), [], r.name);
                }
            });

            it("exports how to reach the existing Grafana, no password of its own, and only its own Helm revisions", function () {
                assert.deepStrictEqual(Object.keys(run.outputs).sort(),
                    ["grafanaAccess", "imageRef", "namespace", "releaseRevisions", "serviceAccess", "serviceName"]);
                assert.strictEqual(run.outputs.grafanaAccess.value, stack === "dev"
                    ? "kubectl --namespace observability port-forward svc/prom-grafana 3000:80, then http://localhost:3000"
                    : `http://grafana.${stack === "staging" ? "staging." : "internal."}example.com`);
                assert.deepStrictEqual(run.outputs.releaseRevisions.value, { service: 1 });
            });

            it(`passes every mandatory policy with policy/config/${stack}.json, each run (none skipped)`, async function () {
                const { violations, skipped, applied } = await findings(run, stack, "mandatory");
                assert.deepStrictEqual([...violations, ...skipped], []);
                assert.ok(applied.includes(`pinned-helm-charts ${RELEASE}::hello-dashboards`), "the dashboards' chart, at its new version");
                assert.ok(applied.includes(`pod-security-restricted ${RELEASE}::hello`), "the pods inside the service release");
            });
        });
    }

    it("dev's dashboards carry the sidecar's default label, grafana_dashboard: \"1\", beside release: prom", async function () {
        const values = one(runs.get("dev")!, RELEASE, "hello-dashboards").inputs.values;
        assert.deepStrictEqual(values.sidecarLabel, { name: "grafana_dashboard", value: "1" });
        assert.strictEqual(values.labels.release, "prom");
    });

    it("prod's dashboards carry the label its Grafana's sidecar was given instead", async function () {
        const values = one(runs.get("prod")!, RELEASE, "hello-dashboards").inputs.values;
        const maps = await helmTemplate(values, { chartDir: projectPath(DASHBOARDS_CHART), releaseName: "hello-dashboards", namespace: "hello" });
        assert.ok(maps.length > 0);
        for (const cm of maps) {
            assert.strictEqual(cm.metadata.labels?.["dashboards.example.com/load"], "yes", cm.metadata.name);
            assert.strictEqual(cm.metadata.labels?.grafana_dashboard, undefined, cm.metadata.name);
        }
    });

    it("a stack that installs its own gives its Grafana's sidecar the stack's dashboard label, and its dashboards the same", function () {
        const run = runs.get("prod (installs, own dashboard label)")!;
        const sidecar = one(run, RELEASE, "monitoring").inputs.values.grafana.sidecar.dashboards;
        assert.deepStrictEqual([sidecar.label, sidecar.labelValue], ["dashboards.example.com/load", "1"]);
        assert.deepStrictEqual(one(run, RELEASE, "hello-dashboards").inputs.values.sidecarLabel, { name: "dashboards.example.com/load", value: "1" });
        assert.strictEqual(one(run, RELEASE, "hello").inputs.values.serviceMonitor.labels, undefined, "its Prometheus selects every release's");
    });

    it("in preview (the image digest unknown), every mandatory policy still runs and passes", async function () {
        const run = runs.get("prod (preview)")!;
        assert.strictEqual(toWire(one(run, RELEASE, "hello").inputs.values.image.digest), UNKNOWN, "the capture is a real preview");
        const { violations, skipped } = await findings(run, "prod", "mandatory");
        assert.deepStrictEqual([...violations, ...skipped], []);
    });

    it("refuses, before creating anything, a stack that joins but keeps its Grafana password and webhook", async function () {
        const run = await runProgram({ ...configuredStack("prod"), values: { ...configuredStack("prod").values, ...JOIN } });
        assert.deepStrictEqual(run.resources, []);
        assert.match(run.error ?? "", /hello-service:grafanaAdminPassword = \[secret\]: configures the kube-prometheus-stack a stack installs; this stack joins the existing release prom/);
        assert.match(run.error ?? "", /hello-service:alertWebhookUrl = \[secret\]: configures/);
        assert.ok(!(run.error ?? "").includes(TEST_SECRETS["hello-service:alertWebhookUrl"]));
    });
});
