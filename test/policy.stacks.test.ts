/**
 * The policy pack against what the program really produces: each committed stack, run under Pulumi's mocks with the
 * secrets the platform team sets, passes every mandatory policy with the stack's own policy config, in an update
 * and in a preview (where the image digest is not known yet). And every stack has a policy config that matches it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { configuredStack, ProgramRun, ROOT, runProgram } from "../scripts/lib/program";
import { loadSettings } from "../stacks/load";
import { readStackFile } from "../stacks/stackFile";
import { POLICIES } from "../policy/policies";
import { packConfig, UNKNOWN } from "../policy/testing";
import { findings, toWire } from "./support/policy";

const STACKS = ["dev", "staging", "prod"] as const;

describe("the policy pack over each stack's resources, captured under mocks", function () {
    const runs = new Map<string, ProgramRun>();

    before(async function () {
        // With what the platform team sets once per stack; one process per run, all at once.
        const captures: [string, Promise<ProgramRun>][] = [
            ...STACKS.map((stack) => [stack, runProgram(configuredStack(stack))] as [string, Promise<ProgramRun>]),
            ["prod (preview)", runProgram(configuredStack("prod"), { preview: true })],
        ];
        for (const [name, run] of captures) runs.set(name, await run);
        for (const [name, run] of runs) assert.strictEqual(run.error, undefined, `the ${name} program failed: ${run.error}`);
    });

    for (const stack of STACKS) {
        it(`${stack}: every resource passes every mandatory policy, with policy/config/${stack}.json`, async function () {
            const { violations, skipped } = await findings(runs.get(stack)!, stack, "mandatory");
            assert.deepStrictEqual(violations, []);
            assert.deepStrictEqual(skipped, [], "every mandatory policy runs (none skipped for an unknown value)");
        });
    }

    it("prod in preview (the image digest unknown): every mandatory policy still runs and passes", async function () {
        const run = runs.get("prod (preview)")!;
        const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "hello")!;
        assert.strictEqual(toWire(release.inputs.values.image.digest), UNKNOWN, "the capture is a real preview");
        const { violations, skipped } = await findings(run, "prod", "mandatory");
        assert.deepStrictEqual(violations, []);
        assert.deepStrictEqual(skipped, []);
    });

    it("prod: the policies about pods looked inside the service release, and the chart policies at both releases", async function () {
        const { applied } = await findings(runs.get("prod")!, "prod", "mandatory");
        const release = "kubernetes:helm.sh/v3:Release";
        for (const policy of ["images-by-digest", "pod-security-restricted", "container-resources", "min-replicas-in-prod",
            "no-load-balancer-in-prod", "no-secrets-in-helm-values", "pinned-helm-charts"]) {
            assert.ok(applied.includes(`${policy} ${release}::hello`), `${policy} checked the service release`);
        }
        for (const policy of ["no-secrets-in-helm-values", "pinned-helm-charts", "container-resources"]) {
            assert.ok(applied.includes(`${policy} ${release}::monitoring`), `${policy} checked kube-prometheus-stack`);
        }
        assert.ok(applied.includes("namespace-pod-security kubernetes:core/v1:Namespace::monitoring"));
    });

    it("prod: the advisory policies have nothing to say either", async function () {
        assert.deepStrictEqual((await findings(runs.get("prod")!, "prod", "advisory")).violations, []);
    });
});

describe("the policy config of each stack (policy/config/<stack>.json)", function () {
    const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));

    it("exists for every stack file and names the stack's environment", function () {
        assert.ok(stackFiles.length >= 3);
        for (const file of stackFiles) {
            const raw = readStackFile(path.join(ROOT, file));
            const { settings } = loadSettings(raw);
            const config = packConfig(raw.stack);
            for (const [policy, props] of Object.entries(config)) {
                if ("environment" in props) assert.strictEqual(props.environment, settings.environment, `${raw.stack}: ${policy}.environment`);
            }
            assert.strictEqual(config["min-replicas-in-prod"]?.environment, settings.environment, `${raw.stack} names its environment`);
        }
    });

    it("approves exactly the chart mirror the stack file names, and none where it names none", function () {
        for (const file of stackFiles) {
            const raw = readStackFile(path.join(ROOT, file));
            const { settings } = loadSettings(raw);
            const mirrors = (packConfig(raw.stack)["pinned-helm-charts"]?.mirrors ?? {}) as Record<string, string>;
            const expected = settings.monitoringChartRepository === undefined ? {} : { "kube-prometheus-stack": settings.monitoringChartRepository };
            assert.deepStrictEqual(mirrors, expected, `${raw.stack}: policy/config/${raw.stack}.json mirrors`);
        }
    });

    it("only sets properties the policies declare, with the declared types", function () {
        const matches = (schema: PolicyConfigJSONSchema, value: unknown): boolean => {
            if (schema.enum && !schema.enum.includes(value as never)) return false;
            switch (schema.type) {
                case "string": return typeof value === "string";
                case "boolean": return typeof value === "boolean";
                case "object":
                    return typeof value === "object" && value !== null && Object.values(value).every((v) =>
                        typeof schema.additionalProperties !== "object" || matches(schema.additionalProperties, v));
                default: return true;
            }
        };
        for (const file of fs.readdirSync(path.join(ROOT, "policy", "config"))) {
            const config = packConfig(path.basename(file, ".json"));
            for (const [name, props] of Object.entries(config)) {
                const policy = POLICIES.find((p) => p.name === name);
                assert.ok(policy, `${file}: no policy named ${name}`);
                for (const [key, value] of Object.entries(props)) {
                    const schema = policy.configSchema?.properties[key];
                    assert.ok(schema, `${file}: ${name} declares no property ${key}`);
                    assert.ok(matches(schema, value), `${file}: ${name}.${key} = ${JSON.stringify(value)} does not match its schema`);
                }
            }
        }
    });

    it("keeps prod's LoadBalancer exception explicit, and off", function () {
        assert.strictEqual(packConfig("prod")["no-load-balancer-in-prod"]?.allowLoadBalancer, false);
    });
});
