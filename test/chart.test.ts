// Specifications of charts/go-service, checked against the real chart with the pinned helm and kube-score.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair } from "yaml";
import {
    CHART_DIR,
    CI_VALUE_SETS,
    ciValues,
    findObject,
    hasObject,
    helmLint,
    helmNotes,
    helmTemplate,
    kubeScore,
    type ManifestObject,
    type RenderOptions,
} from "./support/chart";

/** helmTemplate, memoized: a render is ~150 ms and many specs read the same one. Only for values that render. */
const renders = new Map<string, Promise<ManifestObject[]>>();
function render(values: object, opts: RenderOptions = {}): Promise<ManifestObject[]> {
    const key = JSON.stringify([values, opts]);
    if (!renders.has(key)) renders.set(key, helmTemplate(values, opts));
    return renders.get(key)!;
}

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REQUIRED_LABELS = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
];

/** Every kind the chart may render, with the API version it must use. */
const API_VERSIONS: Readonly<Record<string, string>> = {
    Deployment: "apps/v1",
    Service: "v1",
    ServiceAccount: "v1",
    HorizontalPodAutoscaler: "autoscaling/v2",
    PodDisruptionBudget: "policy/v1",
    NetworkPolicy: "networking.k8s.io/v1",
    Ingress: "networking.k8s.io/v1",
    ServiceMonitor: "monitoring.coreos.com/v1",
};

// The shapes the specs read; helm renders plain data.
interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { resourceFieldRef?: { resource: string; divisor?: string } };
}
interface Probe {
    httpGet: { path: string; port: string | number };
}
interface Container {
    name: string;
    image: string;
    imagePullPolicy: string;
    ports: { name: string; containerPort: number }[];
    env: EnvVar[];
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    securityContext: Record<string, unknown> & { capabilities: { drop: string[] } };
    startupProbe: Probe;
    livenessProbe: Probe;
    readinessProbe: Probe;
    lifecycle?: { preStop: Record<string, unknown> };
    volumeMounts: { name: string; mountPath: string }[];
}

function deployment(manifests: readonly ManifestObject[]): ManifestObject {
    return findObject(manifests, "Deployment");
}
function podSpec(manifests: readonly ManifestObject[]) {
    return deployment(manifests).spec.template.spec;
}
function mainContainer(manifests: readonly ManifestObject[]): Container {
    const containers = podSpec(manifests).containers as Container[];
    assert.equal(containers.length, 1, "one container");
    return containers[0];
}
function env(c: Container, name: string): EnvVar | undefined {
    return c.env.find((e) => e.name === name);
}
/** The value sets every check runs on: the chart's defaults and the representative sets in ci/. */
const VALUE_SETS: readonly [string, () => Promise<object>][] = [
    ["default", async () => ({})],
    ...CI_VALUE_SETS.map((name): [string, () => Promise<object>] => [`ci/${name}`, () => ciValues(name)]),
];
async function valueSets(): Promise<[string, object][]> {
    return Promise.all(VALUE_SETS.map(async ([name, load]): Promise<[string, object]> => [name, await load()]));
}

