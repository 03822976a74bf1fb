/**
 * Many services, one cluster, on the real engine and a real Kubernetes API. The cluster already runs what a platform
 * team runs: a kube-prometheus-stack installed with `helm install` (release `prom` in `observability`; the stand-in of
 * the pinned version from the chart mirror: the real CRDs, and the Prometheus resource with the selectors the real
 * chart gives it by default, `release: prom`) and a namespace `apps` for applications. Two stacks of one program
 * (test/e2e/services, the project's components), one per service, `orders` and `billing`, join that stack
 * (`existingMonitoringRelease`) and install into `apps`, which neither creates.
 *
 * Prometheus 3 outside the cluster stands in for the platform's (no operator runs here): it runs the scrape jobs the
 * Prometheus Operator generates from the ServiceMonitors the platform's Prometheus resource selects, and the rules of
 * the PrometheusRules it selects, and scrapes the services' pods at their addresses on the tier's real node.
 *
 * Needs Docker (the image is built and pushed to a registry that requires a login, which the node pulls from) and
 * root (the real node): without them the file skips on a laptop, and fails under CI=true.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";

import { KUBE_PROMETHEUS_STACK } from "../../components/monitoringStack";
import { podSecurityLabels } from "../../components/namespace";
import { POLICIES } from "../../policy/policies";
import { packConfig, runPolicy } from "../../policy/testing";
import { toRuleFile, RuleGroup } from "../../monitoring/ruleGroups";
import { ensureEngine } from "../support/docker";
import { waitFor } from "../../scripts/lib/process";
import {
    api, instantQuery, PrometheusServer, serviceMonitorDiscoveryJobs, ServiceMonitorObject, startPrometheus,
} from "../support/prometheus";
import type { LocalCluster } from "./support/cluster";
import { Helm } from "./support/helm";
import { Infrastructure, pushServiceImage, startInfrastructure } from "./support/infrastructure";
import { createStack, E2eStack, ok, PROJECT } from "./support/stack";
import { ensureToolchain, Toolchain } from "../../scripts/lib/toolchain";
import servicesProgram = require("./services");

const key = (name: string) => `${PROJECT}:${name}`;
/** What the platform team runs. */
const PLATFORM = { release: "prom", namespace: "observability", apps: "apps" } as const;
const SERVICES = ["orders", "billing"] as const;
type Service = (typeof SERVICES)[number];
/** The chart's container port, where the real service listens. */
const CONTAINER_PORT = 8080;

/** A custom resource as far as these specs read it. */
interface Labelled {
    readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Record<string, string>; readonly uid: string; readonly resourceVersion: string };
}

/** /api/v1/targets, as far as these specs read it. */
interface TargetsData {
    readonly activeTargets: readonly { readonly scrapePool: string; readonly labels: Record<string, string>; readonly health: string }[];
}

