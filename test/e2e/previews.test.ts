/**
 * What a preview shows a reviewer, on the real engine and provider, for the changes a pull request brings: a new image
 * (being built in the same run), a dashboard, a rule. And what the engine hands the policy pack for the image (the pack
 * runs on exactly those inputs here; it cannot run under the CLI, whose Node.js language host is not served by the Go
 * module proxy). Each runs the project's own component (ServiceRelease, ServiceMonitoring) in a stack of its own.
 *
 * The docker provider is not served either, so the build is stood in for by what it hands the release: a digest the
 * engine does not know in a preview (`pulumi.unknown`, the SDK's own marker, sent to the provider as any unknown
 * output is) and knows in the update. Kubernetes resources cannot stand in: the provider's server-side dry run knows
 * their fields in a preview, and a provider resource's ID arrives as a marker string, not as an unknown. The release is the
 * project's own ServiceRelease component with the dev stack's settings.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";

import { RuleGroup, ServiceMonitoring } from "../../components/serviceMonitoring";
import { ServiceRelease } from "../../components/serviceRelease";
import { DASHBOARD_FOLDER, DashboardFile, dashboards } from "../../monitoring/dashboards";
import { ruleGroups } from "../../monitoring/ruleGroups";
import { DEFAULT_SLO } from "../../monitoring/slo";
import { POLICIES } from "../../policy/policies";
import { packConfig, runPolicy, UNKNOWN } from "../../policy/testing";
import { LocalCluster, startKwokCluster } from "./support/cluster";
import { changes, createComponentStack, diffOf, E2eStack, ok } from "./support/stack";
import { ensureToolchain, Toolchain } from "../../scripts/lib/toolchain";

const REPOSITORY = "registry.e2e.invalid/hello"; // simulated nodes pull nothing
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const RELEASE_URN = "ServiceRelease$kubernetes:helm.sh/v3:Release::hello";
const DEV_POLICY_CONFIG = packConfig("dev");

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

describe("previews a reviewer reads (e2e)", function () {
    this.timeout(5 * 60_000);
    let tools: Toolchain;
    let cluster: LocalCluster;

    before(async function () {
        this.timeout(60 * 60_000);
        tools = await ensureToolchain();
        cluster = await startKwokCluster(tools);
        // The ServiceMonitor and PrometheusRule CRDs, which kube-prometheus-stack installs in a full stack.
        for (const kind of ["servicemonitors", "prometheusrules"]) {
            await cluster.kubectl(["apply", "--server-side", "-f", path.join(tools.operatorCrds, `monitoring.coreos.com_${kind}.yaml`)]);
        }
    });

    after(async function () {
        this.timeout(60_000);
        await cluster?.stop();
    });

    describe("the service release while its image is being built in the same run", function () {
        this.bail(true);

        let stack: E2eStack;
        /** What the stand-in build produces on the next `up`. */
        let built = `${REPOSITORY}@${digest("a")}`;

        before(async function () {
            stack = await createComponentStack("e2e-build", {
                bin: tools.bin,
                cluster,
                program: (provider, settings) => {
                    // The stand-in build: its digest is unknown in a preview and known in an update, as a docker.Image's
                    // repoDigest is when the image is (re)built in the run.
                    const imageRef = (pulumi.runtime.isDryRun() ? pulumi.output(pulumi.unknown) : pulumi.output(built)) as pulumi.Output<string>;
                    new ServiceRelease("hello", {
                        namespace: settings.namespace, imageRef, repository: REPOSITORY, spec: settings,
                        monitoringStack: provider, timeoutSeconds: 120,
                    }, { providers: [provider] });
                },
            });
        });

        after(async function () {
            await stack?.destroy();
            await stack?.remove();
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

    describe("a change to a dashboard or a rule", function () {
        this.bail(true);

        let stack: E2eStack;
        /** Applied to the service's own dashboards and rules before the program ships them. */
        let edit: (shipped: { dashboards: DashboardFile[]; rules: RuleGroup[] }) => void = () => undefined;

        before(async function () {
            stack = await createComponentStack("e2e-monitoring", {
                bin: tools.bin,
                cluster,
                program: (provider) => {
                    const shipped = { dashboards: dashboards(), rules: ruleGroups({ slo: DEFAULT_SLO }) as RuleGroup[] };
                    edit(shipped);
                    new ServiceMonitoring("hello", {
                        namespace: "default", ruleGroups: shipped.rules, dashboards: shipped.dashboards, folder: DASHBOARD_FOLDER,
                        monitoringStack: provider, timeoutSeconds: 120,
                    }, { providers: [provider] });
                },
            });
            ok(await stack.up());
        });

        after(async function () {
            await stack?.destroy();
            await stack?.remove();
        });

        it("GIVEN one panel's title changed THEN the preview shows that title, and nothing else", async function () {
            edit = ({ dashboards: [overview] }) => {
                const panel = (overview.json as { panels: { title: string }[] }).panels[3];
                panel.title = `${panel.title} (reviewed)`;
            };
            const preview = await stack.preview();
            ok(preview);
            const title = (dashboards()[0].json as { panels: { title: string }[] }).panels[3].title;
            assert.deepEqual(diffOf(preview.output, "ServiceMonitoring$kubernetes:helm.sh/v3:Release::hello-dashboards"), [
                "~ values: {", "~ dashboards: {", "~ hello-overview: {", "~ panels: [", "~ [3]: {",
                `~ title: "${title}" => "${title} (reviewed)"`, "}", "]", "}", "}", "}",
            ]);
            assert.deepEqual({ ...changes(preview), same: 0 }, { same: 0, update: 1 }, "one resource updated, nothing else");
        });

        it("GIVEN one rule's expression changed THEN the preview shows that expression, and nothing else", async function () {
            edit = ({ rules: [group] }) => {
                const rule = group.rules[1] as { expr: string };
                (group.rules as Record<string, unknown>[])[1] = { ...rule, expr: `${rule.expr} * 1` };
            };
            const preview = await stack.preview();
            ok(preview);
            const expr = (ruleGroups({ slo: DEFAULT_SLO })[0].rules[1] as { expr: string }).expr;
            assert.deepEqual(diffOf(preview.output, "ServiceMonitoring$kubernetes:monitoring.coreos.com/v1:PrometheusRule::hello-rules"), [
                "~ spec: {", "~ groups: [", "~ [0]: {", "~ rules: [", "~ [1]: {",
                `~ expr: ${JSON.stringify(expr)} => ${JSON.stringify(`${expr} * 1`)}`, "}", "]", "}", "]", "}",
            ]);
        });
    });
});
