/**
 * The policy pack, policy by policy: a resource that passes and one that violates, called the way the engine's
 * analyzer calls a policy (policy/testing.ts). Violations must say what is wrong, where, and what to do.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { buildMonitoringValues, MonitoringProfile } from "../components/monitoringStack";
import { APPROVED_LOCAL_CHARTS, chartSource } from "../policy/charts";
import { resolveEnvironment } from "../policy/environment";
import {
    atomicHelmReleases, chartPinProblems, containerResources, imagesByDigest, minReplicasInProd, namespacePodSecurity,
    noLoadBalancerInProd, noSecretsInHelmValues, pinnedHelmCharts, podSecurityRestricted, POLICIES, readOnlyRootFilesystem,
    replicaProblems,
} from "../policy/policies";
import { clearRenderCache, helmTemplate, HelmError, parseManifests, withValuesFile } from "../policy/render";
import { findSecrets, isSecretKey } from "../policy/secrets";
import { packConfig, PolicyOutcome, runPolicy, secret, TestResource, UNKNOWN } from "../policy/testing";
import {
    assertPasses, chartCopy, DIGEST, monitoringRelease, namespace, RELEASE, removeTempDirs, SECURE_CONTAINER, serviceRelease,
    serviceValues, tempDir,
} from "./support/policy";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

const PROD = packConfig("prod");
const STAGING = packConfig("staging");
const DEV = packConfig("dev");

// ---- fixtures: small, and built by the program's own builders where the program builds them (test/support/policy.ts) ----

function deployment(opts: { container?: Record<string, unknown>; podSpec?: Record<string, unknown>; replicas?: number; stack?: string } = {}): TestResource {
    return {
        type: DEPLOYMENT, name: "web", stack: opts.stack,
        inputs: {
            apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "web", namespace: "hello" },
            spec: {
                replicas: opts.replicas ?? 2,
                selector: { matchLabels: { app: "web" } },
                template: {
                    metadata: { labels: { app: "web" } },
                    spec: { containers: [{ ...SECURE_CONTAINER, ...opts.container }], ...opts.podSpec },
                },
            },
        },
    };
}

const PROFILE: MonitoringProfile = {
    alertmanager: true, nodeExporter: true, retention: "7d",
    resources: { cpuRequest: "200m", memoryRequest: "1Gi", memoryLimit: "2Gi" },
};

function monitoringValues(): Record<string, any> {
    return JSON.parse(JSON.stringify(buildMonitoringValues({ profile: PROFILE, alertmanagerConfigSecret: "alertmanager-config" })));
}

/** A copy of charts/go-service whose deployment template is changed by `edit`, as a chart path for a release. */
function editedChart(edit: (template: string) => string): string {
    return chartCopy((chart) => {
        const file = path.join(chart, "templates", "deployment.yaml");
        fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
    });
}


function assertViolation(outcome: PolicyOutcome, ...patterns: RegExp[]): void {
    assert.ok(outcome.violations.length > 0, "expected a violation, got none");
    for (const pattern of patterns) {
        assert.ok(outcome.violations.some((v) => pattern.test(v)), `no violation matches ${pattern}:\n${outcome.violations.join("\n")}`);
    }
}

function assertNotApplicable(outcome: PolicyOutcome, pattern: RegExp): void {
    assert.deepStrictEqual(outcome.violations, []);
    assert.ok(outcome.notApplicable.some((r) => pattern.test(r)), `not applicable for ${pattern}? ${outcome.notApplicable.join("; ")}`);
}

