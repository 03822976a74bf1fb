/**
 * The program, run under Pulumi's mocks with each committed stack file: the resources it would create, how
 * they hang together, the values each Helm release gets, and that no secret is ever plaintext.
 */
import * as assert from "assert";
import { chartChecksum, DASHBOARDS_CHART, SERVICE_CHART, projectPath, readChartYaml } from "../components/localChart";
import { KUBE_PROMETHEUS_STACK, MONITORING_RELEASE } from "../components/monitoringStack";
import { sourceRevision } from "../components/serviceImage";
import { loadSettings } from "../stacks/load";
import { helmTemplate, kubeScore } from "./support/chart";
import {
    CapturedResource, configuredStack, isSecretValue, ProgramRun, runProgram, stackConfig, TEST_SECRETS,
} from "../scripts/lib/program";

const STACKS = ["dev", "staging", "prod"] as const;
type Stack = (typeof STACKS)[number];

const K8S = "kubernetes:";
const APP_REVISION = sourceRevision(projectPath("app"));
const RELEASE = "kubernetes:helm.sh/v3:Release";

/** What the platform team sets once per stack with `pulumi config set --secret` (dev needs none). */
function secretsFor(stack: Stack): Record<string, string> {
    const { values, secretKeys } = configuredStack(stack);
    return Object.fromEntries([...secretKeys].map((k) => [k, values[k]]));
}

const TEST_SECRETS_NO_REGISTRY = Object.fromEntries(
    Object.entries(TEST_SECRETS).filter(([k]) => !k.endsWith(":registryPassword")));

