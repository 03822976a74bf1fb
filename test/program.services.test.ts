/**
 * Two services deployed with the project's components into one cluster (the test program test/e2e/services), under
 * mocks: each in its own namespace or both in one, beside a kube-prometheus-stack the stack installs or one the cluster
 * already runs. Each service's objects are named after it, so neither can take over the other's; in a shared namespace
 * the charts render no object twice (Helm would refuse the second release).
 */
import * as assert from "assert";
import * as path from "path";
import { DASHBOARDS_CHART, projectPath } from "../components/localChart";
import { CapturedResource, ProgramRun, ROOT, runProgram, stackConfig } from "../scripts/lib/program";
import type { ServiceEntry } from "./e2e/services/services";
import { helmTemplate } from "./support/chart";

const PROGRAM = path.join(ROOT, "test", "e2e", "services");
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const image = (name: string) => `ghcr.io/acme/${name}@sha256:${"e".repeat(64)}`;
const JOIN = { "hello-service:existingMonitoringRelease": "prom", "hello-service:monitoringNamespace": "observability" };

/** The dev stack's settings running the program for `services`, joining `prom` or not. */
function run(services: readonly ServiceEntry[], join: boolean): Promise<ProgramRun> {
    return runProgram(stackConfig("dev", { values: { ...(join ? JOIN : {}), "services:list": JSON.stringify(services) } }), { dir: PROGRAM });
}

function one(r: ProgramRun, type: string, name: string): CapturedResource {
    const found = r.resources.filter((x) => x.type === type && x.name === name);
    assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
}

