/**
 * The real-engine tier: the project's program (index.ts) through a real Pulumi engine (CLI v3.276.0, driven by the
 * Automation API) and the real Kubernetes provider, against a real Kubernetes 1.34 API with a real node (kubelet,
 * containerd, runc, bridge networking: localcluster/). Each spec is one stack operation and what a platform engineer
 * would see of it; they run in order, on one stack, from `up` on an empty cluster to `destroy`. Where a spec changes the running
 * service, a steady load goes through the Service meanwhile and every failed request is counted.
 *
 * Made by the tier itself (nothing here can be pulled): the image, built by the Docker CLI on stand-in base images,
 * pushed to a registry that requires a login and pulled by the kubelet with the stack's pull secret, deployed through
 * `prebuiltImage` (the docker provider is not served by the Go module proxy); kube-prometheus-stack, a stand-in of the
 * pinned version with the real Prometheus Operator CRDs, served by a chart mirror on loopback through
 * `monitoringChartRepository`; and the Grafana admin password, set as a secret (the random provider is not served either).
 *
 * Needs Docker, Go and root: without them the tier skips on a laptop, and fails under CI=true.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { MONITORING_RELEASE } from "../../components/monitoringStack";
import { GRAFANA_SERVICE } from "../../scripts/lib/chartMirror";
import { waitFor } from "../../scripts/lib/process";
import { Load, startLoad } from "./support/load";
import { changes, diffOf, E2eStack, explain, ok } from "./support/stack";
import { key, startTier, Tier } from "./support/tier";

const SECRETS = {
    grafanaAdminPassword: "e2e-GRAFANA-admin-pw-1",
    alertWebhookUrl: "https://alerts.e2e.invalid/hooks/E2E-WEBHOOK-TOKEN",
};

describe("the program on a real engine and a real Kubernetes API (e2e)", function () {
    this.timeout(10 * 60_000);
    this.bail(true); // each spec starts from where the previous one left the stack

    let tier: Tier;
    let stack: E2eStack;
    /** Two builds of the service image, by digest: the first deployed, the second a new version. */
    let images: readonly string[];
    const kubectl = (...args: string[]) => tier.kubectl(...args);
    const json = (...args: string[]) => tier.json(...args);
    const deployment = () => json("get", "deployment", "hello", "--namespace", "hello");
    /** A steady load through the Service's cluster address while `during` runs; returns what `during` returned. */
    async function underLoad<T>(during: () => Promise<T>): Promise<T> {
        const ip = (await kubectl("get", "service", "hello", "--namespace", "hello", "--output", "jsonpath={.spec.clusterIP}")).trim();
        const load: Load = startLoad({ url: `http://${ip}/` });
        let result: T;
        try {
            result = await during();
        } finally {
            const report = await load.stop();
            console.log(`      ${report.summary}`);
            assert.equal(report.failed, 0, report.summary);
        }
        return result;
    }

    before(async function () {
        this.timeout(60 * 60_000); // a machine's first run builds the toolchain (about 30 min on two cores)
        tier = await startTier(this, __filename, { imageVersions: ["0.1.0-e2e.1", "0.1.0-e2e.2"] });
        images = tier.images;
        stack = await tier.programStack("e2e", {
            // Alertmanager on, so that the webhook's Secret exists for the secret spec.
            [key("alertmanager")]: "true",
        }, {
            [key("grafanaAdminPassword")]: SECRETS.grafanaAdminPassword,
            [key("alertWebhookUrl")]: SECRETS.alertWebhookUrl,
        });
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await tier?.stop();
    });

    it("1. up from empty creates what the stack says, in the cluster", async function () {
        const run = await stack.up();
        ok(run);
        assert.ok(tier.mirror.requests.some((r) => /^GET \/kube-prometheus-stack-[0-9.]+\.tgz 200$/.test(r)),
            `the chart came from the mirror: ${tier.mirror.requests.join(", ")}`);

        const ns = (name: string) => json("get", "namespace", name).then((n) => n.metadata.labels);
        assert.equal((await ns("hello"))["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal((await ns("monitoring"))["pod-security.kubernetes.io/enforce"], "baseline");

        const d = await deployment();
        const pod = d.spec.template.spec;
        const container = pod.containers[0];
        assert.equal(container.image, images[0], "the Deployment runs the image by digest");
        assert.equal(container.readinessProbe.httpGet.path, "/readyz");
        assert.equal(container.livenessProbe.httpGet.path, "/healthz");
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
        assert.equal(container.securityContext.readOnlyRootFilesystem, true);
        assert.equal(d.status.readyReplicas, 1, "the node runs the pod, Ready by its own probe");
        const ip = (await kubectl("get", "service", "hello", "--namespace", "hello", "--output", "jsonpath={.spec.clusterIP}")).trim();
        const greeting = await (await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(5000) })).text();
        assert.match(greeting, /^Hello, World! Counter: \d+/, "the service answers through its cluster address");

        for (const [kind, name, namespace] of [
            ["service", "hello", "hello"], ["networkpolicy", "hello", "hello"], ["servicemonitor", "hello", "hello"],
            ["prometheusrule", "hello-rules", "hello"], ["configmap", "dashboard-hello-overview", "hello"],
            ["configmap", "dashboard-hello-slo", "hello"], ["secret", "grafana-admin", "monitoring"],
            ["secret", "alertmanager-config", "monitoring"], ["service", GRAFANA_SERVICE, "monitoring"],
        ]) {
            assert.equal((await kubectl("get", kind, name, "--namespace", namespace, "--output", "name")).trim().split("/")[1], name);
        }
        assert.deepEqual(await tier.helm.releases(),
            ["hello/hello-dashboards: deployed", "hello/hello: deployed", `monitoring/${MONITORING_RELEASE}: deployed`]);
    });

    it("2. right after: preview --expect-no-changes passes, and refresh changes nothing", async function () {
        const preview = await stack.preview({ expectNoChanges: true });
        ok(preview);
        assert.deepEqual(Object.keys(changes(preview)), ["same"]);
        const refresh = await stack.refresh();
        ok(refresh);
        assert.deepEqual(Object.keys(changes(refresh)), ["same"]);
    });

    it("3. a replicas change previews as exactly that value, and up applies it as a new Helm revision", async function () {
        await stack.configure({ [key("replicas")]: "2" });
        const preview = await stack.preview();
        ok(preview);
        assert.deepEqual(changes(preview), { same: changes(preview).same, update: 1 });
        assert.deepEqual(diffOf(preview.output, "ServiceRelease$kubernetes:helm.sh/v3:Release::hello"),
            ["~ values: {", "~ replicaCount: 1 => 2", "}"]);

        ok(await stack.up());
        assert.deepEqual((await tier.helm.history("hello", "hello")).map((r) => r.revision), [1, 2]);
        assert.equal((await deployment()).spec.replicas, 2);
    });

    it("4. a new image digest rolls the Deployment to it, and no request fails meanwhile", async function () {
        const before = (await deployment()).metadata.generation;
        await stack.configure({ [key("prebuiltImage")]: images[1] });
        ok(await underLoad(() => stack.up()));
        const d = await deployment();
        assert.equal(d.spec.template.spec.containers[0].image, images[1]);
        assert.ok(d.metadata.generation > before, "a new rollout");
        assert.equal(d.status.updatedReplicas, 2);
    });

    it("5. after helm rollback, up --refresh (the documented way) restores what the code says, and no request fails meanwhile", async function () {
        await underLoad(() => tier.helm.rollback("hello", "hello", 1));
        assert.equal((await deployment()).spec.template.spec.containers[0].image, images[0], "rolled back");
        // Why the documented way refreshes: a Release is compared with the inputs Pulumi recorded, not the cluster.
        const blind = await stack.preview({ expectNoChanges: true });
        ok(blind);

        const run = await underLoad(() => stack.up({ refresh: true }));
        ok(run);
        const d = await deployment();
        assert.equal(d.spec.template.spec.containers[0].image, images[1]);
        assert.equal(d.spec.replicas, 2);
        assert.equal((await tier.helm.history("hello", "hello")).at(-1)?.status, "deployed");
    });

    it("6. no secret is in plaintext in the exported state or in Helm's release records", async function () {
        const state = await stack.exportedState();
        const records = (await tier.helm.records()).join("\n");
        for (const [name, value] of Object.entries({ ...SECRETS, registryPassword: tier.registry.password })) {
            const at = state.indexOf(value);
            assert.ok(at < 0, `the exported state holds ${name} in plaintext: ...${state.slice(Math.max(0, at - 600), at + 100)}`);
            assert.ok(!records.includes(value), `a Helm release record holds ${name} in plaintext`);
        }
        assert.ok(records.includes(images[1]), "the records were decoded (they name the image)");
    });

    it("7. rotating each secret changes its Kubernetes Secret, and nothing else", async function () {
        const secretValue = async (namespace: string, name: string, key: string) =>
            Buffer.from(JSON.parse(await kubectl("get", "secret", name, "--namespace", namespace, "--output", "json")).data[key], "base64").toString();
        const revisions = async () => [...(await tier.helm.history("hello", "hello")), ...(await tier.helm.history(MONITORING_RELEASE, "monitoring"))].length;
        const before = await revisions();
        const rotated = { grafanaAdminPassword: "e2e-GRAFANA-rotated-2", alertWebhookUrl: "https://alerts.e2e.invalid/hooks/ROTATED" };
        // The registry's token is rotated at the registry first, as an operator does: the up checks it before anything.
        await tier.registry.acceptPassword(`${tier.registry.password}-rotated`);
        await stack.configure({}, {
            [key("grafanaAdminPassword")]: rotated.grafanaAdminPassword,
            [key("alertWebhookUrl")]: rotated.alertWebhookUrl,
            [key("registryPassword")]: `${tier.registry.password}-rotated`,
        });
        try {
            const run = await stack.up();
            ok(run);
            assert.deepEqual(changes(run), { same: changes(run).same, update: 3 }, "the three Secrets, nothing else");
            assert.equal(await secretValue("monitoring", "grafana-admin", "admin-password"), rotated.grafanaAdminPassword);
            assert.match(await secretValue("monitoring", "alertmanager-config", "alertmanager.yaml"), /hooks\/ROTATED/);
            assert.match(await secretValue("hello", "hello-pull", ".dockerconfigjson"), /-rotated/);
            // No release upgraded: Grafana is not restarted and keeps the password it stored (README, "Set or rotate").
            assert.equal(await revisions(), before);
        } finally {
            await tier.registry.acceptPassword(tier.registry.password);
            await stack.configure({}, { ...Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [key(k), v])),
                [key("registryPassword")]: tier.registry.password });
            ok(await stack.up());
        }
    });

    it("8. a bad stack config fails before anything in the cluster changes", async function () {
        const snapshot = () => kubectl("get", "all,configmaps,secrets,servicemonitors,prometheusrules,networkpolicies",
            "--all-namespaces", "--output", "custom-columns=KIND:.kind,NS:.metadata.namespace,NAME:.metadata.name,RV:.metadata.resourceVersion");
        // Real pods of earlier rollouts may still be draining: the snapshot is taken once they are gone.
        await waitFor("the earlier rollouts' pods to end", async () => (await json("get", "pods", "--all-namespaces")).items
            .every((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp) ? true : undefined, 120_000, 500);
        const before = await snapshot();
        await stack.configure({ [key("replicas")]: "zero" });
        try {
            const run = await stack.up();
            assert.ok(run.error, "the update failed");
            assert.match(explain(run), /hello-service:replicas = "zero": must be a whole number from 1 to 50/);
            assert.match(explain(run), /nothing was deployed/);
            assert.equal(await snapshot(), before);
        } finally {
            await stack.configure({ [key("replicas")]: "2" });
        }
    });

    it("9. a deploy whose image crashes fails, is rolled back, says why while Helm waits, and the previous revision keeps serving", async function () {
        const revisions = (await tier.helm.history("hello", "hello")).length;
        const crashing = await tier.derivedImage(images[1], "crashing", ['ENTRYPOINT ["/hello-missing"]']);
        await stack.configure({ [key("prebuiltImage")]: crashing, [key("helmTimeout")]: "60" });
        try {
            const run = await underLoad(() => stack.up());
            assert.ok(run.error, "the update failed");
            // Helm's own error is only "context deadline exceeded", after its 60 s: the reason comes while it waits.
            const reason = /^Pod hello\/hello-[a-z0-9-]+: (BackOff: Back-off restarting failed container|Failed: .*hello-missing)/;
            const told = run.events.find((e) => e.diagnosticEvent?.severity === "warning" && reason.test(e.diagnosticEvent.message));
            assert.ok(told, `the reason reaches the user:\n${explain(run)}`);
            const after = told.timestamp - run.events[0].timestamp;
            assert.ok(after < 30, `told ${after} s after the deploy began, Helm waits 60 s`);
            // ... and the CLI prints it (diagnostics go to stderr, which the failure's message carries).
            assert.match(run.error.message, /warning: Pod hello\/hello-[a-z0-9-]+: (BackOff|Failed): /);
        } finally {
            await stack.configure({ [key("prebuiltImage")]: images[1], [key("helmTimeout")]: undefined });
        }
        const history = await tier.helm.history("hello", "hello");
        assert.deepEqual(history.slice(revisions).map((r) => r.status), ["failed", "deployed"], "rolled back");
        const d = await deployment();
        assert.equal(d.spec.template.spec.containers[0].image, images[1]);
        assert.equal(d.status.readyReplicas, 2, "the previous revision serves");
        ok(await stack.up());
    });

    it("10. the same stack previewed with its kubeconfig at another path shows no changes", async function () {
        const moved = path.join(tier.cluster.dir, "elsewhere", "config");
        fs.mkdirSync(path.dirname(moved));
        fs.copyFileSync(tier.cluster.kubeconfig, moved);
        stack.workspace.envVars.KUBECONFIG = moved;
        try {
            ok(await stack.preview({ expectNoChanges: true }));
        } finally {
            stack.workspace.envVars.KUBECONFIG = tier.cluster.kubeconfig;
        }
    });

    it("11. destroy leaves none of the program's namespaces, releases or objects (the CRDs stay, as Helm leaves them)", async function () {
        ok(await stack.destroy());
        const namespaces = (await kubectl("get", "namespaces", "--output", "name")).split("\n");
        assert.ok(!namespaces.includes("namespace/hello") && !namespaces.includes("namespace/monitoring"), namespaces.join(" "));
        assert.deepEqual(await tier.helm.releases(), []);
        assert.equal((await kubectl("get", "servicemonitors,prometheusrules,configmaps", "--all-namespaces",
            "--selector", "app.kubernetes.io/part-of=hello", "--output", "name")).trim(), "");
        assert.match(await kubectl("get", "crd", "servicemonitors.monitoring.coreos.com", "--output", "name"),
            /servicemonitors\.monitoring\.coreos\.com/);
    });
});
