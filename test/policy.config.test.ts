/**
 * The policy pack's configuration and its fallbacks, as a `pulumi` user meets them: the config schema each policy
 * announces to the CLI (the properties a stack's policy/config/<stack>.json may set, their types, allowed values,
 * descriptions, and the defaults the CLI fills in when the file leaves a property out); what a release gets when the
 * pack cannot look inside it (a chart from a repository: a reason for not applying; a local chart helm cannot render:
 * a violation that says a mandatory policy fails closed); which values count as "not known yet" in a preview; and the
 * Kubernetes version charts are rendered for.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import {
    containerResources, imagesByDigest, minReplicasInProd, namespacePodSecurity, noLoadBalancerInProd, POLICIES,
    podSecurityRestricted, readOnlyRootFilesystem,
} from "../policy/policies";
import { isUnknown } from "../policy/releases";
import { clearRenderCache, KUBE_VERSION } from "../policy/render";
import { packConfig, PackConfig, PolicyOutcome, runPolicy, TestResource } from "../policy/testing";
import { monitoringRelease, namespace, removeTempDirs, serviceRelease, tempDir } from "./support/policy";

// @pulumi/policy's own conversion of a pack into what GetAnalyzerInfo sends the CLI (not in its typings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { makeAnalyzerInfo } = require("@pulumi/policy/protoutil") as {
    makeAnalyzerInfo(name: string, version: string, level: string, args: { policies: ResourceValidationPolicy[] }): any;
};
// The engine's unknown-checking proxy and everything its module exports (markers and the proxy's own names).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxyModule = require("@pulumi/policy/proxy") as Record<string, unknown> & {
    unknownCheckingProxy<T>(value: T): T;
    UnknownValueError: new (...args: any[]) => Error;
};

const PROD = packConfig("prod");
const FAIL_CLOSED = " (mandatory policies fail closed: the release is not deployed unchecked)";

type JsonSchema = Record<string, unknown>;

/** Policy name → its config properties, as the pack announces them to the CLI (policies without config left out). */
function announcedSchemas(): Record<string, Record<string, JsonSchema>> {
    const info = makeAnalyzerInfo("hello-service-guardrails", "0.0.0", "advisory", { policies: [...POLICIES] });
    return Object.fromEntries(info.getPoliciesList()
        .filter((p: any) => p.getConfigschema() !== undefined)
        .map((p: any) => [p.getName(), p.getConfigschema().getProperties().toJavaScript()]));
}

/** The config the CLI hands `policy` when the stack's policy config sets `given`: every announced default filled in. */
function withDefaults(policy: ResourceValidationPolicy, given: Record<string, unknown> = {}): PackConfig {
    const defaults = Object.entries(announcedSchemas()[policy.name] ?? {})
        .filter(([, schema]) => "default" in schema)
        .map(([key, schema]) => [key, schema.default]);
    return { [policy.name]: { ...Object.fromEntries(defaults), ...given } };
}

/** A prod namespace that says why it is exempted, as the program labels the monitoring one. */
function exemptNamespace(name: string, enforce: "restricted" | "baseline" | "privileged"): TestResource {
    return { ...namespace(name, enforce, { reason: "node exporter reads the host" }), stack: "prod" };
}

/** kube-prometheus-stack from its repository, as the program installs it. */
function kubePrometheusStack(stack = "dev"): TestResource {
    return monitoringRelease({ grafana: { admin: { existingSecret: "grafana-admin" } } }, {}, stack);
}

/** A release of a local chart at `chart` (an absolute path), named hello. */
function localRelease(chart: string, stack = "dev"): TestResource {
    return serviceRelease({}, { chart, stack });
}

/** The reasons the policy gave for not applying, without the engine's "only applies to resources of type" ones. */
function notApplicable(outcome: PolicyOutcome): string[] {
    return outcome.notApplicable.filter((r) => !r.startsWith("Policy only applies to resources of type"));
}

