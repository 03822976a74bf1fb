/**
 * The pod policies on every kind of workload, and the volumes Pod Security "restricted" admits. Each workload kind
 * keeps its pod spec at its own place (a Pod under `spec`, a CronJob under `spec.jobTemplate.spec.template.spec`,
 * the others under `spec.template.spec`): a pod that breaks a policy is refused whatever kind runs it, the message
 * naming the object, and the same pod made compliant passes. Every volume type restricted allows passes; a hostPath
 * does not.
 */
import * as assert from "assert";
import { containerResources, imagesByDigest, podSecurityRestricted, readOnlyRootFilesystem } from "../policy/policies";
import { runPolicy, TestResource } from "../policy/testing";
import { assertPasses, SECURE_CONTAINER } from "./support/policy";

/** A pod template as the workload controllers take it. */
function template(podSpec: Record<string, unknown>): Record<string, unknown> {
    return { metadata: { labels: { app: "web" } }, spec: podSpec };
}

const SELECTOR = { matchLabels: { app: "web" } };

/** Each kind that runs pods: its Pulumi type and its `spec` around a pod spec, written out as a manifest has it. */
const WORKLOADS: readonly { kind: string; type: string; spec(podSpec: Record<string, unknown>): Record<string, unknown> }[] = [
    { kind: "Pod", type: "kubernetes:core/v1:Pod", spec: (podSpec) => podSpec },
    { kind: "Deployment", type: "kubernetes:apps/v1:Deployment", spec: (podSpec) => ({ replicas: 2, selector: SELECTOR, template: template(podSpec) }) },
    {
        kind: "StatefulSet", type: "kubernetes:apps/v1:StatefulSet",
        spec: (podSpec) => ({ replicas: 2, serviceName: "web", selector: SELECTOR, template: template(podSpec) }),
    },
    { kind: "DaemonSet", type: "kubernetes:apps/v1:DaemonSet", spec: (podSpec) => ({ selector: SELECTOR, template: template(podSpec) }) },
    { kind: "ReplicaSet", type: "kubernetes:apps/v1:ReplicaSet", spec: (podSpec) => ({ replicas: 2, selector: SELECTOR, template: template(podSpec) }) },
    { kind: "Job", type: "kubernetes:batch/v1:Job", spec: (podSpec) => ({ template: template({ restartPolicy: "Never", ...podSpec }) }) },
    {
        kind: "CronJob", type: "kubernetes:batch/v1:CronJob",
        spec: (podSpec) => ({ schedule: "@daily", jobTemplate: { spec: { template: template({ restartPolicy: "Never", ...podSpec }) } } }),
    },
];

/** The workload `web` in namespace `hello` of `kind`, running one container: the secure one with `extra` over it. */
function workload(kind: string, extra: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): TestResource {
    const entry = WORKLOADS.find((w) => w.kind === kind)!;
    return {
        type: entry.type, name: "web",
        inputs: { metadata: { name: "web", namespace: "hello" }, spec: entry.spec({ containers: [{ ...SECURE_CONTAINER, ...extra }], ...podSpec }) },
    };
}

describe("the pod policies on every kind of workload", function () {
    for (const { kind } of WORKLOADS) {
        describe(kind, function () {
            it(`GIVEN a ${kind} whose pod meets every pod policy THEN every pod policy passes`, async function () {
                for (const policy of [podSecurityRestricted, containerResources, imagesByDigest, readOnlyRootFilesystem]) {
                    assertPasses(await runPolicy(policy, workload(kind)), `${policy.name} on a ${kind}`);
                }
            });

            it(`GIVEN a ${kind} whose container is privileged THEN pod-security-restricted refuses it, naming the ${kind} and the container`, async function () {
                const securityContext = { ...SECURE_CONTAINER.securityContext, privileged: true };
                assert.deepStrictEqual((await runPolicy(podSecurityRestricted, workload(kind, { securityContext }))).violations,
                    [`${kind} hello/web: container "app": securityContext.privileged must not be true`]);
            });

            it(`GIVEN a ${kind} whose container sets no resources THEN container-resources refuses it, naming the ${kind} and every missing field`, async function () {
                assert.deepStrictEqual((await runPolicy(containerResources, workload(kind, { resources: undefined }))).violations,
                    [`${kind} hello/web: container "app": resources.requests.cpu, resources.requests.memory, resources.limits.memory must be set`]);
            });

            it(`GIVEN a ${kind} that runs a tag THEN images-by-digest refuses it, naming the ${kind} and the image`, async function () {
                assert.deepStrictEqual((await runPolicy(imagesByDigest, workload(kind, { image: "ghcr.io/acme/hello:1.2.3" }))).violations,
                    [`${kind} hello/web: container "app": image "ghcr.io/acme/hello:1.2.3" must be pinned by digest (<repository>@sha256:<64 hex>), not a tag`]);
            });
        });
    }
});

describe("pod-security-restricted on volumes", function () {
    /** One volume of every type Pod Security Standards "restricted" allows, as a manifest would write it. */
    const ALLOWED: Record<string, unknown> = {
        configMap: { name: "web-config" },
        csi: { driver: "secrets-store.csi.k8s.io", readOnly: true },
        downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] },
        emptyDir: {},
        ephemeral: {
            volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
        },
        persistentVolumeClaim: { claimName: "web-data" },
        projected: { sources: [{ serviceAccountToken: { path: "token" } }] },
        secret: { secretName: "web-tls" },
    };

    for (const [type, source] of Object.entries(ALLOWED)) {
        it(`GIVEN a pod with one volume of type ${type} THEN it passes (restricted allows ${type})`, async function () {
            for (const { kind } of WORKLOADS) {
                const volumes = [{ name: "data", [type]: source }];
                assertPasses(await runPolicy(podSecurityRestricted, workload(kind, {}, { volumes })), `a ${type} volume in a ${kind}`);
            }
        });
    }

    it("GIVEN a pod with every allowed volume type at once THEN it passes", async function () {
        const volumes = Object.entries(ALLOWED).map(([type, source]) => ({ name: type.toLowerCase(), [type]: source }));
        assertPasses(await runPolicy(podSecurityRestricted, workload("Deployment", {}, { volumes })), "every allowed volume");
    });

    it("GIVEN a pod with a hostPath volume THEN it is refused in every kind, naming the object and the volume", async function () {
        for (const { kind } of WORKLOADS) {
            const volumes = [{ name: "host", hostPath: { path: "/var/lib" } }];
            assert.deepStrictEqual((await runPolicy(podSecurityRestricted, workload(kind, {}, { volumes }))).violations,
                [`${kind} hello/web: volume "host" is of type hostPath, which restricted does not allow`]);
        }
    });
});