describe("two services join the kube-prometheus-stack their cluster already runs (e2e)", function () {
    this.timeout(10 * 60_000);
    this.bail(true); // each spec starts from where the previous one left the cluster

    let tools: Toolchain;
    let infra: Infrastructure;
    let cluster: LocalCluster;
    let helm: Helm;
    let image: string;
    let prometheus: PrometheusServer | undefined;
    const stacks = new Map<Service, E2eStack>();
    const json = async (...args: string[]) => JSON.parse(await cluster.kubectl([...args, "--output", "json"]));

    /** The objects of `kind` the platform's Prometheus selects with its `selector` field, as the operator does. */
    async function selectedBy(kind: "servicemonitors" | "prometheusrules", selector: "serviceMonitorSelector" | "ruleSelector") {
        const spec = (await json("get", "prometheus", `${PLATFORM.release}-prometheus`, "--namespace", PLATFORM.namespace)).spec;
        // The real chart's: every namespace, and the objects labelled with its release.
        assert.deepEqual([spec[`${selector === "ruleSelector" ? "rule" : "serviceMonitor"}NamespaceSelector`], spec[selector]],
            [{}, { matchLabels: { release: PLATFORM.release } }], "the platform's Prometheus selects by its release label");
        const items = (await json("get", kind, "--all-namespaces")).items as Labelled[];
        const matchLabels = spec[selector].matchLabels as Record<string, string>;
        return items.filter((o) => Object.entries(matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
    }
    const names = (objects: readonly Labelled[]) => objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
    const podOf = async (service: Service) => (await cluster.kubectl(["get", "pods", "--namespace", PLATFORM.apps,
        "--selector", `app.kubernetes.io/instance=${service}`, "--output", "jsonpath={.items[0].metadata.name} {.items[0].status.podIP}"])).trim().split(" ");

    before(async function () {
        this.timeout(60 * 60_000); // a machine's first run builds the toolchain (about 30 min on two cores)
        const engine = await ensureEngine();
        if (!engine.ok) {
            if (process.env.CI === "true") throw new Error(`the many-services proof needs Docker under CI=true: ${engine.reason}`);
            this.skip();
        }
        tools = await ensureToolchain();
        infra = await startInfrastructure(this, tools, __filename);
        const { registry, mirror } = infra;
        cluster = infra.cluster;
        helm = new Helm(path.join(tools.bin, "helm"), cluster, {
            ...process.env, HELM_CACHE_HOME: path.join(cluster.dir, "helm-cache"), HELM_CONFIG_HOME: path.join(cluster.dir, "helm-config"),
        });

        // What the platform team runs, installed the way it installs it: not by this project.
        await helm.install(PLATFORM.release, KUBE_PROMETHEUS_STACK.chart, { repo: mirror.url, version: KUBE_PROMETHEUS_STACK.version, namespace: PLATFORM.namespace });
        await cluster.kubectl(["apply", "-f", "-"], JSON.stringify({
            apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.apps, labels: podSecurityLabels("restricted") },
        }));

        image = await pushServiceImage(infra, "services", "0.1.0-e2e");

        for (const service of SERVICES) {
            const stack = await createStack(`e2e-${service}`, { bin: tools.bin, env: { KUBECONFIG: cluster.kubeconfig }, program: servicesProgram });
            stacks.set(service, stack);
            await stack.configure({
                [key("environment")]: "dev",
                [key("kubeContext")]: cluster.context,
                [key("registry")]: registry.host,
                [key("registryUsername")]: registry.username,
                [key("existingMonitoringRelease")]: PLATFORM.release,
                [key("monitoringNamespace")]: PLATFORM.namespace,
                [key("helmTimeout")]: "120",
                "services:list": JSON.stringify([{ name: service, namespace: PLATFORM.apps, createNamespace: false, image }]),
            }, { [key("registryPassword")]: registry.password });
        }
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await prometheus?.stop();
        for (const stack of stacks.values()) {
            await stack.destroy();
            await stack.remove();
        }
        await infra?.stop();
    });

    it("1. GIVEN the first preview of each stack THEN it plans the service's objects and nothing of a monitoring stack, and the pack passes on the engine's inputs", async function () {
        for (const service of SERVICES) {
            const preview = await stacks.get(service)!.preview();
            ok(preview);
            const steps = preview.events.map((e) => e.resourcePreEvent?.metadata).filter((m) => m !== undefined);
            assert.deepEqual(steps.filter((m) => m.type.startsWith("kubernetes:")).map((m) => `${m.op} ${m.type.split(":").pop()} ${m.urn.split("::").pop()}`).sort(), [
                `create PrometheusRule ${service}-rules`, `create Release ${service}`, `create Release ${service}-dashboards`, `create Secret ${service}-pull`,
            ]);
            const findings: string[] = [];
            for (const step of steps.filter((m) => m.type.startsWith("kubernetes:"))) {
                for (const policy of POLICIES.filter((p) => p.enforcementLevel === "mandatory")) {
                    const outcome = await runPolicy(policy, { type: step.type, name: step.urn.split("::").pop()!, inputs: step.new!.inputs, stack: "dev" }, packConfig("dev"));
                    findings.push(...[...outcome.violations, ...outcome.unknownDuringPreview].map((v) => `${policy.name}: ${v}`));
                }
            }
            assert.deepEqual(findings, [], service);
        }
    });

    it("2. GIVEN the platform's stack and namespace WHEN a stack per service deploys THEN both install beside it, and none installs monitoring", async function () {
        for (const service of SERVICES) ok(await stacks.get(service)!.up());
        assert.deepEqual(await helm.releases(), [
            "apps/billing-dashboards: deployed", "apps/billing: deployed", "apps/orders-dashboards: deployed", "apps/orders: deployed",
            `${PLATFORM.namespace}/${PLATFORM.release}: deployed`,
        ]);
        assert.equal((await helm.history(PLATFORM.release, PLATFORM.namespace)).length, 1, "the platform's release is still at its first revision");
        for (const service of SERVICES) {
            const deployment = await json("get", "deployment", service, "--namespace", PLATFORM.apps);
            assert.equal(deployment.spec.template.spec.containers[0].image, image);
            assert.equal(deployment.status.readyReplicas, 1);
            const outputs = await stacks.get(service)!.stack.outputs();
            // The platform's Grafana, whose Service the chart names after its release.
            assert.equal(outputs.grafanaAccess.value,
                `kubectl --namespace ${PLATFORM.namespace} port-forward svc/${PLATFORM.release}-grafana 3000:80, then http://localhost:3000`);
            await cluster.kubectl(["get", "service", `${PLATFORM.release}-grafana`, "--namespace", PLATFORM.namespace]);
        }
    });

    it("3. THEN the platform's Prometheus selects each service's ServiceMonitor and PrometheusRule by its release label", async function () {
        assert.deepEqual(names(await selectedBy("servicemonitors", "serviceMonitorSelector")), ["apps/billing", "apps/orders"]);
        assert.deepEqual(names(await selectedBy("prometheusrules", "ruleSelector")), ["apps/billing-rules", "apps/orders-rules"]);
    });

    it("4. THEN the platform's Grafana sidecar finds each service's own dashboard, by the label its values name", async function () {
        const sidecar = (await helm.values(PLATFORM.release, PLATFORM.namespace)).grafana.sidecar.dashboards;
        assert.equal(sidecar.searchNamespace, "ALL");
        const maps = (await json("get", "configmaps", "--all-namespaces", "--selector", `${sidecar.label}=${sidecar.labelValue}`)).items as
            (Labelled & { data: Record<string, string> })[];
        assert.deepEqual(names(maps), ["apps/dashboard-billing-overview", "apps/dashboard-orders-overview"]);
        const uids = maps.map((m) => Object.entries(m.data).map(([file, text]) => `${file}: ${JSON.parse(text).uid}`)).flat().sort();
        assert.deepEqual(uids, ["billing-overview.json: billing-overview", "orders-overview.json: orders-overview"]);
    });

    it("5. THEN Prometheus, with the jobs generated from the selected ServiceMonitors, discovers each service's pod under its own job, and loads each one's rules", async function () {
        const monitors = await selectedBy("servicemonitors", "serviceMonitorSelector") as unknown as ServiceMonitorObject[];
        const rules = await selectedBy("prometheusrules", "ruleSelector") as unknown as (Labelled & { spec: { groups: RuleGroup[] } })[];
        prometheus = await startPrometheus({
            binary: path.join(tools.bin, "prometheus3"), // Debian's build has no Kubernetes service discovery
            scrapeJobs: monitors.flatMap((m) => serviceMonitorDiscoveryJobs(m, cluster.kubeconfig, "1s")),
            ruleFiles: Object.fromEntries(rules.map((r) => [`${r.metadata.namespace}-${r.metadata.name}.yaml`, toRuleFile(r.spec.groups)])),
        });
        for (const service of SERVICES) {
            const [pod] = await podOf(service);
            const target = await waitFor(`Prometheus to discover ${service}`, async () =>
                (await api<TargetsData>(prometheus!.url, "targets")).activeTargets.find((t) => t.labels.job === service), 60_000, 500);
            assert.deepEqual(
                { pool: target.scrapePool, namespace: target.labels.namespace, service: target.labels.service, pod: target.labels.pod, container: target.labels.container, endpoint: target.labels.endpoint },
                { pool: `serviceMonitor/${PLATFORM.apps}/${service}/0`, namespace: PLATFORM.apps, service, pod, container: "go-service", endpoint: "http" });
        }
        const groups = await waitFor("every rule to be evaluated", async () => {
            const data = await api<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>(prometheus!.url, "rules");
            return data.groups.every((g) => g.rules.every((r) => r.health !== "unknown")) ? data.groups : undefined;
        }, 30_000, 500);
        assert.deepEqual(groups.map((g) => `${g.name}: ${g.rules.map((r) => `${r.name} ${r.health}${r.lastError ?? ""}`).join(", ")}`).sort(), [
            "billing.rules: service:up:sum ok, ServiceTargetDown ok",
            "orders.rules: service:up:sum ok, ServiceTargetDown ok",
        ]);
    });

    it("6. THEN each service answers its own job's scrape: up, its build_info, its recording rule ", async function () {
        for (const service of SERVICES) {
            const [pod, ip] = await podOf(service);
            const up = await waitFor(`${service} to be scraped`, async () => {
                const samples = await instantQuery(prometheus!.url, `up{job="${service}", namespace="${PLATFORM.apps}", pod="${pod}"}`);
                return samples.length === 1 && samples[0].value[1] === "1" ? samples : undefined;
            }, 60_000, 500);
            assert.equal(up[0].metric.instance, `${ip}:${CONTAINER_PORT}`, "the pod's own address, from its EndpointSlice");
            assert.equal((await instantQuery(prometheus!.url, `build_info{job="${service}", version="0.1.0-e2e"}`)).length, 1);
            await waitFor(`${service}'s recording rule`, async () => {
                const samples = await instantQuery(prometheus!.url, `service:up:sum{service="${service}"}`);
                return samples.length === 1 && samples[0].value[1] === "1" ? true : undefined;
            }, 30_000, 500);
        }
    });

    it("7. WHEN the orders stack is destroyed THEN billing, its monitoring objects and the platform's stack are untouched", async function () {
        const snapshot = async () => Promise.all([
            ...[["deployment", "billing"], ["servicemonitor", "billing"], ["prometheusrule", "billing-rules"], ["configmap", "dashboard-billing-overview"],
                ["namespace", PLATFORM.apps]].map(([kind, name]) => json("get", kind, name, "--namespace", PLATFORM.apps)),
            json("get", "prometheus", `${PLATFORM.release}-prometheus`, "--namespace", PLATFORM.namespace),
            json("get", "crd", "servicemonitors.monitoring.coreos.com"),
        ].map(async (pending) => {
            const o = await pending;
            return `${o.kind}/${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion}`;
        }));
        const before = await snapshot();

        ok(await stacks.get("orders")!.destroy());

        assert.deepEqual(await snapshot(), before, "the same objects, not one of them changed");
        assert.deepEqual(await helm.releases(),
            ["apps/billing-dashboards: deployed", "apps/billing: deployed", `${PLATFORM.namespace}/${PLATFORM.release}: deployed`]);
        assert.equal((await helm.history(PLATFORM.release, PLATFORM.namespace)).length, 1);
        for (const [kind, name] of [["deployment", "orders"], ["servicemonitor", "orders"], ["prometheusrule", "orders-rules"], ["configmap", "dashboard-orders-overview"]]) {
            assert.equal((await cluster.kubectl(["get", kind, name, "--namespace", PLATFORM.apps, "--ignore-not-found", "--output", "name"])).trim(), "", `${kind} ${name} is gone`);
        }
        assert.deepEqual(names(await selectedBy("servicemonitors", "serviceMonitorSelector")), ["apps/billing"]);
        await waitFor("Prometheus to drop the orders target", async () => {
            const jobs = (await api<TargetsData>(prometheus!.url, "targets")).activeTargets.map((t) => t.labels.job);
            return jobs.length === 1 && jobs[0] === "billing" ? true : undefined;
        }, 60_000, 500);
        const billing = await stacks.get("billing")!.preview({ expectNoChanges: true, refresh: true });
        ok(billing); // its stack still agrees with the cluster
    });

    it("8. THEN billing is still scraped under its own job ", async function () {
        const [pod] = await podOf("billing");
        await waitFor("billing to be scraped after orders' destroy", async () => {
            const samples = await instantQuery(prometheus!.url, `up{job="billing", pod="${pod}"} == 1`);
            return samples.length === 1 ? true : undefined;
        }, 30_000, 500);
    });
});