describe("the policy pack's configuration and fallbacks", function () {
    afterEach(clearRenderCache);
    after(removeTempDirs);

    describe("the config schema each policy announces to the Pulumi CLI", function () {
        const ENVIRONMENT = {
            type: "string",
            enum: ["dev", "staging", "prod"],
            description: "The stack's environment (policy/config/<stack>.json). Unset: the stack name if it is an environment, else prod.",
        };

        it("lets a stack's policy config set exactly these properties, each with a type and a description", function () {
            const schemas = announcedSchemas();
            assert.deepStrictEqual(Object.fromEntries(Object.entries(schemas).map(([name, props]) => [name, Object.keys(props).sort()])), {
                "namespace-pod-security": ["podSecurityExemptions"],
                "no-load-balancer-in-prod": ["allowLoadBalancer", "environment"],
                "min-replicas-in-prod": ["environment"],
                "pinned-helm-charts": ["mirrors"],
            });
            for (const [name, props] of Object.entries(schemas)) {
                for (const [key, schema] of Object.entries(props)) {
                    assert.ok(typeof schema.type === "string", `${name}.${key} has no type`);
                    assert.ok(typeof schema.description === "string" && schema.description.length > 0, `${name}.${key} has no description`);
                }
            }
        });

        it("environment: one of dev, staging, prod, without a default (unset, the stack name decides, else prod)", function () {
            const schemas = announcedSchemas();
            assert.deepStrictEqual(schemas["min-replicas-in-prod"].environment, ENVIRONMENT);
            assert.deepStrictEqual(schemas["no-load-balancer-in-prod"].environment, ENVIRONMENT);
        });

        it("podSecurityExemptions: namespace → baseline or privileged (restricted is no exemption), monitoring privileged by default", function () {
            assert.deepStrictEqual(announcedSchemas()["namespace-pod-security"].podSecurityExemptions, {
                type: "object",
                description: "Namespace name → the weakest Pod Security level it may enforce (baseline or privileged).",
                additionalProperties: { type: "string", enum: ["baseline", "privileged"] },
                default: { monitoring: "privileged" },
            });
        });

        it("allowLoadBalancer: a boolean, off unless the platform team turns it on", function () {
            assert.deepStrictEqual(announcedSchemas()["no-load-balancer-in-prod"].allowLoadBalancer, {
                type: "boolean",
                default: false,
                description: "The platform team allowed this prod stack a LoadBalancer Service (a deliberate public endpoint).",
            });
        });

        it("mirrors: chart name → an http(s):// or oci:// address, none by default", function () {
            const mirrors = announcedSchemas()["pinned-helm-charts"].mirrors;
            assert.deepStrictEqual(mirrors, {
                type: "object",
                description: "Chart name → the mirror (Helm repository URL or oci:// registry path) this stack may install it from, " +
                    "as its hello-service:monitoringChartRepository says.",
                additionalProperties: { type: "string", pattern: "^(https?|oci)://" },
                default: {},
            });
            // JSON Schema patterns are ECMA regular expressions, unanchored unless they say so: as the CLI checks a mirror.
            const accepted = (mirror: string) => new RegExp((mirrors.additionalProperties as { pattern: string }).pattern).test(mirror);
            for (const mirror of ["https://charts.example.com/prometheus-community", "http://charts.internal", "oci://registry.example.com/charts"]) {
                assert.ok(accepted(mirror), `${mirror} is refused`);
            }
            for (const mirror of ["charts.example.com", "ftp://charts.example.com", "git+https://example.com/charts", ""]) {
                assert.ok(!accepted(mirror), `${JSON.stringify(mirror)} is accepted`);
            }
        });
    });

    describe("the defaults, where a stack's policy config leaves a property out", function () {
        it("GIVEN no podSecurityExemptions (the CLI's default, or no policy config at all) THEN monitoring may enforce privileged, and only monitoring", async function () {
            for (const config of [withDefaults(namespacePodSecurity), {}]) {
                const monitoring = await runPolicy(namespacePodSecurity, exemptNamespace("monitoring", "privileged"), config);
                assert.deepStrictEqual(monitoring.violations, [], JSON.stringify(config));
                assert.deepStrictEqual((await runPolicy(namespacePodSecurity, exemptNamespace("hello", "privileged"), config)).violations,
                    ['Namespace hello: enforces "privileged", but only restricted is allowed; it is not among the exempted namespaces (monitoring)']);
            }
        });

        it("GIVEN a prod policy config without allowLoadBalancer THEN the CLI's default refuses a LoadBalancer Service", async function () {
            const svc: TestResource = {
                type: "kubernetes:core/v1:Service", name: "public", stack: "prod",
                inputs: { metadata: { name: "public", namespace: "hello" }, spec: { type: "LoadBalancer" } },
            };
            const outcome = await runPolicy(noLoadBalancerInProd, svc, withDefaults(noLoadBalancerInProd, { environment: "prod" }));
            assert.deepStrictEqual(notApplicable(outcome), []);
            assert.strictEqual(outcome.violations.length, 1);
            assert.match(outcome.violations[0], /^Service hello\/public is a LoadBalancer, a public endpoint/);
        });
    });

    describe("a release the pack cannot look inside", function () {
        it("GIVEN a chart from a repository THEN the pod policies do not apply, and say what covers its pods instead", async function () {
            for (const policy of [imagesByDigest, podSecurityRestricted, readOnlyRootFilesystem]) {
                const outcome = await runPolicy(policy, kubePrometheusStack());
                assert.deepStrictEqual(outcome.violations, [], policy.name);
                assert.deepStrictEqual(notApplicable(outcome), [
                    'release "kube-prometheus-stack" (kube-prometheus-stack): a chart from a repository cannot be rendered here; ' +
                    "its pods are admitted by its namespace's Pod Security level (namespace-pod-security), its images pinned by its " +
                    "chart version (pinned-helm-charts)",
                ], policy.name);
            }
        });

        it("GIVEN a chart from a repository in prod THEN min-replicas-in-prod does not apply: its replica counts are the chart's", async function () {
            const outcome = await runPolicy(minReplicasInProd, kubePrometheusStack("prod"), PROD);
            assert.deepStrictEqual(outcome.violations, []);
            assert.deepStrictEqual(notApplicable(outcome),
                ['release "kube-prometheus-stack" (kube-prometheus-stack): a chart from a repository: its replica counts are the chart\'s']);
        });

        it("GIVEN a local chart helm cannot render THEN every mandatory policy that looks inside fails closed; the advisory one only says so", async function () {
            const chart = tempDir("policy-config-nochart-");
            const cases: [ResourceValidationPolicy, string][] = [
                [imagesByDigest, "dev"], [podSecurityRestricted, "dev"], [containerResources, "dev"],
                [noLoadBalancerInProd, "prod"], [minReplicasInProd, "prod"], [readOnlyRootFilesystem, "dev"],
            ];
            for (const [policy, stack] of cases) {
                const outcome = await runPolicy(policy, localRelease(chart, stack), stack === "prod" ? PROD : {});
                assert.strictEqual(outcome.violations.length, 1, `${policy.name}: ${JSON.stringify(outcome)}`);
                const [violation] = outcome.violations;
                assert.ok(violation.startsWith(`release "hello" (${chart} rendered with its values): cannot check the objects it installs, helm template failed: `),
                    `${policy.name}: ${violation}`);
                assert.strictEqual(violation.endsWith(FAIL_CLOSED), policy.enforcementLevel === "mandatory", `${policy.name}: ${violation}`);
            }
        });
    });

    describe("previews: values not known yet", function () {
        it("calls a value not known exactly when the engine's proxy does: its markers, never the proxy module's other names", function () {
            const strings = [...Object.values(proxyModule).filter((v): v is string => typeof v === "string"), unknownValue, "", "plain"];
            assert.ok(strings.includes("__getSpecialProxyTarget"), "the proxy module still exports its own names");
            for (const value of strings) {
                let engineUnknown = false;
                try {
                    void proxyModule.unknownCheckingProxy({ value }).value;
                } catch (err) {
                    engineUnknown = err instanceof proxyModule.UnknownValueError;
                }
                assert.strictEqual(isUnknown(value), engineUnknown, `isUnknown(${JSON.stringify(value)})`);
            }
            assert.strictEqual(isUnknown(unknownValue), true, "@pulumi/pulumi's unknown, as a preview sends it");
        });
    });

    describe("rendering", function () {
        it("renders for Kubernetes 1.30.0, the oldest the service chart supports, so what a chart installs only there is checked too", async function () {
            const chartYaml = fs.readFileSync(path.join(__dirname, "..", "charts", "go-service", "Chart.yaml"), "utf8");
            assert.match(chartYaml, new RegExp(`^kubeVersion: ">=${KUBE_VERSION.replace(/\./g, "\\.")}-0"$`, "m"));

            const chart = path.join(tempDir("policy-config-legacy-"), "legacy");
            fs.mkdirSync(path.join(chart, "templates"), { recursive: true });
            fs.writeFileSync(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: legacy\nversion: 0.1.0\n");
            fs.writeFileSync(path.join(chart, "templates", "deployment.yaml"), [
                '{{- if semverCompare "<1.31-0" .Capabilities.KubeVersion.Version }}',
                "apiVersion: apps/v1",
                "kind: Deployment",
                "metadata:",
                "  name: compat",
                "  namespace: {{ .Release.Namespace }}",
                "spec:",
                "  template:",
                "    spec:",
                "      containers:",
                "        - name: app",
                "          image: ghcr.io/acme/compat:1.0",
                "{{- end }}",
                "",
            ].join("\n"));
            assert.deepStrictEqual((await runPolicy(imagesByDigest, localRelease(chart))).violations, [
                `release "hello" (${chart} rendered with its values) → Deployment hello/compat: container "app": image ` +
                '"ghcr.io/acme/compat:1.0" must be pinned by digest (<repository>@sha256:<64 hex>), not a tag',
            ]);
        });
    });
});
