/**
 * The service release while the image it runs is being built in the same run, on the real engine and provider: what
 * a preview shows a reviewer, and what the engine hands the policy pack (the pack runs on exactly those inputs here; it
 * cannot run under the CLI, whose Node.js language host is not served by the Go module proxy).
 *
 * The docker provider is not served either, so the build is stood in for by what it hands the release: a digest the
 * engine does not know in a preview (`pulumi.unknown`, the SDK's own marker, sent to the provider as any unknown
 * output is) and knows in the update. Kubernetes resources cannot stand in: the provider's server-side dry run knows
 * their fields in a preview, and a provider resource's ID arrives as a marker string, not as an unknown. The release is the
 * project's own ServiceRelease component with the dev stack's settings.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";

import { ServiceRelease } from "../../components/serviceRelease";
import { POLICIES } from "../../policy/policies";
import { PackConfig, runPolicy, UNKNOWN } from "../../policy/testing";
import { loadSettings } from "../../stacks/load";
import { repoRoot } from "../support/docker";
import { LocalCluster, startCluster } from "./support/cluster";
import { createStack, E2eStack, PROJECT, Run } from "./support/stack";
import { ensureToolchain } from "./support/toolchain";

const REPOSITORY = "registry.e2e.invalid/hello"; // simulated nodes pull nothing
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const RELEASE_URN = "ServiceRelease$kubernetes:helm.sh/v3:Release::hello";
const DEV_POLICY_CONFIG = require(path.join(repoRoot, "policy", "config", "dev.json")) as PackConfig;

function ok<R>(run: Run<R>): R {
    assert.ok(!run.error, `${run.error?.message}\n${run.output.slice(-4000)}`);
    return run.result!;
}

/** The release's inputs as the engine handed them on in this run (after the provider's check). */
function releaseInputs(events: readonly EngineEvent[]): Record<string, any> {
    const step = events.map((e) => e.resourcePreEvent?.metadata).find((m) => m?.urn.endsWith(RELEASE_URN));
    assert.ok(step?.new, "no step for the service release");
    return step.new.inputs;
}

/** What every mandatory policy of the pack says about those inputs. */
async function packFindings(inputs: Record<string, any>): Promise<string[]> {
    const found: string[] = [];
    for (const policy of POLICIES.filter((p) => p.enforcementLevel === "mandatory")) {
        const outcome = await runPolicy(policy, { type: "kubernetes:helm.sh/v3:Release", name: "hello", inputs, stack: "dev" }, DEV_POLICY_CONFIG);
        found.push(...outcome.violations.map((v) => `${policy.name}: ${v}`), ...outcome.unknownDuringPreview.map((v) => `${policy.name}: ${v}`));
    }
    return found;
}

describe("the service release while its image is being built in the same run (e2e)", function () {
    this.timeout(5 * 60_000);
    this.bail(true);

    let cluster: LocalCluster;
    let stack: E2eStack;
    /** What the stand-in build produces on the next `up`. */
    let built = `${REPOSITORY}@${digest("a")}`;

    before(async function () {
        this.timeout(60 * 60_000);
        const tools = await ensureToolchain();
        cluster = await startCluster(tools.bin, tools.kwokStages);
        // The chart's ServiceMonitor needs its CRD, which kube-prometheus-stack installs in a stack.
        await cluster.kubectl(["apply", "--server-side", "-f", path.join(tools.operatorCrds, "monitoring.coreos.com_servicemonitors.yaml")]);
        const config = { [`${PROJECT}:kubeContext`]: cluster.context, [`${PROJECT}:registry`]: "registry.e2e.invalid" };
        const { settings } = loadSettings({ project: PROJECT, stack: "dev", secretKeys: new Set(), values: config });
        stack = await createStack("e2e-build", {
            bin: tools.bin,
            env: { KUBECONFIG: cluster.kubeconfig },
            program: async () => {
                const provider = new k8s.Provider("cluster", { kubeconfig: "", context: cluster.context, clusterIdentifier: cluster.context });
                // The stand-in build: its digest is unknown in a preview and known in an update, as a docker.Image's
                // repoDigest is when the image is (re)built in the run.
                const imageRef = (pulumi.runtime.isDryRun() ? pulumi.output(pulumi.unknown) : pulumi.output(built)) as pulumi.Output<string>;
                new ServiceRelease("hello", {
                    namespace: settings.namespace, imageRef, repository: REPOSITORY, spec: settings,
                    monitoringStack: provider, timeoutSeconds: 120,
                }, { providers: [provider] });
            },
        });
        await stack.configure(config); // the project declares both as required
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await stack?.destroy();
        await stack?.remove();
        await cluster?.stop();
    });

    it("GIVEN a first preview THEN the digest is unknown, not dropped, the version is the chart's, and the pack passes", async function () {
        const preview = await stack.preview();
        ok(preview);
        const inputs = releaseInputs(preview.events);
        assert.equal(inputs.values.image.digest, UNKNOWN);
        assert.equal(inputs.version, "0.1.0");
        assert.deepEqual(await packFindings(inputs), []);
    });

    it("GIVEN the image deployed and a new one being built THEN the preview shows the digest changing, and the pack passes", async function () {
        ok(await stack.up());
        built = `${REPOSITORY}@${digest("b")}`;
        const preview = await stack.preview();
        ok(preview);
        const text = preview.output;
        const release = text.slice(text.indexOf(`${RELEASE_URN}]`));
        assert.match(release, new RegExp(`~ digest\\s*: "${digest("a")}" => \\[unknown\\]`), text);
        assert.doesNotMatch(release, /- digest|version/, "no removal, and the version stays");
        const inputs = releaseInputs(preview.events);
        assert.equal(inputs.values.image.digest, UNKNOWN);
        assert.deepEqual(await packFindings(inputs), []);
    });

    it("GIVEN the new image built THEN up deploys it by digest, and the pack passes on the known inputs", async function () {
        const run = await stack.up();
        ok(run);
        const image = await cluster.kubectl(["get", "deployment", "hello", "--namespace", "hello",
            "--output", "jsonpath={.spec.template.spec.containers[0].image}"]);
        assert.equal(image, built);
        assert.deepEqual(await packFindings(releaseInputs(run.events)), []);
    });
});
