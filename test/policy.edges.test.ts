/**
 * The policy pack at its edges: input the API server would refuse or the engine rarely sends (a missing spec, a null
 * list entry, a release without values), previews with values not known yet, and the exact words of the messages
 * users act on. Each spec states what a user of the pack sees there: a verdict and a message, never a crash.
 * (The mutants these specs kill, and the ones no spec can, are listed in test/mutation-equivalents.md.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KUBE_PROMETHEUS_STACK } from "../components/monitoringStack";
import { POD_SECURITY_EXEMPTION } from "../components/namespace";
import { APPROVED_LOCAL_CHARTS, APPROVED_REMOTE_CHARTS } from "../policy/charts";
import {
    atomicHelmReleases, chartPinProblems, containerResources, imagesByDigest, minReplicasInProd, namespacePodSecurity,
    noLoadBalancerInProd, noSecretsInHelmValues, pinnedHelmCharts, podSecurityRestricted,
} from "../policy/policies";
import { valuesForRender } from "../policy/releases";
import { clearRenderCache, helmTemplate, HelmError } from "../policy/render";
import { findSecrets } from "../policy/secrets";
import { packConfig, PolicyOutcome, runPolicy, TestResource, UNKNOWN } from "../policy/testing";
import {
    assertPasses, chartCopy, monitoringRelease, namespace, removeTempDirs, SECURE_CONTAINER, serviceRelease,
    serviceValues, tempDir,
} from "./support/policy";

const PROD = packConfig("prod");

/** A workload the program would create directly, with its inputs as given (`kind` from the type, as the engine does). */
function workload(kind: string, inputs: Record<string, unknown>, stack = "dev"): TestResource {
    const group = kind === "HorizontalPodAutoscaler" ? "autoscaling/v2" : kind === "CronJob" ? "batch/v1" : "apps/v1";
    return { type: `kubernetes:${group}:${kind}`, name: "web", stack, inputs: { metadata: { name: "web", namespace: "hello" }, ...inputs } };
}

/** A Deployment whose pod spec is `podSpec` (one secure container unless it says otherwise). */
function deployment(podSpec: Record<string, unknown>): TestResource {
    return workload("Deployment", { spec: { replicas: 2, template: { spec: { containers: [SECURE_CONTAINER], ...podSpec } } } });
}

function container(extra: Record<string, unknown>): Record<string, unknown> {
    return { containers: [{ ...SECURE_CONTAINER, ...extra }] };
}

/** A copy of charts/go-service with extra templates (file name → content), as a chart path for a release. */
function chartWith(templates: Record<string, string>): string {
    return chartCopy((chart) => {
        for (const [file, text] of Object.entries(templates)) fs.writeFileSync(path.join(chart, "templates", file), text);
    });
}

/** The violations without the `Deployment hello/web: ` prefix. */
function problems(outcome: PolicyOutcome): string[] {
    return outcome.violations.map((v) => v.replace(/^\w+ hello\/web: /, ""));
}