describe("the policy pack", function () {
    afterEach(clearRenderCache);
    after(removeTempDirs);

    it("has unique names, a description and an explicit enforcement level for every policy", function () {
        const names = POLICIES.map((p) => p.name);
        assert.strictEqual(new Set(names).size, names.length);
        for (const p of POLICIES) {
            assert.ok(p.description.length > 40, `${p.name} describes itself`);
            assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", `${p.name} has a level`);
        }
        assert.deepStrictEqual(POLICIES.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name).sort(),
            ["atomic-helm-releases", "read-only-root-filesystem"]);
    });

    describe("images-by-digest (mandatory)", function () {
        it("GIVEN a workload whose image is pinned by digest THEN it passes", async function () {
            assertPasses(await runPolicy(imagesByDigest, deployment()));
        });

        it("GIVEN a workload that runs a tag THEN it names the container and the image", async function () {
            assertViolation(await runPolicy(imagesByDigest, deployment({ container: { image: "nginx:1.27" } })),
                /^Deployment hello\/web: container "app": image "nginx:1\.27" must be pinned by digest/);
        });

        it("GIVEN the service release with the program's values THEN the rendered Deployment runs the digest", async function () {
            assertPasses(await runPolicy(imagesByDigest, serviceRelease(serviceValues())));
        });

        it("GIVEN the service release with a tag instead of a digest THEN the rendered Deployment is refused", async function () {
            const values = { ...serviceValues(), image: { repository: "ghcr.io/acme/hello", tag: "1.2.3" } };
            assertViolation(await runPolicy(imagesByDigest, serviceRelease(values)),
                /release "hello" \(\.\/charts\/go-service rendered with its values\) → Deployment hello\/hello: container "go-service": image "ghcr\.io\/acme\/hello:1\.2\.3" must be pinned by digest/);
        });

        it("GIVEN a preview, where the image's digest is not known yet THEN the rest is still checked and passes", async function () {
            const outcome = await runPolicy(imagesByDigest, serviceRelease(serviceValues({}, UNKNOWN)));
            assertPasses(outcome);
            assert.deepStrictEqual(outcome.notApplicable.filter((r) => !r.startsWith("Policy only applies")), []);
        });

        it("GIVEN kube-prometheus-stack THEN it does not apply: a remote chart is pinned by its version instead", async function () {
            assertNotApplicable(await runPolicy(imagesByDigest, monitoringRelease(monitoringValues())), /pinned-helm-charts/);
        });
    });

    describe("GIVEN the service release's inputs as the real engine handed them to the pack (test/fixtures/real-preview)", function () {
        const release = (file: string, edit: (inputs: any) => void = () => undefined): TestResource => {
            const step = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "real-preview", file), "utf8"));
            edit(step.newState.inputs);
            return { type: RELEASE, name: "hello", inputs: step.newState.inputs, stack: "dev" };
        };
        const mandatory = POLICIES.filter((p) => p.enforcementLevel === "mandatory");
        const verdicts = async (resource: TestResource) => {
            const found: string[] = [];
            for (const policy of mandatory) {
                const outcome = await runPolicy(policy, resource, DEV);
                found.push(...outcome.violations.map((v) => `${policy.name}: ${v}`));
                found.push(...outcome.unknownDuringPreview.map((v) => `${policy.name} could not run: ${v}`));
            }
            return found;
        };

        it("WHEN the first preview builds the image (digest key dropped, version \"\") THEN every mandatory policy passes", async function () {
            const resource = release("first-preview.json");
            assert.strictEqual((resource.inputs as any).values.image.digest, undefined, "the provider dropped the unknown digest");
            assert.strictEqual((resource.inputs as any).version, "");
            assert.deepStrictEqual(await verdicts(resource), []);
        });

        it("WHEN a source change rebuilds the image THEN every mandatory policy passes", async function () {
            assert.deepStrictEqual(await verdicts(release("source-change-preview.json")), []);
        });

        it("WHEN nothing changed (digest known, version 0.1.0) THEN every mandatory policy passes", async function () {
            assert.deepStrictEqual(await verdicts(release("no-change-preview.json")), []);
        });

        it("WHEN everything is known but the digest is missing THEN the tag the chart falls back to is refused", async function () {
            const resource = release("no-change-preview.json", (inputs) => delete inputs.values.image.digest);
            assertViolation(await runPolicy(imagesByDigest, resource, DEV),
                /Deployment hello\/hello: container "go-service": image "registry\.local:5000\/hello:0\.1\.0" must be pinned by digest/);
        });

        it("WHEN the program keeps the unknown digest (allowNullValues) and states the version THEN every mandatory policy passes", async function () {
            const resource = release("first-preview.json", (inputs) => {
                inputs.values.image.digest = UNKNOWN;
                inputs.version = "0.1.0";
            });
            assert.deepStrictEqual(await verdicts(resource), []);
        });
    });

    describe("pod-security-restricted (mandatory)", function () {
        it("GIVEN a workload that meets restricted THEN it passes", async function () {
            assertPasses(await runPolicy(podSecurityRestricted, deployment()));
        });

        it("GIVEN a root, privileged container on the host network THEN every breach is named", async function () {
            const outcome = await runPolicy(podSecurityRestricted, deployment({
                container: { securityContext: { privileged: true, runAsUser: 0, capabilities: { add: ["SYS_ADMIN"] } } },
                podSpec: { hostNetwork: true, volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }] },
            }));
            assertViolation(outcome,
                /spec\.hostNetwork must not be true/,
                /volume "docker" is of type hostPath/,
                /container "app": securityContext\.privileged must not be true/,
                /container "app": securityContext\.allowPrivilegeEscalation must be false/,
                /container "app": runAsNonRoot must be true/,
                /container "app": runAsUser must not be 0/,
                /container "app": seccompProfile\.type must be RuntimeDefault or Localhost/,
                /container "app": securityContext\.capabilities\.drop must include ALL/,
                /capabilities\.add may only hold NET_BIND_SERVICE, not SYS_ADMIN/);
        });

        it("GIVEN a container that binds a port on its node (hostPort) THEN the port is named", async function () {
            assertViolation(await runPolicy(podSecurityRestricted, deployment({ container: { ports: [{ containerPort: 8080, hostPort: 80 }] } })),
                /container "app": hostPort 80 must not be used/);
        });

        it("GIVEN host PID or IPC, or a port without hostPort THEN only the host namespaces are named", async function () {
            const outcome = await runPolicy(podSecurityRestricted, deployment({
                container: { ports: [{ containerPort: 8080 }] }, podSpec: { hostPID: true, hostIPC: true },
            }));
            assert.deepStrictEqual(outcome.violations.map((v) => v.replace(/^Deployment hello\/web: /, "")),
                ["spec.hostPID must not be true", "spec.hostIPC must not be true"]);
        });

        it("GIVEN an init container and an ephemeral container that break restricted THEN each is named as what it is", async function () {
            const loose = { securityContext: { allowPrivilegeEscalation: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "Localhost" } } };
            const outcome = await runPolicy(podSecurityRestricted, deployment({
                podSpec: { initContainers: [{ name: "migrate", ...loose }], ephemeralContainers: [{ ...loose }] },
            }));
            assert.deepStrictEqual(outcome.violations.map((v) => v.replace(/^Deployment hello\/web: /, "")), [
                'init container "migrate": securityContext.allowPrivilegeEscalation must be false',
                'ephemeral container "#0": securityContext.allowPrivilegeEscalation must be false',
            ]);
        });

        it("GIVEN NET_BIND_SERVICE added back, or root only at the pod level THEN the first passes and the second is refused", async function () {
            const ctx = { ...SECURE_CONTAINER.securityContext, runAsUser: undefined, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } };
            assertPasses(await runPolicy(podSecurityRestricted, deployment({ container: { securityContext: ctx } })));
            assertViolation(await runPolicy(podSecurityRestricted, deployment({ container: { securityContext: ctx }, podSpec: { securityContext: { runAsUser: 0 } } })),
                /container "app": runAsUser must not be 0 \(root\)/);
        });

        it("GIVEN a container's own Unconfined seccomp under a RuntimeDefault pod THEN the container's setting wins and is refused", async function () {
            const ctx = { ...SECURE_CONTAINER.securityContext, seccompProfile: { type: "Unconfined" } };
            assertViolation(await runPolicy(podSecurityRestricted, deployment({
                container: { securityContext: ctx }, podSpec: { securityContext: { seccompProfile: { type: "RuntimeDefault" } } },
            })), /container "app": seccompProfile\.type must be RuntimeDefault or Localhost/);
        });

        it("GIVEN volumes of allowed types THEN they pass; a hostPath among them is named alone", async function () {
            const volumes = [{ name: "tmp", emptyDir: {} }, { name: "cfg", configMap: { name: "cfg" } }, { name: "root", hostPath: { path: "/" } }];
            assert.deepStrictEqual((await runPolicy(podSecurityRestricted, deployment({ podSpec: { volumes } }))).violations,
                ['Deployment hello/web: volume "root" is of type hostPath, which restricted does not allow']);
        });

        it("GIVEN the pod-level securityContext sets runAsNonRoot and seccomp THEN containers inherit it", async function () {
            const ctx = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
            assertPasses(await runPolicy(podSecurityRestricted, deployment({
                container: { securityContext: ctx },
                podSpec: { securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } } },
            })));
        });

        it("GIVEN the service release THEN the pods the chart renders meet restricted", async function () {
            assertPasses(await runPolicy(podSecurityRestricted, serviceRelease(serviceValues())));
        });

        it("GIVEN a chart whose template lets the container escalate privileges THEN the release is refused", async function () {
            const chart = editedChart((t) => t.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"));
            assertViolation(await runPolicy(podSecurityRestricted, serviceRelease(serviceValues(), { chart })),
                /→ Deployment hello\/hello: container "go-service": securityContext\.allowPrivilegeEscalation must be false/);
        });

        it("GIVEN helm is not on PATH THEN it fails closed and says how to fix it", async function () {
            const saved = process.env.PATH;
            process.env.PATH = "/nonexistent";
            try {
                assertViolation(await runPolicy(podSecurityRestricted, serviceRelease(serviceValues())),
                    /cannot check the objects it installs, helm is not on PATH.*scripts\/tools\.sh.*fail closed/);
            } finally {
                process.env.PATH = saved;
            }
        });
    });

    describe("read-only-root-filesystem (advisory)", function () {
        it("GIVEN a read-only root filesystem THEN it passes; GIVEN a writable one THEN it advises an emptyDir", async function () {
            assertPasses(await runPolicy(readOnlyRootFilesystem, deployment()));
            assertViolation(await runPolicy(readOnlyRootFilesystem, deployment({
                container: { securityContext: { ...SECURE_CONTAINER.securityContext, readOnlyRootFilesystem: false } },
            })), /container "app": securityContext\.readOnlyRootFilesystem should be true \(mount an emptyDir/);
        });

        it("GIVEN an ephemeral debug container with a writable root THEN it is not advised (it cannot mount a volume)", async function () {
            assertPasses(await runPolicy(readOnlyRootFilesystem, deployment({ podSpec: { ephemeralContainers: [{ name: "debug" }] } })));
            assertViolation(await runPolicy(readOnlyRootFilesystem, deployment({ podSpec: { initContainers: [{ name: "migrate" }] } })),
                /init container "migrate": securityContext\.readOnlyRootFilesystem should be true/);
        });

        it("GIVEN helm is not on PATH THEN the advice says it could not check, without failing closed", async function () {
            const saved = process.env.PATH;
            process.env.PATH = "/nonexistent";
            try {
                const outcome = await runPolicy(readOnlyRootFilesystem, serviceRelease(serviceValues()));
                assertViolation(outcome, /cannot check the objects it installs, helm is not on PATH/);
                assert.ok(outcome.violations.every((v) => v.endsWith('put helm v3 on PATH (PATH="$(scripts/tools.sh):$PATH")')), outcome.violations.join("\n"));
            } finally {
                process.env.PATH = saved;
            }
        });
    });

    describe("container-resources (mandatory)", function () {
        it("GIVEN requests and a memory limit THEN it passes, without a CPU limit", async function () {
            assertPasses(await runPolicy(containerResources, deployment()));
            assertPasses(await runPolicy(containerResources, serviceRelease(serviceValues())));
        });

        it("GIVEN a container without a memory limit THEN it names what is missing", async function () {
            assertViolation(await runPolicy(containerResources, deployment({ container: { resources: { requests: { cpu: "100m" } } } })),
                /container "app": resources\.requests\.memory, resources\.limits\.memory must be set/);
        });

        it("GIVEN kube-prometheus-stack without Prometheus resources THEN it is refused; with them it passes", async function () {
            assertPasses(await runPolicy(containerResources, monitoringRelease(monitoringValues())));
            const values = monitoringValues();
            delete values.prometheus.prometheusSpec.resources.limits;
            assertViolation(await runPolicy(containerResources, monitoringRelease(values)),
                /kube-prometheus-stack\): prometheus\.prometheusSpec\.resources\.limits\.memory must be set/);
        });

        it("GIVEN an empty memory request, or an init container without resources THEN each is named; an ephemeral container is not", async function () {
            assertViolation(await runPolicy(containerResources, deployment({ container: { resources: { requests: { cpu: "100m", memory: "" }, limits: { memory: "128Mi" } } } })),
                /container "app": resources\.requests\.memory must be set/);
            const outcome = await runPolicy(containerResources, deployment({ podSpec: { initContainers: [{ name: "migrate" }], ephemeralContainers: [{ name: "debug" }] } }));
            assert.deepStrictEqual(outcome.violations,
                ['Deployment hello/web: init container "migrate": resources.requests.cpu, resources.requests.memory, resources.limits.memory must be set']);
        });

        it("GIVEN kube-prometheus-stack values without any prometheus key THEN every Prometheus resource is asked for", async function () {
            const values = monitoringValues();
            delete values.prometheus;
            assertViolation(await runPolicy(containerResources, monitoringRelease(values)),
                /prometheus\.prometheusSpec\.resources\.requests\.cpu, prometheus\.prometheusSpec\.resources\.requests\.memory, prometheus\.prometheusSpec\.resources\.limits\.memory must be set: Prometheus' memory grows with its series/);
        });

        it("GIVEN kube-prometheus-stack named through a repository alias THEN Prometheus' resources are still required", async function () {
            const values = monitoringValues();
            delete values.prometheus.prometheusSpec.resources;
            assertViolation(await runPolicy(containerResources, monitoringRelease(values, { chart: "prometheus-community/kube-prometheus-stack" })),
                /prometheus\.prometheusSpec\.resources\.requests\.cpu/);
            assertViolation(await runPolicy(noSecretsInHelmValues, monitoringRelease({}, { chart: "prometheus-community/kube-prometheus-stack" })),
                /grafana\.admin\.existingSecret must name the Secret/);
        });

        it("GIVEN another chart from a repository THEN it does not apply (its resources values are unknown to the pack)", async function () {
            const outcome = await runPolicy(containerResources, monitoringRelease({}, { chart: "redis", repositoryOpts: { repo: "https://charts.example.com" } }));
            assertNotApplicable(outcome, /^release "kube-prometheus-stack" \(redis\): a chart from a repository whose resources values the pack does not know$/);
        });
    });

    describe("namespace-pod-security (mandatory)", function () {
        it("GIVEN a namespace that enforces, audits and warns at restricted THEN it passes", async function () {
            assertPasses(await runPolicy(namespacePodSecurity, namespace("hello", "restricted"), PROD));
        });

        it("GIVEN the exempted monitoring namespace, privileged with a reason THEN it passes in prod", async function () {
            assertPasses(await runPolicy(namespacePodSecurity, namespace("monitoring", "privileged", { reason: "node exporter reads the host" }), PROD));
        });

        it("GIVEN a namespace that is not exempted enforcing baseline THEN it is refused", async function () {
            assertViolation(await runPolicy(namespacePodSecurity, namespace("hello", "baseline", { reason: "convenience" }), PROD),
                /Namespace hello: enforces "baseline", but only restricted is allowed; it is not among the exempted namespaces \(monitoring\)/);
        });

        it("GIVEN an exempted namespace without a recorded reason THEN it asks for the annotation", async function () {
            assertViolation(await runPolicy(namespacePodSecurity, namespace("monitoring", "privileged"), PROD),
                /Namespace monitoring: enforces "privileged" without saying why: annotate it with hello\.platform\/pod-security-exemption/);
        });

        it("GIVEN dev, where monitoring is exempted only to baseline THEN privileged is refused", async function () {
            assertViolation(await runPolicy(namespacePodSecurity, namespace("monitoring", "privileged", { reason: "node exporter" }), DEV),
                /enforces "privileged", weaker than its exemption allows \("baseline"\)/);
        });

        it("GIVEN a namespace that does not audit and warn at restricted THEN it is refused", async function () {
            assertViolation(await runPolicy(namespacePodSecurity, namespace("hello", "restricted", { labels: { "pod-security.kubernetes.io/warn": "baseline" } }), PROD),
                /label pod-security\.kubernetes\.io\/warn must be restricted \(found "baseline"\)/);
        });

        it("GIVEN a namespace without an enforce label, or with a level that does not exist THEN it asks for restricted", async function () {
            const bare: TestResource = { type: "kubernetes:core/v1:Namespace", name: "bare", inputs: { metadata: { name: "bare" } } };
            assert.deepStrictEqual((await runPolicy(namespacePodSecurity, bare, PROD)).violations, [
                "Namespace bare: label pod-security.kubernetes.io/enforce must be restricted (found none)",
                "Namespace bare: label pod-security.kubernetes.io/audit must be restricted (found none), so that what restricted would refuse shows up",
                "Namespace bare: label pod-security.kubernetes.io/warn must be restricted (found none), so that what restricted would refuse shows up",
            ]);
            assertViolation(await runPolicy(namespacePodSecurity, namespace("hello", "restricted", { labels: { "pod-security.kubernetes.io/enforce": "strict" } }), PROD),
                /^Namespace hello: label pod-security\.kubernetes\.io\/enforce must be restricted \(found "strict"\)$/);
        });

        it("GIVEN an exemption whose reason is blank THEN it still asks why; GIVEN exactly the level exempted THEN it passes", async function () {
            assertViolation(await runPolicy(namespacePodSecurity, namespace("monitoring", "baseline", { reason: "  " }), DEV), /without saying why/);
            assertPasses(await runPolicy(namespacePodSecurity, namespace("monitoring", "baseline", { reason: "node exporter" }), DEV));
        });

        it("GIVEN a policy config without exemptions THEN no namespace may be weaker than restricted", async function () {
            const none = { ...PROD, "namespace-pod-security": { ...PROD["namespace-pod-security"], podSecurityExemptions: {} } };
            assertViolation(await runPolicy(namespacePodSecurity, namespace("monitoring", "privileged", { reason: "node exporter" }), none),
                /enforces "privileged", but only restricted is allowed; it is not among the exempted namespaces \(none\)/);
        });
    });

    describe("no-load-balancer-in-prod (mandatory)", function () {
        const lbService: TestResource = {
            type: "kubernetes:core/v1:Service", name: "public", stack: "prod",
            inputs: { metadata: { name: "public", namespace: "hello" }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } },
        };

        it("GIVEN a LoadBalancer Service in prod THEN it is refused, naming the exception's config file", async function () {
            assertViolation(await runPolicy(noLoadBalancerInProd, lbService, PROD),
                /Service hello\/public is a LoadBalancer, a public endpoint: .*"allowLoadBalancer": true for the stack in policy\/config\/prod\.json/);
        });

        it("GIVEN a ClusterIP Service in prod THEN it passes", async function () {
            const clusterIp = { ...lbService, inputs: { ...(lbService.inputs as object), spec: { type: "ClusterIP" } } };
            assertPasses(await runPolicy(noLoadBalancerInProd, clusterIp, PROD));
        });

        it("GIVEN staging THEN it does not apply", async function () {
            assertNotApplicable(await runPolicy(noLoadBalancerInProd, { ...lbService, stack: "staging" }, STAGING), /prod only; this stack's environment is staging \(policy config\)/);
        });

        it("GIVEN prod where the platform team set allowLoadBalancer THEN it does not apply", async function () {
            const allowed = { ...PROD, "no-load-balancer-in-prod": { environment: "prod", allowLoadBalancer: true } };
            assertNotApplicable(await runPolicy(noLoadBalancerInProd, lbService, allowed), /allowed this stack a LoadBalancer/);
        });

        it("GIVEN no policy config THEN the stack name decides, and an unknown stack is held to prod's rules", async function () {
            assertViolation(await runPolicy(noLoadBalancerInProd, lbService), /is a LoadBalancer/);
            assertViolation(await runPolicy(noLoadBalancerInProd, { ...lbService, stack: "qa" }), /policy\/config\/qa\.json/);
            assertNotApplicable(await runPolicy(noLoadBalancerInProd, { ...lbService, stack: "dev" }), /environment is dev \(stack name\)/);
        });

        it("GIVEN the service release with serviceType LoadBalancer in prod THEN the rendered Service is refused", async function () {
            assertViolation(await runPolicy(noLoadBalancerInProd, serviceRelease(serviceValues({ serviceType: "LoadBalancer" }), { stack: "prod" }), PROD),
                /→ Service hello\/hello is a LoadBalancer/);
            assertPasses(await runPolicy(noLoadBalancerInProd, serviceRelease(serviceValues(), { stack: "prod" }), PROD));
        });

        it("GIVEN kube-prometheus-stack values that expose Grafana through a LoadBalancer in prod THEN it is refused", async function () {
            const values = monitoringValues();
            values.grafana.service = { type: "LoadBalancer" };
            assertViolation(await runPolicy(noLoadBalancerInProd, monitoringRelease(values, {}, "prod"), PROD),
                /values grafana\.service\.type is a LoadBalancer/);
        });

        it("GIVEN values that only mention a LoadBalancer elsewhere THEN only a service's type counts", async function () {
            const values = monitoringValues();
            values.grafana.service = { type: "ClusterIP" };
            values.grafana.note = { type: "LoadBalancer" };
            values.prometheus.service = null;
            assertPasses(await runPolicy(noLoadBalancerInProd, monitoringRelease(values, {}, "prod"), PROD));
        });

        it("GIVEN a Service without a spec THEN it passes (ClusterIP is the default)", async function () {
            assertPasses(await runPolicy(noLoadBalancerInProd, { ...lbService, inputs: { metadata: { name: "public" } } }, PROD));
        });

        it("GIVEN a stack without policy config THEN it is held to prod's rules, and the reason names the stack (or ? when the URN names none)", function () {
            assert.deepStrictEqual(resolveEnvironment("urn:pulumi:qa::hello-service::kubernetes:core/v1:Service::x", {}),
                { environment: "prod", source: 'stack "qa" has no policy config: held to prod\'s rules' });
            assert.deepStrictEqual(resolveEnvironment("not-a-urn", {}),
                { environment: "prod", source: 'stack "?" has no policy config: held to prod\'s rules' });
            assert.deepStrictEqual(resolveEnvironment("xurn:pulumi:dev::p::t::n", {}).source, 'stack "?" has no policy config: held to prod\'s rules');
        });
    });

    describe("min-replicas-in-prod (mandatory)", function () {
        it("GIVEN a Deployment of 1 replica in prod THEN it is refused; of 2 THEN it passes", async function () {
            assertViolation(await runPolicy(minReplicasInProd, deployment({ replicas: 1, stack: "prod" }), PROD),
                /Deployment hello\/web: runs 1 replica\(s\); prod needs at least 2/);
            assertPasses(await runPolicy(minReplicasInProd, deployment({ replicas: 2, stack: "prod" }), PROD));
        });

        it("GIVEN the service release with 1 replica and no autoscaler in prod THEN it is refused", async function () {
            assertViolation(await runPolicy(minReplicasInProd, serviceRelease(serviceValues({ replicas: 1 }), { stack: "prod" }), PROD),
                /→ Deployment hello\/hello: runs 1 replica\(s\)/);
        });

        it("GIVEN the service release autoscaled from 1 in prod THEN the autoscaler is refused", async function () {
            const values = serviceValues({ autoscaling: true, autoscalingMinReplicas: 1 });
            assertViolation(await runPolicy(minReplicasInProd, serviceRelease(values, { stack: "prod" }), PROD),
                /→ HorizontalPodAutoscaler hello\/hello: minReplicas is 1; prod keeps at least 2 pods/);
        });

        it("GIVEN the service release autoscaled from 3 in prod THEN it passes (the Deployment has no replicas field)", async function () {
            const values = serviceValues({ autoscaling: true, autoscalingMinReplicas: 3 });
            assertPasses(await runPolicy(minReplicasInProd, serviceRelease(values, { stack: "prod" }), PROD));
        });

        it("GIVEN dev THEN it does not apply", async function () {
            assertNotApplicable(await runPolicy(minReplicasInProd, deployment({ replicas: 1, stack: "dev" }), DEV), /prod only/);
        });

        it("GIVEN an autoscaler that keeps exactly 2 THEN it passes; one without minReplicas (Kubernetes' 1) THEN it is refused", async function () {
            const hpa = (min?: number) => serviceValues({ autoscaling: true, autoscalingMinReplicas: min ?? 2 });
            assertPasses(await runPolicy(minReplicasInProd, serviceRelease(hpa(2), { stack: "prod" }), PROD));
            assert.deepStrictEqual(replicaProblems([
                { kind: "HorizontalPodAutoscaler", metadata: { name: "web", namespace: "hello" }, spec: { scaleTargetRef: { kind: "Deployment", name: "web" } } },
                { kind: "Deployment", metadata: { name: "web", namespace: "hello" }, spec: {} },
            ]), ["HorizontalPodAutoscaler hello/web: minReplicas is 1; prod keeps at least 2 pods, so one failure or node drain never takes the service down"]);
        });

        it("GIVEN an autoscaler for another workload THEN it does not excuse a Deployment without replicas (1)", function () {
            const hpa = { kind: "HorizontalPodAutoscaler", metadata: { name: "hpa" }, spec: { minReplicas: 3, scaleTargetRef: { kind: "Deployment", name: "other" } } };
            const statefulHpa = { kind: "HorizontalPodAutoscaler", metadata: { name: "hpa2" }, spec: { minReplicas: 3, scaleTargetRef: { kind: "StatefulSet", name: "web" } } };
            assert.deepStrictEqual(replicaProblems([hpa, statefulHpa, { kind: "Deployment", metadata: { name: "web" } }, { kind: "StatefulSet", metadata: { name: "db" }, spec: { replicas: 1 } }]), [
                "Deployment web: runs 1 replica(s); prod needs at least 2 (or an autoscaler with minReplicas >= 2 shipped with it)",
                "StatefulSet db: runs 1 replica(s); prod needs at least 2 (or an autoscaler with minReplicas >= 2 shipped with it)",
            ]);
        });
    });

    describe("no-secrets-in-helm-values (mandatory)", function () {
        it("GIVEN the program's values, which only name Secrets THEN they pass", async function () {
            assertPasses(await runPolicy(noSecretsInHelmValues, serviceRelease(serviceValues({}, DIGEST))));
            assertPasses(await runPolicy(noSecretsInHelmValues, monitoringRelease(monitoringValues())));
        });

        it("GIVEN a Pulumi secret in the values THEN it is named by path, and its value is never printed", async function () {
            const values = monitoringValues();
            values.grafana.adminPassword = secret("hunter2-correct-horse");
            const outcome = await runPolicy(noSecretsInHelmValues, monitoringRelease(values));
            assertViolation(outcome,
                /release "kube-prometheus-stack": values grafana\.adminPassword holds a literal value under a key that names a credential; put it in a Kubernetes Secret/);
            assert.ok(outcome.violations.every((v) => !v.includes("hunter2")), "the secret itself is never in a message");
        });

        it("GIVEN credentials under innocent keys THEN their shape gives them away", async function () {
            const values = {
                ...serviceValues(),
                extraEnv: { UPSTREAM_URL: "https://bot:s3cr3t-pass@api.example.com/v1" },
                serviceMonitor: { enabled: true, interval: "30s", labels: { hook: "https://hooks.slack.com/services/T0/B0/abcdefgh" } },
            };
            assertViolation(await runPolicy(noSecretsInHelmValues, serviceRelease(values)),
                /values extraEnv\.UPSTREAM_URL holds a URL with a password in it/,
                /values serviceMonitor\.labels\.hook holds a chat webhook URL/);
        });

        it("GIVEN Alertmanager receivers in the values THEN the webhook URL and the receivers are refused", async function () {
            const values = monitoringValues();
            values.alertmanager.config = { receivers: [{ name: "team", webhook_configs: [{ url: "https://alerts.example.com/hook" }] }] };
            assertViolation(await runPolicy(noSecretsInHelmValues, monitoringRelease(values)),
                /values alertmanager\.config\.receivers\[0\]\.webhook_configs\[0\]\.url holds a literal value under a key that names a credential/,
                /alertmanager\.config holds receivers.*alertmanagerSpec\.useExistingSecret and configSecret/);
        });

        it("GIVEN a password only known at deploy time (an Output) in the values THEN it is refused in preview", async function () {
            const values = { ...monitoringValues(), grafana: { admin: { existingSecret: "grafana-admin" }, adminPassword: UNKNOWN } };
            assertViolation(await runPolicy(noSecretsInHelmValues, monitoringRelease(values)),
                /values grafana\.adminPassword holds a value computed at deploy time/);
        });

        it("GIVEN kube-prometheus-stack without grafana.admin.existingSecret THEN it is refused", async function () {
            const values = monitoringValues();
            delete values.grafana.admin;
            assertViolation(await runPolicy(noSecretsInHelmValues, monitoringRelease(values)), /grafana\.admin\.existingSecret must name the Secret/);
        });

        it("tells references to Secrets from secrets", function () {
            assert.deepStrictEqual(findSecrets({
                grafana: { admin: { existingSecret: "grafana-admin", passwordKey: "admin-password", userKey: "admin-user" } },
                ingress: { tls: { secretName: "hello-tls" } },
                alertmanager: { alertmanagerSpec: { useExistingSecret: true, configSecret: "alertmanager-config" } },
                imagePullSecrets: [{ name: "hello-pull" }],
                env: [{ name: "LOG_LEVEL", value: "info" }],
            }), []);
            assert.deepStrictEqual(findSecrets({ env: [{ name: "API_TOKEN", value: "abc" }], s3: { secretKey: "x", apiKey: "y" } })
                .map((f) => f.path), ["env[0].value", "s3.secretKey", "s3.apiKey"]);
        });

        it("reads keys whatever their case and separators, and tells a reference's name from the credential", function () {
            for (const key of ["admin-password", "ADMIN_PASSWORD", "admin.password", "apiToken", "api-key", "api.key"]) assert.ok(isSecretKey(key), key);
            for (const key of ["existingSecret", "useExistingSecret", "passwordKey", "adminPasswordKey", "tokenKey", "tls-key",
                "secretName", "passwordFile", "password-path", "configSecret", "secrets", "mountPath", "tokenRef"]) {
                assert.ok(!isSecretKey(key), key);
            }
            assert.ok(isSecretKey("mytokenkey"), "<credential>Key names a reference only as the whole key");
        });

        it("skips empty and null values, and finds a credential nested in a list under a credential key", function () {
            assert.deepStrictEqual(findSecrets({ password: "", apiKeys: ["k1", "k2"] }).map((f) => f.path), ["apiKeys[0]", "apiKeys[1]"]);
            assert.deepStrictEqual(findSecrets({ service: null, replicas: 2, enabled: true, password: null }), []);
        });

        it("treats url as the credential only inside a webhook, and value only under a credential's name", function () {
            assert.deepStrictEqual(findSecrets({
                webhook: { url: "https://alerts.example.com/hook" },
                homepage: { url: "https://example.com" },
                env: [{ name: "DB_PASSWORD", value: "pw" }, { name: "LOG_LEVEL", value: "info" }, { name: "X", url: "https://x" }],
            }).map((f) => f.path), ["webhook.url", "env[0].value"]);
        });

        it("GIVEN kube-prometheus-stack with Grafana disabled, or receivers without integrations THEN neither chart rule applies", async function () {
            const values = monitoringValues();
            values.grafana = { enabled: false };
            values.alertmanager.config = { receivers: [{ name: "null" }, null] };
            assertPasses(await runPolicy(noSecretsInHelmValues, monitoringRelease(values)));
            const other = { type: RELEASE, name: "redis", inputs: { name: "redis", chart: "redis", values: {} } };
            assertPasses(await runPolicy(noSecretsInHelmValues, other));
            const noAdmin = monitoringValues();
            noAdmin.grafana.admin = { existingSecret: "" };
            assertViolation(await runPolicy(noSecretsInHelmValues, monitoringRelease(noAdmin)), /^release "kube-prometheus-stack" \(kube-prometheus-stack\): grafana\.admin\.existingSecret must name the Secret/);
        });
    });

    describe("pinned-helm-charts (mandatory)", function () {
        it("GIVEN kube-prometheus-stack at the approved version from its repository THEN it passes", async function () {
            assertPasses(await runPolicy(pinnedHelmCharts, monitoringRelease(monitoringValues())));
        });

        it("GIVEN another version, or none THEN it names the approved one", async function () {
            assertViolation(await runPolicy(pinnedHelmCharts, monitoringRelease(monitoringValues(), { version: "88.4.0" })),
                /chart "kube-prometheus-stack" must be pinned to the approved version 88\.5\.0 \(version is 88\.4\.0\)/);
            assertViolation(await runPolicy(pinnedHelmCharts, monitoringRelease(monitoringValues(), { version: undefined })),
                /version is unset, which installs whatever is latest/);
        });

        it("GIVEN kube-prometheus-stack from the mirror the stack's policy config approves THEN it passes, from any other it is refused", async function () {
            const mirrored = { "pinned-helm-charts": { mirrors: { "kube-prometheus-stack": "oci://registry.example.com/charts" } } };
            const fromOci = monitoringRelease(monitoringValues(), {
                chart: "oci://registry.example.com/charts/kube-prometheus-stack", repositoryOpts: undefined,
            });
            assertPasses(await runPolicy(pinnedHelmCharts, fromOci, mirrored));
            assertViolation(await runPolicy(pinnedHelmCharts, fromOci, PROD),
                /chart "oci:\/\/registry\.example\.com\/charts\/kube-prometheus-stack" must come from https:\/\/prometheus-community\.github\.io\/helm-charts \(its repository is oci:\/\/registry\.example\.com\/charts\); a mirror is approved per stack in policy\/config\/<stack>\.json \(mirrors\)/);
            const fromHttp = monitoringRelease(monitoringValues(), { repositoryOpts: { repo: "https://charts.example.com/prometheus-community/" } });
            assertPasses(await runPolicy(pinnedHelmCharts, fromHttp,
                { "pinned-helm-charts": { mirrors: { "kube-prometheus-stack": "https://charts.example.com/prometheus-community" } } }));
            assertViolation(await runPolicy(pinnedHelmCharts, fromHttp, mirrored),
                /must come from https:\/\/prometheus-community\.github\.io\/helm-charts or its approved mirror oci:\/\/registry\.example\.com\/charts/);
        });

        it("GIVEN an approved mirror THEN it still holds the chart to the approved version", async function () {
            const mirrored = { "pinned-helm-charts": { mirrors: { "kube-prometheus-stack": "https://charts.example.com" } } };
            assertViolation(await runPolicy(pinnedHelmCharts,
                monitoringRelease(monitoringValues(), { repositoryOpts: { repo: "https://charts.example.com" }, version: "99.0.0" }), mirrored),
                /must be pinned to the approved version 88\.5\.0 \(version is 99\.0\.0\)/);
        });

        it("GIVEN a chart nobody approved THEN it is refused", async function () {
            assertViolation(await runPolicy(pinnedHelmCharts, monitoringRelease({}, { chart: "redis", repositoryOpts: { repo: "https://charts.example.com" } })),
                /chart "redis" is not approved \(approved: kube-prometheus-stack, go-service, grafana-dashboards\); a new chart is added to policy\/charts\.ts with the platform team/);
        });

        it("GIVEN the service chart at its approved path and version THEN it passes", async function () {
            assertPasses(await runPolicy(pinnedHelmCharts, serviceRelease(serviceValues())));
        });

        it("GIVEN the service chart bumped without approval THEN it asks for the approval in policy/charts.ts", function () {
            const project = tempDir("policy-project-");
            const chartDir = path.join(project, "charts", "go-service");
            fs.mkdirSync(chartDir, { recursive: true });
            fs.writeFileSync(path.join(chartDir, "Chart.yaml"), "apiVersion: v2\nname: go-service\nversion: 9.9.9\n");
            assert.deepStrictEqual(chartPinProblems({ chart: APPROVED_LOCAL_CHARTS[0].path }, {}, project), [
                `chart ./charts/go-service is version 9.9.9, the approved version is ${APPROVED_LOCAL_CHARTS[0].version}: approve the new version in policy/charts.ts with the platform team`,
            ]);
        });

        it("pins the service chart to the version in its Chart.yaml today", function () {
            const chartYaml = fs.readFileSync(path.join(__dirname, "..", "charts", "go-service", "Chart.yaml"), "utf8");
            assert.match(chartYaml, new RegExp(`^version: ${APPROVED_LOCAL_CHARTS[0].version.replace(/\./g, "\\.")}$`, "m"));
        });

        it("GIVEN the service chart with a version that is not its own THEN it is refused; with the provider's \"\" THEN it passes", function () {
            const chart = APPROVED_LOCAL_CHARTS[0];
            assert.deepStrictEqual(chartPinProblems({ chart: chart.path, version: "0.0.9" }),
                [`version 0.0.9 does not match the approved version ${chart.version} of ${chart.path}`]);
            assert.deepStrictEqual(chartPinProblems({ chart: chart.path, version: "" }), []);
            assert.deepStrictEqual(chartPinProblems({ chart: chart.path, version: chart.version }), []);
        });

        it("GIVEN a local chart nobody approved, or an approved path without a Chart.yaml THEN it says which", function () {
            const project = tempDir("policy-project-");
            assert.deepStrictEqual(chartPinProblems({ chart: "./charts/other" }, {}, project),
                [`local chart "./charts/other" is not approved (approved: ${APPROVED_LOCAL_CHARTS.map((c) => c.path).join(", ")})`]);
            assert.deepStrictEqual(chartPinProblems({ chart: APPROVED_LOCAL_CHARTS[0].path }, {}, project),
                [`chart ${APPROVED_LOCAL_CHARTS[0].path} is version unknown (no Chart.yaml), the approved version is ${APPROVED_LOCAL_CHARTS[0].version}: approve the new version in policy/charts.ts with the platform team`]);
        });

        it("tells a local chart from a repository's by its path, its Chart.yaml and its repository", function () {
            const project = tempDir("policy-project-");
            fs.mkdirSync(path.join(project, "vendored"));
            fs.writeFileSync(path.join(project, "vendored", "Chart.yaml"), "name: vendored\n");
            assert.deepStrictEqual(chartSource("vendored", undefined, project), { kind: "local", path: "vendored", dir: path.join(project, "vendored") });
            assert.deepStrictEqual(chartSource("./missing", undefined, project).kind, "local");
            assert.deepStrictEqual(chartSource("../elsewhere", undefined, project).kind, "local");
            assert.deepStrictEqual(chartSource("/abs/chart", undefined, project).kind, "local");
            assert.deepStrictEqual(chartSource("vendored", "https://charts.example.com", project),
                { kind: "remote", name: "vendored", repo: "https://charts.example.com" });
            assert.deepStrictEqual(chartSource("prometheus-community/kube-prometheus-stack", undefined, project),
                { kind: "remote", name: "kube-prometheus-stack", repo: undefined });
            assert.deepStrictEqual(chartSource("charts./x", undefined, project).kind, "remote");
        });
    });

    describe("atomic-helm-releases (advisory)", function () {
        it("GIVEN an atomic release with bounded history THEN it passes; GIVEN neither THEN it advises both", async function () {
            assertPasses(await runPolicy(atomicHelmReleases, serviceRelease(serviceValues())));
            assertViolation(await runPolicy(atomicHelmReleases, serviceRelease(serviceValues(), { extra: { atomic: false, maxHistory: undefined } })),
                /atomic should be true/, /maxHistory should be set/);
        });

        it("GIVEN skipAwait, or a history of 0 THEN it advises against each; a history of 1 is bounded", async function () {
            assert.deepStrictEqual((await runPolicy(atomicHelmReleases, serviceRelease(serviceValues(), { extra: { skipAwait: true, maxHistory: 0 } }))).violations, [
                'release "hello": skipAwait should not be true, or Pulumi reports success before the pods are ready',
                'release "hello": maxHistory should be set, so that release history (a Secret per revision) stays bounded',
            ]);
            assertPasses(await runPolicy(atomicHelmReleases, serviceRelease(serviceValues(), { extra: { skipAwait: false, maxHistory: 1 } })));
        });
    });

    describe("rendering a chart for the policies (policy/render.ts)", function () {
        it("hands helm a values file only this user can read, and removes it afterwards", async function () {
            let seen = "";
            const result = await withValuesFile({ a: 1 }, async (file) => {
                seen = file;
                assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
                assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")), { a: 1 });
                assert.match(path.basename(path.dirname(file)), /^helm-values-/);
                return "used";
            });
            assert.strictEqual(result, "used");
            assert.ok(!fs.existsSync(path.dirname(seen)), "the values' folder is gone");
            await assert.rejects(withValuesFile(undefined, async (file) => {
                assert.strictEqual(fs.readFileSync(file, "utf8"), "{}");
                seen = file;
                throw new Error("boom");
            }), /boom/);
            assert.ok(!fs.existsSync(path.dirname(seen)), "removed when helm fails too");
        });

        it("GIVEN a chart helm cannot render THEN helm's own words are in a HelmError", async function () {
            const err = await helmTemplate({ releaseName: "x", chartDir: tempDir("no-chart-"), namespace: "x", values: {} }).then(() => undefined, (e) => e);
            assert.ok(err instanceof HelmError, String(err));
            assert.strictEqual(err.name, "HelmError");
            assert.strictEqual(err.missing, false);
            assert.match(err.message, /^helm template failed: Error: .*Chart\.yaml/);
        });

        it("parses a manifest stream, skipping empty documents, and refuses YAML that does not parse", function () {
            assert.deepStrictEqual(parseManifests("---\n# only a comment\n---\nkind: A\n---\n---\nkind: B\n"), [{ kind: "A" }, { kind: "B" }]);
            assert.deepStrictEqual(parseManifests("plain text\n"), []);
            assert.throws(() => parseManifests("kind: [unclosed\n"), /^Error: rendered YAML does not parse: /);
        });
    });
});