describe("charts/go-service", function () {
    describe("checks on the default values and every ci/ value set", function () {
        for (const [name, load] of VALUE_SETS) {
            describe(name, function () {
                let values: object;
                let manifests: ManifestObject[];
                before(async function () {
                    values = await load();
                    manifests = await render(values, { namespace: "hello" });
                });

                it("passes helm lint --strict", async function () {
                    await helmLint(values, { namespace: "hello" });
                });

                it("renders a Deployment, a Service and a ServiceAccount", function () {
                    for (const kind of ["Deployment", "Service", "ServiceAccount"]) findObject(manifests, kind);
                });

                it("renders no RBAC objects and no Secrets", function () {
                    const allowed = new Set(Object.keys(API_VERSIONS));
                    const others = manifests.filter((o) => !allowed.has(o.kind)).map((o) => o.kind);
                    assert.deepEqual(others, []);
                });

                it("uses only stable API versions", function () {
                    for (const o of manifests) assert.equal(o.apiVersion, API_VERSIONS[o.kind], o.kind);
                });

                it("has no kube-score findings", async function () {
                    // dev runs one replica on purpose; every other set must have at least two.
                    const findings = await kubeScore(manifests, { minReplicas: name === "ci/dev" ? 1 : 2 });
                    assert.deepEqual(findings, []);
                });
            });
        }
    });

    describe("Deployment", function () {
        let manifests: ManifestObject[];
        before(async function () {
            manifests = await render({});
        });

        it("rolls out with RollingUpdate, one extra pod at a time, never removing a pod before its replacement is ready", function () {
            assert.deepEqual(deployment(manifests).spec.strategy, {
                type: "RollingUpdate",
                rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
            });
        });

        it("probes startup and liveness on /healthz and readiness on /readyz, all on the http port", function () {
            const c = mainContainer(manifests);
            assert.deepEqual(c.ports.map((p) => [p.name, p.containerPort]), [["http", 8080]]);
            assert.deepEqual(c.startupProbe.httpGet, { path: "/healthz", port: "http" });
            assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "http" });
            assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "http" });
        });

        it("passes PORT, LOG_LEVEL, DRAIN_DELAY and SHUTDOWN_TIMEOUT from the values", async function () {
            const c = mainContainer(
                await render({ containerPort: 9090, logLevel: "debug", shutdown: { drainDelay: "3s", timeout: "1m30s" } }),
            );
            assert.equal(env(c, "PORT")?.value, "9090");
            assert.equal(env(c, "LOG_LEVEL")?.value, "debug");
            assert.equal(env(c, "DRAIN_DELAY")?.value, "3s");
            assert.equal(env(c, "SHUTDOWN_TIMEOUT")?.value, "1m30s");
            assert.equal(c.ports[0].containerPort, 9090);
        });

        it("requests CPU and memory and limits memory, with no CPU limit by default", function () {
            const { requests, limits } = mainContainer(manifests).resources;
            assert.ok(requests.cpu && requests.memory, "CPU and memory requests");
            assert.ok(limits.memory, "memory limit");
            assert.equal(limits.cpu, undefined);
        });

        it("sets a CPU limit when resources.limits.cpu is given", async function () {
            const c = mainContainer(await render({ resources: { limits: { cpu: "2" } } }));
            assert.equal(c.resources.limits.cpu, "2");
        });

        for (const [limit, percent, expected] of [
            ["128Mi", 90, Math.floor(128 * 2 ** 20 * 0.9)],
            ["1Gi", 90, Math.floor(2 ** 30 * 0.9)],
            ["1.5Gi", 80, Math.floor(1.5 * 2 ** 30 * 0.8)],
            ["512M", 90, Math.floor(512e6 * 0.9)],
            ["2G", 75, Math.floor(2e9 * 0.75)],
            ["300000000", 90, Math.floor(3e8 * 0.9)],
        ] as [string, number, number][]) {
            it(`sets GOMEMLIMIT to ${percent}% of a ${limit} memory limit`, async function () {
                const c = mainContainer(
                    await render({
                        resources: { requests: { memory: limit }, limits: { memory: limit } },
                        goRuntime: { memoryLimitPercent: percent },
                    }),
                );
                assert.equal(env(c, "GOMEMLIMIT")?.value, String(expected));
            });
        }

        it("sizes GOMAXPROCS from the CPU request (rounded up by the kubelet) when there is no CPU limit", function () {
            assert.deepEqual(env(mainContainer(manifests), "GOMAXPROCS")?.valueFrom, {
                resourceFieldRef: { resource: "requests.cpu", divisor: "1" },
            });
        });

        it("leaves GOMAXPROCS to the Go runtime when a CPU limit is set", async function () {
            const c = mainContainer(await render({ resources: { limits: { cpu: "1" } } }));
            assert.equal(env(c, "GOMAXPROCS"), undefined);
        });

        it("delays SIGTERM with the preStop sleep action, which needs no shell in the image", function () {
            assert.deepEqual(mainContainer(manifests).lifecycle, { preStop: { sleep: { seconds: 5 } } });
        });

        it("renders no preStop hook when shutdown.preStopSleepSeconds is 0", async function () {
            assert.equal(mainContainer(await render({ shutdown: { preStopSleepSeconds: 0 } })).lifecycle, undefined);
        });

        it("computes a grace period longer than preStop sleep + drain delay + shutdown timeout", async function () {
            const spec = podSpec(
                await render({ shutdown: { preStopSleepSeconds: 10, drainDelay: "2500ms", timeout: "1m" } }),
            );
            // 10 + 2.5 + 60 = 72.5 -> 73, plus 5 s for the process to exit
            assert.equal(spec.terminationGracePeriodSeconds, 78);
        });

        it("computes the grace period when terminationGracePeriodSeconds is null", async function () {
            const spec = podSpec(await render({ shutdown: { terminationGracePeriodSeconds: null } }));
            assert.equal(spec.terminationGracePeriodSeconds, 35);
        });

        it("keeps a terminationGracePeriodSeconds that exceeds the shutdown budget", async function () {
            const spec = podSpec(await render({ shutdown: { terminationGracePeriodSeconds: 31 } }));
            assert.equal(spec.terminationGracePeriodSeconds, 31);
        });

        it("fails naming the values when terminationGracePeriodSeconds does not exceed the shutdown budget", async function () {
            await assert.rejects(
                helmTemplate({ shutdown: { terminationGracePeriodSeconds: 30 } }),
                new RegExp(
                    "shutdown\\.terminationGracePeriodSeconds: 30 is too small; it must be greater than " +
                    "shutdown\\.preStopSleepSeconds \\(5\\) \\+ shutdown\\.drainDelay \\(5s\\) \\+ shutdown\\.timeout \\(20s\\) = 30s",
                ),
            );
        });

        it("fails naming shutdown.timeout when it is outside the 1s..5m the service accepts", async function () {
            await assert.rejects(helmTemplate({ shutdown: { timeout: "500ms" } }), /shutdown\.timeout: "500ms" .*allowed: 1s to 5m/);
            await assert.rejects(helmTemplate({ shutdown: { timeout: "6m" } }), /shutdown\.timeout: "6m" .*allowed: 1s to 5m/);
        });

        it("fails naming shutdown.drainDelay when it is longer than the 5m the service accepts", async function () {
            await assert.rejects(helmTemplate({ shutdown: { drainDelay: "5m1s" } }), /shutdown\.drainDelay: "5m1s" .*allowed: 0s to 5m/);
        });

        it("spreads pods over nodes and zones, per ReplicaSet, and prefers distinct nodes", function () {
            const spec = podSpec(manifests);
            const selector = deployment(manifests).spec.selector.matchLabels;
            const constraints = spec.topologySpreadConstraints as {
                topologyKey: string;
                whenUnsatisfiable: string;
                labelSelector: { matchLabels: object };
                matchLabelKeys: string[];
            }[];
            assert.deepEqual(
                constraints.map((c) => [c.topologyKey, c.whenUnsatisfiable]),
                [
                    ["kubernetes.io/hostname", "ScheduleAnyway"],
                    ["topology.kubernetes.io/zone", "ScheduleAnyway"],
                ],
            );
            for (const c of constraints) {
                assert.deepEqual(c.labelSelector.matchLabels, selector);
                assert.deepEqual(c.matchLabelKeys, ["pod-template-hash"]);
            }
            const [term] = spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
            assert.equal(term.podAffinityTerm.topologyKey, "kubernetes.io/hostname");
            assert.deepEqual(term.podAffinityTerm.labelSelector.matchLabels, selector);
        });

        it("names objects after the release and labels every object with the app.kubernetes.io labels", async function () {
            const rendered = await render(await ciValues("prod"), { releaseName: "hello", namespace: "web" });
            for (const obj of rendered) {
                assert.equal(obj.metadata.name, "hello", `${obj.kind} name`);
                assert.equal(obj.metadata.namespace, "web", `${obj.kind} namespace`);
                for (const label of REQUIRED_LABELS) assert.ok(obj.metadata.labels?.[label], `${obj.kind} has ${label}`);
                assert.equal(obj.metadata.labels?.["app.kubernetes.io/instance"], "hello");
                assert.equal(obj.metadata.labels?.["app.kubernetes.io/version"], "1.4.0");
            }
        });

        it("selects its pods by the app.kubernetes.io name and instance labels", function () {
            const d = deployment(manifests);
            assert.deepEqual(d.spec.selector.matchLabels, {
                "app.kubernetes.io/name": "hello",
                "app.kubernetes.io/instance": "hello",
            });
            for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) {
                assert.equal(d.spec.template.metadata.labels[k], v);
            }
        });
    });

    describe("security by default", function () {
        it("every container runs as 65532 with a read-only root filesystem, in every value set", async function () {
            for (const [name, values] of await valueSets()) {
                const manifests = await render(values);
                const pod = podSpec(manifests);
                for (const c of pod.containers as Container[]) {
                    const uid = c.securityContext.runAsUser ?? pod.securityContext.runAsUser;
                    const gid = c.securityContext.runAsGroup ?? pod.securityContext.runAsGroup;
                    assert.deepEqual([uid, gid], [65532, 65532], `${name}: uid/gid`);
                    assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${name}: read-only root filesystem`);
                }
            }
        });

        it('meets Pod Security Standards "restricted": non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp', async function () {
            for (const [name, values] of await valueSets()) {
                const pod = podSpec(await render(values));
                assert.equal(pod.securityContext.runAsNonRoot, true, `${name}: pod runAsNonRoot`);
                assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" }, `${name}: pod seccomp`);
                for (const key of ["hostNetwork", "hostPID", "hostIPC"]) assert.ok(!pod[key], `${name}: no ${key}`);
                assert.equal(pod.securityContext.sysctls, undefined, `${name}: no sysctls`);
                for (const c of pod.containers as Container[]) {
                    assert.equal(c.securityContext.procMount, undefined, `${name}: default procMount`);
                    assert.deepEqual(
                        c.env.filter((e) => e.valueFrom && !e.valueFrom.resourceFieldRef).map((e) => e.name),
                        [],
                        `${name}: no environment variable read from a Secret or ConfigMap`,
                    );
                    assert.equal(c.securityContext.allowPrivilegeEscalation, false, `${name}: allowPrivilegeEscalation`);
                    assert.equal(c.securityContext.privileged, false, `${name}: privileged`);
                    assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, `${name}: capabilities`);
                    assert.equal(c.securityContext.runAsNonRoot, true, `${name}: container runAsNonRoot`);
                }
                for (const v of pod.volumes as Record<string, unknown>[]) {
                    assert.deepEqual(Object.keys(v).sort(), ["emptyDir", "name"], `${name}: only emptyDir volumes`);
                }
            }
        });

        it("gives the read-only container a size-limited emptyDir at /tmp and no other writable path", async function () {
            const manifests = await render({ tmpSizeLimit: "32Mi" });
            assert.deepEqual(mainContainer(manifests).volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
            assert.deepEqual(podSpec(manifests).volumes, [{ name: "tmp", emptyDir: { sizeLimit: "32Mi" } }]);
        });

        it("runs under its own ServiceAccount, with no API token mounted", async function () {
            const manifests = await render({});
            const sa = findObject(manifests, "ServiceAccount");
            assert.equal(sa.automountServiceAccountToken, false);
            assert.equal(podSpec(manifests).serviceAccountName, sa.metadata.name);
            assert.equal(podSpec(manifests).serviceAccount, undefined, "no deprecated serviceAccount field");
            assert.equal(podSpec(manifests).automountServiceAccountToken, false);
        });

        it("uses an existing ServiceAccount by name when serviceAccount.create is false", async function () {
            const manifests = await render({ serviceAccount: { create: false, name: "shared" } });
            assert.equal(hasObject(manifests, "ServiceAccount"), false);
            assert.equal(podSpec(manifests).serviceAccountName, "shared");
        });

        it("references an image pull secret by name and renders no Secret", async function () {
            const manifests = await render({ imagePullSecrets: [{ name: "regcred" }] });
            assert.deepEqual(podSpec(manifests).imagePullSecrets, [{ name: "regcred" }]);
            assert.equal(hasObject(manifests, "Secret"), false);
        });

        it("rejects an extraEnv name that looks like a credential, naming it", async function () {
            await assert.rejects(
                helmTemplate({ extraEnv: { DB_PASSWORD: "hunter2" } }),
                /'\/extraEnv\/DB_PASSWORD': .*no credentials in values/,
            );
        });

        it("passes other extraEnv variables through as plain values", async function () {
            const c = mainContainer(await render({ extraEnv: { UPSTREAM_URL: "http://upstream" } }));
            assert.equal(env(c, "UPSTREAM_URL")?.value, "http://upstream");
        });

        it("rejects an extraEnv variable the chart sets itself, naming it", async function () {
            await assert.rejects(
                helmTemplate({ extraEnv: { GOMAXPROCS: "8" } }),
                /extraEnv\.GOMAXPROCS: set by the chart itself/,
            );
        });
    });

    describe("image", function () {
        it("references the image by digest when one is given, without the tag", async function () {
            const c = mainContainer(
                await render({ image: { repository: "localhost:5000/hello", digest: DIGEST, tag: "1.0.0" } }),
            );
            assert.equal(c.image, `localhost:5000/hello@${DIGEST}`);
        });

        it("falls back to the tag when no digest is given", async function () {
            const c = mainContainer(await render({ image: { repository: "ghcr.io/acme/hello", tag: "1.2.3" } }));
            assert.equal(c.image, "ghcr.io/acme/hello:1.2.3");
        });

        it("always pulls by default, so a pod without credentials cannot reuse a private image cached on the node", async function () {
            assert.equal(mainContainer(await render({})).imagePullPolicy, "Always");
        });

        it("rejects the latest tag, naming image.tag", async function () {
            await assert.rejects(
                helmTemplate({ image: { tag: "latest" } }),
                /'\/image\/tag': .*latest is mutable and not allowed/,
            );
        });

        it("rejects a malformed digest, naming image.digest", async function () {
            await assert.rejects(
                helmTemplate({ image: { digest: "sha256:abc" } }),
                /'\/image\/digest': 'sha256:abc' does not match pattern/,
            );
        });

        it("rejects a repository that carries a tag or digest, naming image.repository", async function () {
            await assert.rejects(helmTemplate({ image: { repository: `hello@${DIGEST}` } }), /'\/image\/repository'/);
        });

        it("fails naming image.digest and image.tag when neither is set", async function () {
            await assert.rejects(
                helmTemplate({ image: { digest: "", tag: "" } }),
                /neither image\.digest nor image\.tag is set; set image\.digest \(sha256:<64 hex>, preferred\) or image\.tag/,
            );
        });
    });

    describe("Service and Ingress", function () {
        it("exposes a ClusterIP Service on port 80 forwarding to the http port by default", async function () {
            const svc = findObject(await render({}), "Service");
            assert.equal(svc.spec.type, "ClusterIP");
            assert.deepEqual(svc.spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
        });

        it("exposes a LoadBalancer on port 80 to the container's 8080 when asked for", async function () {
            const manifests = await render(await ciValues("dev"));
            const svc = findObject(manifests, "Service");
            assert.equal(svc.spec.type, "LoadBalancer");
            assert.equal(svc.spec.ports[0].port, 80);
            assert.equal(svc.spec.ports[0].targetPort, "http");
            assert.equal(mainContainer(manifests).ports[0].containerPort, 8080);
        });

        it("rejects a NodePort Service, naming service.type", async function () {
            await assert.rejects(
                helmTemplate({ service: { type: "NodePort" } }),
                /'\/service\/type': value must be one of 'ClusterIP', 'LoadBalancer'/,
            );
        });

        it("renders no Ingress by default", async function () {
            assert.equal(hasObject(await render({}), "Ingress"), false);
        });

        it("routes the ingress host to the Service's http port, with TLS from an existing Secret", async function () {
            const ing = findObject(await render(await ciValues("prod")), "Ingress");
            assert.equal(ing.spec.ingressClassName, "nginx");
            assert.deepEqual(ing.spec.tls, [{ hosts: ["hello.example.com"], secretName: "hello-tls" }]);
            const [rule] = ing.spec.rules;
            assert.equal(rule.host, "hello.example.com");
            assert.deepEqual(rule.http.paths[0].backend, { service: { name: "hello", port: { name: "http" } } });
        });

        it("fails naming ingress.host when the ingress is enabled without a host", async function () {
            await assert.rejects(
                helmTemplate({ ingress: { enabled: true } }),
                /ingress\.host: empty while ingress\.enabled is true/,
            );
        });
    });

    describe("autoscaling", function () {
        it("the Deployment has no replicas field when the autoscaler is on", async function () {
            const manifests = await render({ autoscaling: { enabled: true } });
            assert.equal("replicas" in deployment(manifests).spec, false);
        });

        it("the Deployment has replicaCount replicas when the autoscaler is off", async function () {
            assert.equal(deployment(await render({ replicaCount: 3 })).spec.replicas, 3);
        });

        it("renders an autoscaling/v2 HPA on the Deployment with a CPU target and a behavior block", async function () {
            const manifests = await render(await ciValues("prod"));
            const hpa = findObject(manifests, "HorizontalPodAutoscaler");
            assert.equal(hpa.apiVersion, "autoscaling/v2");
            assert.deepEqual(hpa.spec.scaleTargetRef, {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name: deployment(manifests).metadata.name,
            });
            assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 10]);
            assert.deepEqual(hpa.spec.metrics, [
                { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
            ]);
            assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
            assert.ok(hpa.spec.behavior.scaleUp.policies.length > 0, "scale-up policies");
            assert.ok(hpa.spec.behavior.scaleDown.policies.length > 0, "scale-down policies");
        });

        it("renders no HPA by default", async function () {
            assert.equal(hasObject(await render({}), "HorizontalPodAutoscaler"), false);
        });

        it("fails naming both values when autoscaling.maxReplicas is below minReplicas", async function () {
            await assert.rejects(
                helmTemplate({ autoscaling: { enabled: true, minReplicas: 4, maxReplicas: 3 } }),
                /autoscaling\.maxReplicas: 3 is below autoscaling\.minReplicas \(4\)/,
            );
        });
    });

    describe("PodDisruptionBudget", function () {
        it("allows one voluntary disruption at a time and always lets unhealthy pods be evicted", async function () {
            const manifests = await render({ replicaCount: 2 });
            const pdb = findObject(manifests, "PodDisruptionBudget");
            assert.equal(pdb.spec.maxUnavailable, 1);
            assert.equal(pdb.spec.minAvailable, undefined);
            assert.equal(pdb.spec.unhealthyPodEvictionPolicy, "AlwaysAllow");
            assert.deepEqual(pdb.spec.selector.matchLabels, deployment(manifests).spec.selector.matchLabels);
        });

        it("is not rendered for a single replica, which it could only block", async function () {
            assert.equal(hasObject(await render({ replicaCount: 1 }), "PodDisruptionBudget"), false);
        });

        it("is rendered when the autoscaler may run more than one replica, even from a minimum of one", async function () {
            const manifests = await render({ autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 } });
            assert.equal(hasObject(manifests, "PodDisruptionBudget"), true);
        });
    });

    describe("NetworkPolicy", function () {
        it("admits connections to the http port only from the namespaces the values allow", async function () {
            const np = findObject(await render(await ciValues("staging")), "NetworkPolicy");
            assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
            assert.deepEqual(np.spec.ingress, [
                {
                    ports: [{ port: "http", protocol: "TCP" }],
                    from: [
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
                    ],
                },
            ]);
        });

        it("admits no inbound connections and only DNS outbound by default", async function () {
            const np = findObject(await render({}), "NetworkPolicy");
            assert.deepEqual(np.spec.ingress, []);
            assert.deepEqual(np.spec.egress, [
                {
                    ports: [
                        { port: 53, protocol: "UDP" },
                        { port: 53, protocol: "TCP" },
                    ],
                },
            ]);
        });

        it("fails naming networkPolicy.ingress.cidrs when a LoadBalancer's traffic would be dropped", async function () {
            await assert.rejects(
                helmTemplate({ service: { type: "LoadBalancer" } }),
                /networkPolicy\.ingress\.cidrs: empty while service\.type is LoadBalancer/,
            );
        });

        it("is not rendered when networkPolicy.enabled is false", async function () {
            assert.equal(hasObject(await render({ networkPolicy: { enabled: false } }), "NetworkPolicy"), false);
        });
    });

    describe("ServiceMonitor", function () {
        it("is not rendered by default", async function () {
            assert.equal(hasObject(await render({}), "ServiceMonitor"), false);
        });

        it("scrapes /metrics on the Service's http port at the configured interval, with the extra labels", async function () {
            const manifests = await render({
                serviceMonitor: { enabled: true, interval: "15s", labels: { release: "kube-prometheus-stack" } },
            });
            const sm = findObject(manifests, "ServiceMonitor");
            assert.equal(sm.apiVersion, "monitoring.coreos.com/v1");
            assert.equal(sm.metadata.labels?.release, "kube-prometheus-stack");
            assert.equal(sm.metadata.labels?.["app.kubernetes.io/name"], "hello");
            assert.deepEqual(sm.spec.endpoints, [{ port: "http", path: "/metrics", interval: "15s" }]);
            const svc = findObject(manifests, "Service");
            assert.deepEqual(sm.spec.selector.matchLabels, svc.spec.selector);
            for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels?.[k], v);
        });

        it("rejects a scrape interval that is not a Prometheus duration, naming serviceMonitor.interval", async function () {
            await assert.rejects(
                helmTemplate({ serviceMonitor: { interval: "30 seconds" } }),
                /'\/serviceMonitor\/interval'/,
            );
        });
    });

    describe("values schema", function () {
        it("rejects a misspelled key in helm lint and helm template, naming the key", async function () {
            const values = { image: { repositry: "ghcr.io/acme/hello" } };
            await assert.rejects(helmLint(values), /'\/image': additional properties 'repositry' not allowed/);
            await assert.rejects(helmTemplate(values), /'\/image': additional properties 'repositry' not allowed/);
        });

        it("rejects a misspelled top-level key, naming it", async function () {
            await assert.rejects(helmTemplate({ replicas: 3 }), /additional properties 'replicas' not allowed/);
        });

        it("rejects a wrong type in helm lint and helm template, naming the key", async function () {
            const values = { replicaCount: "three" };
            await assert.rejects(helmLint(values), /'\/replicaCount': got string, want integer/);
            await assert.rejects(helmTemplate(values), /'\/replicaCount': got string, want integer/);
        });

        it("rejects a negative replica count, naming replicaCount", async function () {
            await assert.rejects(helmTemplate({ replicaCount: -1 }), /'\/replicaCount': minimum: got -1, want 0/);
        });

        it("rejects a memory quantity it cannot turn into GOMEMLIMIT, naming the key", async function () {
            await assert.rejects(
                helmTemplate({ resources: { limits: { memory: "1GB" } } }),
                /'\/resources\/limits\/memory': '1GB' does not match/,
            );
        });

        it("rejects a shutdown timeout that is not a Go duration, naming shutdown.timeout", async function () {
            await assert.rejects(helmTemplate({ shutdown: { timeout: "20" } }), /'\/shutdown\/timeout': '20' does not match/);
        });

        it("forbids unknown keys in every object it describes", function () {
            const schema = JSON.parse(fs.readFileSync(path.join(CHART_DIR, "values.schema.json"), "utf8"));
            const loose: string[] = [];
            const walk = (node: Record<string, unknown>, at: string): void => {
                if (node.type === "object" || (Array.isArray(node.type) && node.type.includes("object"))) {
                    // Free-form maps are allowed only with a typed value schema (labels, annotations, extraEnv, nodeSelector).
                    if (node.additionalProperties === undefined || node.additionalProperties === true) loose.push(at);
                }
                for (const [key, child] of Object.entries(node)) {
                    if (child && typeof child === "object") walk(child as Record<string, unknown>, `${at}/${key}`);
                }
            };
            walk(schema, "#");
            assert.deepEqual(loose, []);
        });

        it("documents every value in values.yaml with a comment and a schema description", function () {
            const doc = parseDocument(fs.readFileSync(path.join(CHART_DIR, "values.yaml"), "utf8"));
            const schema = JSON.parse(fs.readFileSync(path.join(CHART_DIR, "values.schema.json"), "utf8"));
            const resolve = (s: Record<string, unknown>): Record<string, unknown> =>
                typeof s.$ref === "string" ? { ...schema.definitions[s.$ref.split("/").pop()!], ...s } : s;
            const undocumented: string[] = [];
            const walk = (node: YamlNode | null, schemaNode: Record<string, unknown> | undefined, at: string): void => {
                if (!isMap(node)) return;
                node.items.forEach((pair: Pair, index: number) => {
                    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
                    const keyPath = at ? `${at}.${key}` : key;
                    const props = (schemaNode?.properties ?? {}) as Record<string, Record<string, unknown>>;
                    const child = props[key] ? resolve(props[key]) : undefined;
                    if (!child?.description) undocumented.push(`${keyPath} (schema description)`);
                    const value = pair.value as YamlNode | null;
                    const isSection = isMap(value) && value.items.length > 0;
                    if (!isSection) {
                        const keyComment = isScalar(pair.key) ? pair.key.commentBefore : undefined;
                        const firstInMap = index === 0 ? node.commentBefore : undefined;
                        const inline = isScalar(value) || isSeq(value) || isMap(value) ? value.comment : undefined;
                        if (!keyComment && !firstInMap && !inline) undocumented.push(`${keyPath} (values.yaml comment)`);
                    }
                    walk(value, child, keyPath);
                });
            };
            walk(doc.contents as YamlNode, schema, "");
            assert.deepEqual(undocumented, []);
        });
    });

    describe("Chart.yaml", function () {
        it("refuses Kubernetes older than 1.30, which lacks the preStop sleep action", async function () {
            await assert.rejects(helmTemplate({}, { kubeVersion: "1.29.9" }), /chart requires kubeVersion: >=1\.30\.0-0/);
        });

        it("accepts a vendor build of a supported Kubernetes version", async function () {
            await render({}, { kubeVersion: "1.31.2-eks-7f9249a" });
        });
    });

    describe("NOTES.txt", function () {
        it("tells how to reach a ClusterIP service through port-forward and the cluster DNS name", async function () {
            const notes = await helmNotes({}, { namespace: "web" });
            assert.match(notes, /kubectl port-forward service\/hello --namespace web 8080:80/);
            assert.match(notes, /http:\/\/hello\.web\.svc:80\//);
        });

        it("tells how to find a LoadBalancer's address", async function () {
            const notes = await helmNotes(await ciValues("dev"), { namespace: "web" });
            assert.match(notes, /kubectl get service hello --namespace web --watch/);
        });

        it("gives the ingress URL, https when TLS is configured", async function () {
            assert.match(await helmNotes(await ciValues("prod")), /https:\/\/hello\.example\.com\//);
            assert.match(await helmNotes(await ciValues("staging")), /http:\/\/hello\.staging\.example\.com\//);
        });

        it("warns when the NetworkPolicy admits nobody", async function () {
            assert.match(await helmNotes({}), /admits connections to port 8080 only from nobody/);
        });
    });
});