describe("the policy pack at its edges", function () {
    afterEach(clearRenderCache);
    after(removeTempDirs);

    describe("pod policies on malformed workloads", function () {
        it("GIVEN a Deployment or a CronJob without the spec that holds its pods THEN the pod policies find no container, not a crash", async function () {
            for (const resource of [workload("Deployment", {}), workload("CronJob", { spec: { schedule: "@daily" } })]) {
                assertPasses(await runPolicy(imagesByDigest, resource));
                assertPasses(await runPolicy(podSecurityRestricted, resource));
            }
        });

        it("GIVEN a null entry in containers (a template's empty list item) THEN it is named #0 and checked like any container", async function () {
            assert.deepStrictEqual(problems(await runPolicy(imagesByDigest, deployment({ containers: [null] }))),
                ['container "#0": image "undefined" must be pinned by digest (<repository>@sha256:<64 hex>), not a tag']);
        });

        it("GIVEN a null entry in a container's ports THEN the other ports are still checked for hostPort", async function () {
            assert.deepStrictEqual(problems(await runPolicy(podSecurityRestricted, deployment(container({ ports: [null, { containerPort: 8080, hostPort: 80 }] })))),
                ['container "app": hostPort 80 must not be used']);
        });

        it("GIVEN two capabilities added back THEN the message lists both, comma-separated", async function () {
            const securityContext = { ...SECURE_CONTAINER.securityContext, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "NET_RAW"] } };
            assert.deepStrictEqual(problems(await runPolicy(podSecurityRestricted, deployment(container({ securityContext })))),
                ['container "app": securityContext.capabilities.add may only hold NET_BIND_SERVICE, not SYS_ADMIN, NET_RAW']);
        });

        it("GIVEN a volume that names two types restricted does not allow THEN the message lists both, comma-separated", async function () {
            const volumes = [{ name: "host", hostPath: { path: "/data" }, nfs: { server: "nfs", path: "/" } }];
            assert.deepStrictEqual(problems(await runPolicy(podSecurityRestricted, deployment({ volumes }))),
                ['volume "host" is of type hostPath, nfs, which restricted does not allow']);
        });
    });

    describe("min-replicas-in-prod on malformed autoscalers", function () {
        it("GIVEN an autoscaler without spec in prod THEN it is held to Kubernetes' default minimum of 1, not a crash", async function () {
            assert.deepStrictEqual((await runPolicy(minReplicasInProd, workload("HorizontalPodAutoscaler", {}, "prod"), PROD)).violations,
                ["HorizontalPodAutoscaler hello/web: minReplicas is 1; prod keeps at least 2 pods, so one failure or node drain never takes the service down"]);
        });

        it("GIVEN an autoscaler of 3 without scaleTargetRef shipped with a Deployment of 1 THEN the autoscaler passes and the Deployment is refused", async function () {
            const chart = chartWith({
                "zz-hpa.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: orphan\nspec:\n  minReplicas: 3\n",
            });
            const values = { ...serviceValues(), replicaCount: 1 };
            assert.deepStrictEqual((await runPolicy(minReplicasInProd, serviceRelease(values, { chart, stack: "prod" }), PROD)).violations
                .map((v) => v.replace(/^.* → /, "")),
            ["Deployment hello/hello: runs 1 replica(s); prod needs at least 2 (or an autoscaler with minReplicas >= 2 shipped with it)"]);
        });
    });

    describe("kube-prometheus-stack installed with the chart's defaults (no values)", function () {
        it("GIVEN no values at all THEN Prometheus' resources and Grafana's admin Secret are still asked for, not a crash", async function () {
            assert.deepStrictEqual((await runPolicy(containerResources, monitoringRelease(undefined))).violations, [
                'release "kube-prometheus-stack" (kube-prometheus-stack): prometheus.prometheusSpec.resources.requests.cpu, ' +
                "prometheus.prometheusSpec.resources.requests.memory, prometheus.prometheusSpec.resources.limits.memory must be set: " +
                "Prometheus' memory grows with its series",
            ]);
            assert.deepStrictEqual((await runPolicy(noSecretsInHelmValues, monitoringRelease(undefined))).violations, [
                'release "kube-prometheus-stack" (kube-prometheus-stack): grafana.admin.existingSecret must name the Secret with ' +
                "Grafana's admin credentials; without it Grafana takes its admin password from values (the chart's default is well known)",
            ]);
        });

        it("GIVEN prometheus values without a prometheusSpec THEN every Prometheus resource is asked for", async function () {
            const outcome = await runPolicy(containerResources, monitoringRelease({ prometheus: { enabled: true } }));
            assert.strictEqual(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /prometheus\.prometheusSpec\.resources\.requests\.cpu, .*limits\.memory must be set/);
        });
    });

    describe("namespace-pod-security", function () {
        it("GIVEN an exempted namespace with other annotations but no exemption annotation THEN it asks why, not a crash", async function () {
            assert.deepStrictEqual((await runPolicy(namespacePodSecurity, namespace("monitoring", "privileged", { annotations: { owner: "platform" } }), PROD)).violations,
                [`Namespace monitoring: enforces "privileged" without saying why: annotate it with ${POD_SECURITY_EXEMPTION}: <reason>`]);
        });

        it("GIVEN several exempted namespaces THEN a namespace that is not among them is told all of them, comma-separated", async function () {
            const config = { "namespace-pod-security": { podSecurityExemptions: { monitoring: "privileged", "ingress-nginx": "baseline" } } };
            const outcome = await runPolicy(namespacePodSecurity, namespace("hello", "baseline", { reason: "convenience" }), config);
            assert.deepStrictEqual(outcome.violations,
                ['Namespace hello: enforces "baseline", but only restricted is allowed; it is not among the exempted namespaces (monitoring, ingress-nginx)']);
        });
    });

    describe("no-load-balancer-in-prod", function () {
        it("GIVEN a LoadBalancer Service in prod THEN the message says both settings to change, and what to use instead", async function () {
            const svc: TestResource = {
                type: "kubernetes:core/v1:Service", name: "public", stack: "prod",
                inputs: { metadata: { name: "public", namespace: "hello" }, spec: { type: "LoadBalancer" } },
            };
            assert.deepStrictEqual((await runPolicy(noLoadBalancerInProd, svc, PROD)).violations, [
                "Service hello/public is a LoadBalancer, a public endpoint: prod has one only where the platform team set " +
                '"allowLoadBalancer": true for the stack in policy/config/prod.json (and the stack sets ' +
                "hello-service:allowLoadBalancer: true); otherwise use ClusterIP behind the Ingress",
            ]);
        });

        it("GIVEN a chart that also renders a Service without spec and a custom resource whose spec.type is LoadBalancer THEN neither is refused", async function () {
            const chart = chartWith({
                "zz-headless.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: bare\n",
                "zz-listener.yaml": "apiVersion: example.com/v1\nkind: Listener\nmetadata:\n  name: edge\nspec:\n  type: LoadBalancer\n",
            });
            assertPasses(await runPolicy(noLoadBalancerInProd, serviceRelease(serviceValues(), { chart, stack: "prod" }), PROD));
        });

        it("GIVEN values with a type under a key that only starts with service (serviceMonitor) THEN it is not a Service's type", async function () {
            const values = { prometheus: { serviceMonitor: { type: "LoadBalancer" } }, grafana: { admin: { existingSecret: "grafana-admin" } } };
            assertPasses(await runPolicy(noLoadBalancerInProd, monitoringRelease(values, {}, "prod"), PROD));
        });
    });

    describe("pinned-helm-charts and atomic-helm-releases", function () {
        it("GIVEN a chart name that is a folder of the project without a Chart.yaml THEN it is a chart from a repository, refused by name", function () {
            const project = tempDir("policy-edges-project-");
            fs.mkdirSync(path.join(project, "monitoring"));
            const names = [...APPROVED_REMOTE_CHARTS, ...APPROVED_LOCAL_CHARTS].map((c) => c.name).join(", ");
            assert.deepStrictEqual(chartPinProblems({ chart: "monitoring" }, {}, project),
                [`chart "monitoring" is not approved (approved: ${names}); a new chart is added to policy/charts.ts with the platform team`]);
        });

        it("GIVEN the approved repository with trailing slashes THEN it is the approved repository", async function () {
            assertPasses(await runPolicy(pinnedHelmCharts, monitoringRelease({}, { repositoryOpts: { repo: `${KUBE_PROMETHEUS_STACK.repo}//` } })));
        });

        it("GIVEN kube-prometheus-stack named through a repository alias, without repositoryOpts THEN it says the repository is unset", async function () {
            const outcome = await runPolicy(pinnedHelmCharts, monitoringRelease({}, {
                chart: "prometheus-community/kube-prometheus-stack", repositoryOpts: undefined,
            }));
            assert.deepStrictEqual(outcome.violations, [
                'release "kube-prometheus-stack": chart "prometheus-community/kube-prometheus-stack" must come from ' +
                `${KUBE_PROMETHEUS_STACK.repo} (its repository is unset); a mirror is approved per stack in policy/config/<stack>.json (mirrors)`,
            ]);
        });

        it("names a release by its Helm release name, or by the resource's name when it has none", async function () {
            const wrongVersion = { version: "1.0.0", atomic: false };
            const named = monitoringRelease({}, wrongVersion);
            const unnamed = monitoringRelease({}, { ...wrongVersion, name: undefined });
            for (const policy of [pinnedHelmCharts, atomicHelmReleases]) {
                const prefixes = async (r: TestResource) => (await runPolicy(policy, r)).violations.map((v) => v.slice(0, v.indexOf(":")));
                assert.deepStrictEqual(await prefixes(named), ['release "kube-prometheus-stack"'], policy.name);
                assert.deepStrictEqual(await prefixes(unnamed), ['release "monitoring"'], policy.name);
            }
        });
    });

    describe("no-secrets-in-helm-values: references and credentials", function () {
        it("GIVEN a key that only starts like a reference (refreshToken, tlsKeyPassphrase) THEN it is a credential", function () {
            assert.deepStrictEqual(findSecrets({ oauth: { refreshToken: "r3fresh", tlsKeyPassphrase: "pass" } }).map((f) => f.path),
                ["oauth.refreshToken", "oauth.tlsKeyPassphrase"]);
        });

        it("GIVEN a webhook that reads its URL from a file (url_file) THEN the file's path is a reference, not a credential", function () {
            assert.deepStrictEqual(findSecrets({
                receivers: [{ name: "team", webhook_configs: [{ url_file: "/etc/alertmanager/secrets/team-url", send_resolved: true }] }],
            }), []);
        });
    });

    describe("previews, where some values are not known yet (version \"\")", function () {
        const preview = (values: unknown) => serviceRelease(values, { extra: { version: "" } });

        it("GIVEN a value other than the image digest not known yet THEN the engine is told the policy cannot run in this preview", async function () {
            for (const values of [{ ...serviceValues(), logLevel: UNKNOWN }, { ...serviceValues(), extraEnv: [{ name: "REGION", value: UNKNOWN }] }]) {
                const outcome = await runPolicy(imagesByDigest, preview(values));
                assert.deepStrictEqual(outcome.violations, []);
                assert.strictEqual(outcome.unknownDuringPreview.length, 1, JSON.stringify(outcome));
            }
        });

        it("GIVEN a digest the program did give THEN it is rendered as given: a malformed one is still refused", async function () {
            const values = serviceValues({}, "sha256:abc");
            const outcome = await runPolicy(imagesByDigest, preview(values));
            assert.strictEqual(outcome.violations.length, 1, outcome.violations.join("\n"));
            assert.match(outcome.violations[0], /cannot check the objects it installs, helm template failed: [\s\S]*'\/image\/digest': 'sha256:abc' does not match/);
        });

        it("GIVEN an image given as a string THEN the chart is handed the string, and its schema says the image must be an object", async function () {
            const outcome = await runPolicy(imagesByDigest, preview({ ...serviceValues(), image: "ghcr.io/acme/hello:1.2.3" }));
            assert.strictEqual(outcome.violations.length, 1, outcome.violations.join("\n"));
            assert.match(outcome.violations[0], /helm template failed: [\s\S]*'\/image': got string, want object/);
        });

        it("never renders an unknown value even without the engine's proxy: it names the value's path", function () {
            assert.throws(() => valuesForRender({ extraEnv: [{ name: "REGION", value: UNKNOWN }] }, true),
                (err: Error) => err.message === "values.extraEnv.0.value is not known during preview");
        });
    });

    describe("rendering (policy/render.ts)", function () {
        it("GIVEN a chart that renders more than a megabyte of manifests (dashboards, say) THEN it is rendered whole", async function () {
            const chart = path.join(tempDir("policy-edges-big-"), "big");
            fs.mkdirSync(path.join(chart, "templates"), { recursive: true });
            fs.writeFileSync(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: big\nversion: 0.1.0\n");
            fs.writeFileSync(path.join(chart, "templates", "cm.yaml"),
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: {{ .Values.blob | quote }}\n");
            const blob = "x".repeat(1536 * 1024);
            const text = await helmTemplate({ chartDir: chart, releaseName: "big", namespace: "x", values: { blob } });
            assert.ok(text.includes(blob), `rendered ${text.length} characters`);
        });

        it("GIVEN helm is not on PATH THEN the HelmError says helm is missing", async function () {
            const saved = process.env.PATH;
            process.env.PATH = "/nonexistent";
            try {
                const err = await helmTemplate({ chartDir: tempDir("policy-edges-nohelm-"), releaseName: "x", namespace: "x", values: {} })
                    .then(() => undefined, (e: unknown) => e);
                assert.ok(err instanceof HelmError, String(err));
                assert.strictEqual(err.missing, true);
                assert.match(err.message, /^helm is not on PATH/);
            } finally {
                process.env.PATH = saved;
            }
        });

        it("GIVEN a release of a folder helm cannot render THEN the violation quotes helm's error without a stray line break before the fail-closed note", async function () {
            const outcome = await runPolicy(podSecurityRestricted, serviceRelease({}, { chart: tempDir("policy-edges-nochart-") }));
            assert.strictEqual(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /cannot check the objects it installs, helm template failed: Error: [^\n]*Chart\.yaml[^\n]* \(mandatory policies fail closed: the release is not deployed unchecked\)$/);
        });
    });
});