function byType(run: ProgramRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}
function one(run: ProgramRun, type: string, name?: string): CapturedResource {
    const found = byType(run, type).filter((r) => name === undefined || r.name === name);
    assert.strictEqual(found.length, 1, `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    return found[0];
}
function urnOf(run: ProgramRun, r: CapturedResource): string {
    // URNs end in `<type>::<name>`; parents and dependencies refer to resources by URN.
    const urns = new Set(run.resources.flatMap((x) => [
        x.parent ?? "", ...x.dependencies, (x.provider ?? "").replace(/::[^:]*$/, ""),
    ]));
    const urn = [...urns].find((u) => u.endsWith(`::${r.name}`) && u.includes(r.type));
    assert.ok(urn, `no URN seen for ${r.type}::${r.name}`);
    return urn;
}
function releaseValues(run: ProgramRun, name: string): any {
    return one(run, RELEASE, name).inputs.values;
}

/** `value` out of its secret wrapper, if it has one. */
function unwrapped(value: any): any {
    return isSecretValue(value) ? value.value : value;
}

/** Every string in `value` that is not inside a secret wrapper. */
function plaintextStrings(value: unknown, out: string[] = []): string[] {
    if (isSecretValue(value)) return out;
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => plaintextStrings(v, out));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => plaintextStrings(v, out));
    return out;
}

describe("the program under mocks, for each committed stack", function () {
    const runs = new Map<Stack, ProgramRun>();

    before(async function () {
        // One process per stack (a program runs once per module cache), all at once.
        const results = await Promise.all(STACKS.map((stack) =>
            runProgram(configuredStack(stack))));
        STACKS.forEach((stack, i) => runs.set(stack, results[i]));
    });

    for (const stack of STACKS) {
        describe(`stack ${stack}`, function () {
            let run: ProgramRun;
            before(function () {
                run = runs.get(stack)!;
                assert.strictEqual(run.error, undefined, `the ${stack} program failed: ${run.error}`);
            });

            it("registers the four components and their resources", function () {
                const components = run.resources.filter((r) => !r.custom).map((r) => r.type).sort();
                assert.deepStrictEqual(components, [
                    "platform:index:MonitoringStack", "platform:index:ServiceImage",
                    "platform:index:ServiceMonitoring", "platform:index:ServiceRelease",
                ]);
                assert.strictEqual(byType(run, "docker:index/image:Image").length, 1);
                assert.strictEqual(byType(run, RELEASE).length, 3, "the service, kube-prometheus-stack and the dashboards");
                assert.strictEqual(byType(run, "kubernetes:core/v1:Namespace").length, 2);
                assert.strictEqual(byType(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").length, 1);
                assert.strictEqual(byType(run, "kubernetes:core/v1:ConfigMap").length, 0, "the dashboards' chart makes their ConfigMaps");
            });

            it("parents every resource but the provider to one of the components", function () {
                const componentUrns = run.resources.filter((r) => !r.custom).map((r) => urnOf(run, r));
                for (const r of run.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) {
                    assert.ok(r.parent && componentUrns.includes(r.parent), `${r.type}::${r.name} has parent ${r.parent}`);
                }
            });

            it("sends every Kubernetes resource through the stack's explicit provider, set to the stack's kubeContext", function () {
                const provider = one(run, "pulumi:providers:kubernetes");
                const expected = stackConfig(stack).values["hello-service:kubeContext"];
                assert.strictEqual(provider.inputs.context, expected);
                const providerUrn = urnOf(run, provider);
                const kube = run.resources.filter((r) => r.custom && r.type.startsWith(K8S));
                assert.ok(kube.length >= 7);
                for (const r of kube) {
                    assert.ok(r.provider?.startsWith(`${providerUrn}::`), `${r.type}::${r.name} uses provider ${r.provider}`);
                }
            });

            it("records no kubeconfig path, and names the cluster by the stack's context", function () {
                // A path would differ between a laptop and CI, and the same stack would preview as changed.
                const provider = one(run, "pulumi:providers:kubernetes").inputs;
                assert.strictEqual(provider.kubeconfig, "");
                assert.strictEqual(provider.clusterIdentifier, stackConfig(stack).values["hello-service:kubeContext"]);
                assert.strictEqual(JSON.parse(provider.enableSecretMutable), true, "a rotated secret is updated in place, never missing");
            });

            it("makes the service release and the PrometheusRule wait for kube-prometheus-stack (its CRDs), and nothing else", function () {
                const monitoringRelease = urnOf(run, one(run, RELEASE, "monitoring"));
                for (const r of [one(run, RELEASE, "hello"), one(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")]) {
                    assert.ok(r.dependencies.includes(monitoringRelease), `${r.type}::${r.name} does not wait for the monitoring release`);
                }
                const dashboards = one(run, RELEASE, "hello-dashboards");
                assert.ok(!dashboards.dependencies.includes(monitoringRelease), "the dashboards' ConfigMaps need no CRD: they install alongside");
            });

            it("deletes its PrometheusRule without waiting for the garbage collector (it has no dependents)", function () {
                const rule = one(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs;
                assert.strictEqual(rule.metadata.annotations["pulumi.com/deletionPropagationPolicy"], "background");
            });

            it("pins the service release to the pushed image's digest, never a tag", function () {
                const image = one(run, "docker:index/image:Image");
                const exported = run.outputs.imageRef.value as string;
                assert.match(exported, /^[^@]+@sha256:[0-9a-f]{64}$/);
                const values = releaseValues(run, "hello");
                assert.strictEqual(`${values.image.repository}@${values.image.digest}`, exported);
                assert.strictEqual(values.image.tag, undefined);
                assert.strictEqual(image.inputs.imageName.split(":").pop(), stack, "the pushed tag is the stack's moving tag");
            });

            it("builds the image from app/ with version, the last commit that changed app/ and its time", function () {
                const { build } = one(run, "docker:index/image:Image").inputs;
                assert.strictEqual(build.context, "./app");
                assert.strictEqual(build.platform, "linux/amd64");
                assert.match(build.args.VERSION, /^[0-9]+\.[0-9]+\.[0-9]+$/);
                assert.deepStrictEqual({ COMMIT: build.args.COMMIT, SOURCE_DATE_EPOCH: Number(build.args.SOURCE_DATE_EPOCH) },
                    { COMMIT: APP_REVISION.commit, SOURCE_DATE_EPOCH: APP_REVISION.time });
                assert.strictEqual(build.args.BUILDER_IMAGE, undefined, "the Dockerfile's pinned bases, unless mirrored");
            });

            it("installs the chart with a fixed release name and its version, atomically, with bounded history", function () {
                const release = one(run, RELEASE, "hello").inputs;
                assert.strictEqual(release.name, "hello");
                assert.strictEqual(release.chart, "./charts/go-service");
                assert.strictEqual(release.version, readChartYaml(projectPath(SERVICE_CHART)).version);
                assert.strictEqual(release.atomic, true);
                assert.strictEqual(release.cleanupOnFail, true);
                assert.strictEqual(release.maxHistory, 10);
                assert.strictEqual(release.allowNullValues, true, "an unknown digest stays unknown in a preview");
            });

            it("gives both releases the stack's helmTimeout", function () {
                const { settings } = loadSettings(configuredStack(stack));
                for (const release of byType(run, RELEASE)) {
                    assert.strictEqual(release.inputs.timeout, settings.helmTimeout, release.name);
                }
            });

            it("creates the service namespace with Pod Security Standards restricted enforced", function () {
                const ns = one(run, "kubernetes:core/v1:Namespace", "hello").inputs.metadata;
                assert.strictEqual(ns.name, "hello");
                assert.strictEqual(ns.labels["pod-security.kubernetes.io/enforce"], "restricted");
                assert.strictEqual(ns.labels["pod-security.kubernetes.io/warn"], "restricted");
            });

            it("labels every namespace to audit and warn at restricted, and records why one enforces less", function () {
                for (const ns of byType(run, "kubernetes:core/v1:Namespace")) {
                    const { labels, annotations } = ns.inputs.metadata;
                    assert.strictEqual(labels["pod-security.kubernetes.io/audit"], "restricted", ns.name);
                    assert.strictEqual(labels["pod-security.kubernetes.io/warn"], "restricted", ns.name);
                    if (labels["pod-security.kubernetes.io/enforce"] !== "restricted") {
                        assert.ok(annotations?.["hello.platform/pod-security-exemption"], `${ns.name} enforces less without a reason`);
                    }
                }
            });

            it("installs kube-prometheus-stack at the pinned version, selecting every release's monitors and rules", function () {
                const release = one(run, RELEASE, "monitoring").inputs;
                assert.strictEqual(release.name, MONITORING_RELEASE);
                assert.strictEqual(release.chart, KUBE_PROMETHEUS_STACK.chart);
                assert.strictEqual(release.version, KUBE_PROMETHEUS_STACK.version);
                assert.strictEqual(release.repositoryOpts.repo, KUBE_PROMETHEUS_STACK.repo);
                const spec = release.values.prometheus.prometheusSpec;
                for (const kind of ["serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig"]) {
                    assert.strictEqual(spec[`${kind}SelectorNilUsesHelmValues`], false, kind);
                }
            });

            it("gives Grafana its admin password through an existing Secret, never as a value", function () {
                const values = releaseValues(run, "monitoring");
                assert.deepStrictEqual(values.grafana.admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
                assert.strictEqual(values.grafana.adminPassword, undefined);
                const secret = one(run, "kubernetes:core/v1:Secret", "monitoring-grafana-admin").inputs;
                assert.strictEqual(secret.metadata.name, "grafana-admin");
                assert.ok(isSecretValue(secret.stringData["admin-password"]) || isSecretValue(secret.stringData),
                    "the admin password reaches the Secret as a Pulumi secret");
            });

            it("ships the alert rules as a PrometheusRule and the dashboards to Grafana's sidecar in the hello folder", function () {
                const rule = one(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").inputs;
                assert.strictEqual(rule.metadata.namespace, "hello");
                const groups = rule.spec.groups as { name: string; rules: { alert?: string }[] }[];
                assert.ok(groups.length >= 2 && groups.some((g) => g.rules.some((r) => r.alert)), "rule groups with alerts");
                const dashboards = one(run, RELEASE, "hello-dashboards").inputs;
                assert.strictEqual(dashboards.chart, "./charts/grafana-dashboards");
                assert.strictEqual(dashboards.namespace, "hello");
                assert.strictEqual(dashboards.values.folder, "hello");
                assert.deepStrictEqual(dashboards.values.annotations,
                    { "hello.platform/chart-checksum": chartChecksum(projectPath(DASHBOARDS_CHART)) }, "a template change shows");
                assert.deepStrictEqual(Object.keys(dashboards.values.dashboards).sort(), ["hello-overview", "hello-slo"]);
                for (const [uid, model] of Object.entries(dashboards.values.dashboards as Record<string, any>)) {
                    assert.strictEqual(model.uid, uid);
                    assert.ok(model.panels.length > 0, `${uid} has panels`);
                }
            });

            it("keeps every secret secret: none appears in plaintext in any resource input or output", function () {
                const generated = run.outputs.grafanaAdminPassword.value as string;
                const secrets = [...Object.values(secretsFor(stack)), generated];
                for (const r of run.resources) {
                    const leaked = plaintextStrings(r.inputs).filter((s) => secrets.some((secret) => s.includes(secret)));
                    assert.deepStrictEqual(leaked, [], `${r.type}::${r.name} holds a secret in plaintext`);
                }
                for (const [name, out] of Object.entries(run.outputs)) {
                    if (out.secret) continue;
                    const leaked = plaintextStrings(out.value).filter((s) => secrets.some((secret) => s.includes(secret)));
                    assert.deepStrictEqual(leaked, [], `output ${name} holds a secret in plaintext`);
                }
                assert.strictEqual(run.outputs.grafanaAdminPassword.secret, true);
            });

            it("keeps passwords out of every Helm release's values", function () {
                for (const release of byType(run, RELEASE)) {
                    const text = JSON.stringify(release.inputs.values);
                    for (const secret of [...Object.values(secretsFor(stack)), run.outputs.grafanaAdminPassword.value as string]) {
                        assert.ok(!text.includes(secret), `${release.name} values contain a secret`);
                    }
                    assert.doesNotMatch(text, /"(admin)?[pP]assword"\s*:/, `${release.name} values set a password`);
                }
            });

            it("exports what a platform engineer needs to reach the service and Grafana", function () {
                assert.deepStrictEqual(Object.keys(run.outputs).sort(), [
                    "grafanaAccess", "grafanaAdminPassword", "imageRef", "namespace", "releaseRevisions",
                    "serviceAccess", "serviceName",
                ]);
                assert.strictEqual(run.outputs.namespace.value, "hello");
                assert.strictEqual(run.outputs.serviceName.value, "hello");
                assert.deepStrictEqual(run.outputs.releaseRevisions.value, { service: 1, monitoring: 1 });
            });

            it("gives values that the real chart renders and kube-score passes without a finding", async function () {
                const values = releaseValues(run, "hello");
                const manifests = await helmTemplate(values, { releaseName: "hello", namespace: "hello" });
                const deployment = manifests.find((m) => m.kind === "Deployment")!;
                assert.strictEqual(deployment.spec.template.spec.containers[0].image, run.outputs.imageRef.value);
                assert.deepStrictEqual(await kubeScore(manifests, { minReplicas: stack === "dev" ? 1 : 2 }), []);
            });
        });
    }

    describe("per-environment profiles", function () {
        it("dev runs one pod without autoscaler or disruption budget, and slim monitoring", async function () {
            const run = runs.get("dev")!;
            const svc = releaseValues(run, "hello");
            assert.strictEqual(svc.replicaCount, 1);
            assert.strictEqual(svc.autoscaling.enabled, false);
            const manifests = await helmTemplate(svc, { releaseName: "hello", namespace: "hello" });
            assert.ok(!manifests.some((m) => m.kind === "PodDisruptionBudget"), "no PDB for a single pod");
            const mon = releaseValues(run, "monitoring");
            assert.strictEqual(mon.alertmanager.enabled, false);
            assert.strictEqual(mon.nodeExporter.enabled, false);
            assert.strictEqual(mon.prometheus.prometheusSpec.retention, "6h");
            assert.strictEqual(mon.prometheus.prometheusSpec.storageSpec, undefined);
            assert.strictEqual(byType(run, "kubernetes:core/v1:Secret").some((s) => s.name.includes("alertmanager")), false);
        });

        it("staging runs two pods with a disruption budget, Alertmanager routed to the webhook secret and persistent storage", async function () {
            const run = runs.get("staging")!;
            const svc = releaseValues(run, "hello");
            assert.strictEqual(svc.replicaCount, 2);
            assert.strictEqual(svc.autoscaling.enabled, false);
            const manifests = await helmTemplate(svc, { releaseName: "hello", namespace: "hello" });
            assert.strictEqual(manifests.find((m) => m.kind === "PodDisruptionBudget")?.spec.maxUnavailable, 1);
            const mon = releaseValues(run, "monitoring");
            assert.strictEqual(mon.alertmanager.enabled, true);
            assert.deepStrictEqual(mon.alertmanager.alertmanagerSpec, { useExistingSecret: true, configSecret: "alertmanager-config" });
            const storage = mon.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec;
            assert.strictEqual(storage.resources.requests.storage, "20Gi");
            const amSecret = one(run, "kubernetes:core/v1:Secret", "monitoring-alertmanager-config").inputs;
            assert.ok(isSecretValue(amSecret.stringData["alertmanager.yaml"]) || isSecretValue(amSecret.stringData));
        });

        it("prod autoscales from 3 to the stack's maximum with a disruption budget and 50Gi of Prometheus storage", async function () {
            const run = runs.get("prod")!;
            const svc = releaseValues(run, "hello");
            assert.deepStrictEqual(
                { enabled: svc.autoscaling.enabled, min: svc.autoscaling.minReplicas, max: svc.autoscaling.maxReplicas },
                { enabled: true, min: 3, max: 12 });
            const manifests = await helmTemplate(svc, { releaseName: "hello", namespace: "hello" });
            assert.strictEqual(manifests.find((m) => m.kind === "Deployment")!.spec.replicas, undefined,
                "no replicas field: pulumi up never fights the autoscaler");
            assert.ok(manifests.some((m) => m.kind === "HorizontalPodAutoscaler"));
            assert.ok(manifests.some((m) => m.kind === "PodDisruptionBudget"));
            const spec = releaseValues(run, "monitoring").prometheus.prometheusSpec;
            assert.strictEqual(spec.retention, "15d");
            assert.strictEqual(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, "50Gi");
            assert.strictEqual(spec.storageSpec.volumeClaimTemplate.spec.storageClassName, "premium-rwo");
        });

        it("staging and prod pull through an image pull secret built from the registry credentials", function () {
            for (const stack of ["staging", "prod"] as const) {
                const run = runs.get(stack)!;
                const pull = one(run, "kubernetes:core/v1:Secret", "hello-pull").inputs;
                assert.strictEqual(pull.type, "kubernetes.io/dockerconfigjson");
                assert.deepStrictEqual(releaseValues(run, "hello").imagePullSecrets, [{ name: "hello-pull" }]);
                const { registry } = one(run, "docker:index/image:Image").inputs;
                assert.ok(isSecretValue(registry) || isSecretValue(registry.password), "the registry password is a secret");
            }
            assert.deepStrictEqual(releaseValues(runs.get("dev")!, "hello").imagePullSecrets, []);
        });

        it("staging and prod's pull secret is the one the pods name, holding the registry login as the kubelet reads it", function () {
            const [user, password] = ["ci-bot", TEST_SECRETS["hello-service:registryPassword"]];
            for (const stack of ["staging", "prod"] as const) {
                const run = runs.get(stack)!;
                const pull = one(run, "kubernetes:core/v1:Secret", "hello-pull").inputs;
                assert.deepStrictEqual(pull.metadata, { name: releaseValues(run, "hello").imagePullSecrets[0].name, namespace: "hello" });
                assert.deepStrictEqual(JSON.parse(unwrapped(unwrapped(pull.stringData)[".dockerconfigjson"])), {
                    auths: { "ghcr.io": { username: user, password, auth: Buffer.from(`${user}:${password}`).toString("base64") } },
                });
            }
        });

        it("staging and prod install the service once its pull secret exists, so that the first pods can pull", function () {
            for (const stack of ["staging", "prod"] as const) {
                const dependencies = one(runs.get(stack)!, RELEASE, "hello").dependencies;
                assert.ok(dependencies.some((urn) => urn.endsWith("kubernetes:core/v1:Secret::hello-pull")), `${stack}: ${dependencies.join(", ")}`);
            }
        });
    });
});

describe("the program with an image CI already built, scanned and signed", function () {
    it("deploys that digest and builds nothing", async function () {
        const ref = `ghcr.io/acme/hello@sha256:${"c".repeat(64)}`;
        const run = await runProgram(stackConfig("prod", { values: { "hello-service:prebuiltImage": ref }, secrets: TEST_SECRETS_NO_REGISTRY }));
        assert.strictEqual(run.error, undefined);
        assert.strictEqual(byType(run, "docker:index/image:Image").length, 0);
        assert.strictEqual(run.outputs.imageRef.value, ref);
        const values = releaseValues(run, "hello");
        assert.deepStrictEqual(values.image, { repository: "ghcr.io/acme/hello", digest: `sha256:${"c".repeat(64)}` });
    });
});

describe("the program with mirrors for everything it downloads", function () {
    const digest = `sha256:${"d".repeat(64)}`;
    const mirrors = {
        "hello-service:monitoringChartRepository": "oci://registry.example.com/charts",
        "hello-service:builderImage": `registry.example.com/library/golang:1.26.8@${digest}`,
        "hello-service:runtimeImage": `registry.example.com/distroless/static-debian13:nonroot@${digest}`,
    };
    let run: ProgramRun;
    before(async function () {
        const prod = configuredStack("prod");
        run = await runProgram({ ...prod, values: { ...prod.values, ...mirrors } });
        assert.strictEqual(run.error, undefined);
    });

    it("installs the same kube-prometheus-stack version from the OCI mirror", function () {
        const release = one(run, RELEASE, "monitoring").inputs;
        assert.strictEqual(release.chart, "oci://registry.example.com/charts/kube-prometheus-stack");
        assert.strictEqual(release.version, KUBE_PROMETHEUS_STACK.version);
        assert.strictEqual(release.repositoryOpts, undefined);
    });

    it("builds on the mirrored base images", function () {
        const { args } = one(run, "docker:index/image:Image").inputs.build;
        assert.strictEqual(args.BUILDER_IMAGE, mirrors["hello-service:builderImage"]);
        assert.strictEqual(args.RUNTIME_IMAGE, mirrors["hello-service:runtimeImage"]);
    });
});

describe("the program in preview", function () {
    it("shows every release value but the image digest, which is unknown until the image is built", async function () {
        const run = await runProgram(stackConfig("dev"), { preview: true });
        assert.strictEqual(run.error, undefined);
        const values = one(run, RELEASE, "hello").inputs.values;
        assert.strictEqual(values.image.repository, "localhost:5001/hello");
        assert.strictEqual(values.replicaCount, 1);
        assert.strictEqual(run.outputs.imageRef.known, false);
    });
});