/** `<Kind>/<name>` of every object the two services' charts render into their namespace. */
async function renderedObjects(r: ProgramRun, service: string, namespace: string): Promise<string[]> {
    const release = one(r, RELEASE, service).inputs;
    const dashboards = one(r, RELEASE, `${service}-dashboards`).inputs;
    const objects = [
        ...await helmTemplate(release.values, { releaseName: release.name, namespace }),
        ...await helmTemplate(dashboards.values, { chartDir: projectPath(DASHBOARDS_CHART), releaseName: dashboards.name, namespace }),
    ];
    const rule = one(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", `${service}-rules`).inputs.metadata;
    return [...objects.map((o) => `${o.kind}/${o.metadata.name}`), `PrometheusRule/${rule.name}`];
}

describe("two services, one cluster: the components under mocks", function () {
    const own: ServiceEntry[] = [
        { name: "orders", namespace: "orders", image: image("orders") },
        { name: "billing", namespace: "billing", image: image("billing") },
    ];
    const shared: ServiceEntry[] = [
        { name: "orders", namespace: "apps", image: image("orders") },
        { name: "billing", namespace: "apps", createNamespace: false, image: image("billing") },
    ];
    const platformNamespace: ServiceEntry[] = shared.map((s) => ({ ...s, createNamespace: false }));
    const runs = new Map<string, ProgramRun>();

    before(async function () {
        const cases: [string, Promise<ProgramRun>][] = [
            ["joined, own namespaces", run(own, true)],
            ["joined, shared namespace", run(shared, true)],
            ["installed, the platform's namespace", run(platformNamespace, false)],
        ];
        for (const [name, pending] of cases) runs.set(name, await pending);
        for (const [name, r] of runs) assert.strictEqual(r.error, undefined, `${name}: ${r.error}`);
    });

    describe("each in its own namespace, joining the cluster's kube-prometheus-stack", function () {
        let r: ProgramRun;
        before(() => (r = runs.get("joined, own namespaces")!));

        it("names each release, its Service and its Prometheus job after the service, not hello", function () {
            for (const service of ["orders", "billing"]) {
                const release = one(r, RELEASE, service).inputs;
                assert.deepStrictEqual([release.name, release.namespace], [service, service]);
                assert.strictEqual(r.outputs[service].value && (r.outputs[service].value as { serviceName: string }).serviceName, service);
            }
            assert.ok(!JSON.stringify(r.resources.map((x) => [x.name, x.inputs.name, x.inputs.metadata?.name])).includes("hello"),
                "nothing is named hello");
        });

        it("creates each service's namespace, Pod Security restricted, and installs no monitoring stack", function () {
            assert.deepStrictEqual(r.resources.filter((x) => x.type === NAMESPACE).map((x) => x.inputs.metadata.name).sort(), ["billing", "orders"]);
            for (const ns of r.resources.filter((x) => x.type === NAMESPACE)) {
                assert.strictEqual(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
            }
            assert.deepStrictEqual(r.resources.filter((x) => x.type === RELEASE).map((x) => x.name).sort(),
                ["billing", "billing-dashboards", "orders", "orders-dashboards"]);
        });

        it("gives each its own rules and dashboards, all labelled for the existing Prometheus and Grafana", function () {
            for (const service of ["orders", "billing"]) {
                const rule = one(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", `${service}-rules`).inputs;
                assert.deepStrictEqual([rule.metadata.namespace, rule.metadata.labels.release], [service, "prom"]);
                assert.match(JSON.stringify(rule.spec), new RegExp(`up\\{job=\\\\"${service}\\\\"\\}`), "its own job's rules");
                const dashboards = one(r, RELEASE, `${service}-dashboards`).inputs.values;
                assert.deepStrictEqual(Object.keys(dashboards.dashboards), [`${service}-overview`]);
                assert.deepStrictEqual([dashboards.folder, dashboards.labels.release, dashboards.sidecarLabel.name], [service, "prom", "grafana_dashboard"]);
                assert.deepStrictEqual(one(r, RELEASE, service).inputs.values.serviceMonitor.labels, { release: "prom" });
            }
        });

        it("points both at the existing stack's Grafana", function () {
            assert.strictEqual(r.outputs.grafanaAccess.value,
                "kubectl --namespace observability port-forward svc/prom-grafana 3000:80, then http://localhost:3000");
        });
    });

    describe("both in one namespace, the first service creating it", function () {
        let r: ProgramRun;
        before(() => (r = runs.get("joined, shared namespace")!));

        it("creates the namespace once, and installs the second service into it once it exists", function () {
            assert.deepStrictEqual(r.resources.filter((x) => x.type === NAMESPACE).map((x) => x.inputs.metadata.name), ["apps"]);
            assert.strictEqual(one(r, RELEASE, "billing").inputs.namespace, "apps");
            const billing = r.resources.find((x) => x.type === "platform:index:ServiceRelease" && x.name === "billing")!;
            // The SDK registers a component's children only once its dependsOn exist, and deletes them first.
            assert.ok(billing.dependencies.some((urn) => urn.endsWith("ServiceRelease$kubernetes:core/v1:Namespace::apps")), billing.dependencies.join(", "));
        });

        it("renders no object of one service under a name the other's also renders", async function () {
            const [orders, billing] = await Promise.all([renderedObjects(r, "orders", "apps"), renderedObjects(r, "billing", "apps")]);
            assert.ok(orders.includes("Deployment/orders") && billing.includes("ServiceMonitor/billing"), `${orders}\n${billing}`);
            assert.deepStrictEqual(orders.filter((o) => billing.includes(o)), []);
        });
    });

    describe("both in the platform team's namespace, beside a kube-prometheus-stack the stack installs", function () {
        let r: ProgramRun;
        before(() => (r = runs.get("installed, the platform's namespace")!));

        it("creates no service namespace, and makes both releases and rules wait for the monitoring release's CRDs", function () {
            assert.deepStrictEqual(r.resources.filter((x) => x.type === NAMESPACE).map((x) => x.inputs.metadata.name), ["monitoring"]);
            const monitoring = r.resources.find((x) => x.type === "platform:index:MonitoringStack")!;
            assert.ok(monitoring);
            for (const service of ["orders", "billing"]) {
                for (const dependent of [one(r, RELEASE, service), one(r, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", `${service}-rules`)]) {
                    assert.ok(dependent.dependencies.some((urn) => urn.endsWith("MonitoringStack$kubernetes:helm.sh/v3:Release::monitoring")),
                        `${dependent.name}: ${dependent.dependencies.join(", ")}`);
                }
            }
        });

        it("labels nothing for a release selector: the installed Prometheus selects every release's", function () {
            assert.strictEqual(one(r, RELEASE, "orders").inputs.values.serviceMonitor.labels, undefined);
            assert.deepStrictEqual(one(r, RELEASE, "billing-dashboards").inputs.values.labels, { "app.kubernetes.io/part-of": "billing" });
        });
    });
});
