/**
 * Stack settings beyond one value's format: what each environment gives a stack that does not say, where the cross-key
 * and per-environment rules draw their lines, how config strings are read, and how the problems are reported.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SettingsError, formatIssue } from "../stacks/issues";
import { loadSettings } from "../stacks/load";
import { FLOATING_TAGS } from "../stacks/rules";
import { projectName, readStackFile } from "../stacks/stackFile";
import { P, load, problems } from "./support/stacks";

function accepted(stack: string, values: Record<string, string>): void {
    assert.doesNotThrow(() => load(stack, values));
}

describe("stack settings: defaults, rules and loading", function () {
    describe("WHEN a stack leaves a key unset THEN its environment's default applies", function () {
        for (const env of ["staging", "prod"]) {
            it(`${env}: no public LoadBalancer, ingress from ingress-nginx, full cluster monitoring, 20Gi+ of Prometheus data`, function () {
                const s = load(env).settings;
                assert.strictEqual(s.allowLoadBalancer, false);
                assert.deepStrictEqual(s.ingressNamespaces, ["ingress-nginx"]);
                assert.deepStrictEqual([s.controlPlaneMonitoring, s.defaultDashboards, s.nodeExporter], [true, true, true]);
                assert.strictEqual(s.alertmanager, true);
                assert.strictEqual(s.prometheusStorage, true);
            });
        }
        it("staging keeps Prometheus data 7 days on 20Gi, with 2 pods", function () {
            const s = load("staging").settings;
            assert.deepStrictEqual([s.prometheusRetention, s.prometheusStorageSize, s.replicas, s.autoscaling], ["7d", "20Gi", 2, false]);
        });
        it("prod keeps 15 days on 50Gi, autoscaled from 3 to 10 pods", function () {
            const s = load("prod").settings;
            assert.deepStrictEqual([s.prometheusRetention, s.prometheusStorageSize, s.autoscalingMinReplicas, s.autoscalingMaxReplicas],
                ["15d", "50Gi", 3, 10]);
        });
        it("dev runs none of what a laptop cluster cannot: no control-plane scraping, no stock dashboards, no node exporter", function () {
            const s = load("dev").settings;
            assert.deepStrictEqual([s.controlPlaneMonitoring, s.defaultDashboards, s.nodeExporter, s.alertmanager], [false, false, false, false]);
            assert.deepStrictEqual([s.prometheusRetention, s.prometheusStorage, s.replicas], ["6h", false, 1]);
            assert.deepStrictEqual(s.ingressNamespaces, ["ingress-nginx"]);
        });
        it("a stack of another name takes the profile its environment names", function () {
            const qa = load("qa", { environment: "dev", registry: "localhost:5001" }).settings;
            assert.deepStrictEqual([qa.environment, qa.replicas, qa.prometheusRetention, qa.imageTag], ["dev", 1, "6h", "qa"]);
            assert.strictEqual(load("dev", { environment: "prod", registry: "ghcr.io/acme" }).settings.autoscaling, true);
        });
        it("a stack of another name without environment is told just that, once", function () {
            assert.deepStrictEqual(problems("qa"), [
                `hello-service:environment: must be set for stack "qa", whose name is not an environment: one of dev, staging, prod`,
            ]);
        });
    });

    describe("WHEN two keys meet at their limit THEN the stack is accepted; one step past, refused", function () {
        it("an autoscaler whose minimum equals its maximum", function () {
            accepted("staging", { autoscaling: "true", autoscalingMinReplicas: "4", autoscalingMaxReplicas: "4" });
            assert.deepStrictEqual(problems("staging", { autoscaling: "true", autoscalingMinReplicas: "5", autoscalingMaxReplicas: "4" }),
                ["hello-service:autoscalingMinReplicas = 5: must not exceed autoscalingMaxReplicas (4)"]);
        });
        it("a CPU request equal to the limit, or below it, written in cores or millicores", function () {
            accepted("dev", { cpuRequest: "500m", cpuLimit: "0.5" });
            accepted("dev", { cpuRequest: "0.25", cpuLimit: "250m" });
            accepted("dev", { cpuRequest: "100m", cpuLimit: "2" });
            assert.deepStrictEqual(problems("dev", { cpuRequest: "250m", cpuLimit: "0.2" }),
                [`hello-service:cpuRequest = "250m": must not exceed cpuLimit (0.2)`]);
        });
        it("a Prometheus memory request equal to its limit in other units, and decimal units compared with binary ones", function () {
            accepted("dev", { prometheusMemoryRequest: "1024Mi", prometheusMemoryLimit: "1Gi" });
            accepted("dev", { prometheusMemoryRequest: "1G", prometheusMemoryLimit: "1Gi" });
            assert.deepStrictEqual(problems("dev", { prometheusMemoryRequest: "1G", prometheusMemoryLimit: "512Mi" }),
                [`hello-service:prometheusMemoryRequest = "1G": must not exceed prometheusMemoryLimit (512Mi)`]);
            assert.deepStrictEqual(problems("dev", { prometheusMemoryRequest: "3000Mi", prometheusMemoryLimit: "2Gi" }),
                [`hello-service:prometheusMemoryRequest = "3000Mi": must not exceed prometheusMemoryLimit (2Gi)`]);
        });
        it("prod with exactly 2 fixed replicas, or an autoscaler that keeps exactly 2", function () {
            accepted("prod", { autoscaling: "false", replicas: "2" });
            accepted("prod", { autoscalingMinReplicas: "2" });
        });
        it("prod with an autoscaler does not count the fixed replicas", function () {
            accepted("prod", { autoscaling: "true", replicas: "1" });
        });
    });

    describe("WHEN prod names a registry THEN only one its cluster can pull from is accepted", function () {
        const local = ["localhost", "localhost:5001", "127.0.0.1:5000", "127.0.0.1", "0.0.0.0:5000", "host.docker.internal",
            "host.docker.internal:5000/acme", "kind-registry", "foo.local", "registry.local:5000/acme"];
        for (const registry of local) {
            it(`refuses ${registry}`, function () {
                assert.deepStrictEqual(problems("prod", { registry }), [
                    `hello-service:registry = ${JSON.stringify(registry)}: prod needs a registry its cluster can pull from, ` +
                    "not a local one (localhost, 127.0.0.1, *.local, kind-registry)",
                ]);
            });
        }
        for (const registry of ["ghcr.io/acme", "localhost.example.com/acme", "my127.0.0.1", "ghcr.io/localhost", "ghcr.io/acme/kind-registry", "local.example.com"]) {
            it(`accepts ${registry}`, function () {
                assert.strictEqual(load("prod", { registry }).settings.registry, registry);
            });
        }
    });

    describe("WHEN imageTag is a tag that moves THEN it is refused by name, with the tags that move", function () {
        for (const tag of ["latest", "stable", "edge", "nightly", "main", "master", "head", "current", "Latest"]) {
            it(`refuses ${tag}`, function () {
                assert.deepStrictEqual(problems("staging", { imageTag: tag }), [
                    `hello-service:imageTag = ${JSON.stringify(tag)}: a floating tag cannot be pushed; use a name that does not move ` +
                    "(e.g. the environment or a version), not latest, stable, edge, nightly, main, master, head, current",
                ]);
            });
        }
        it("accepts a name that does not move", function () {
            assert.strictEqual(load("staging", { imageTag: "v1.2.3" }).settings.imageTag, "v1.2.3");
            assert.ok(!FLOATING_TAGS.includes(""));
        });
    });

    describe("WHEN only one registry credential is set THEN the missing one is named", function () {
        it("a password without a user", function () {
            assert.deepStrictEqual(problems("staging", {}, { registryPassword: "token" }), [
                "hello-service:registryUsername: registryUsername and registryPassword go together: set both, or neither to use your docker login",
            ]);
        });
        it("a user without a password", function () {
            assert.deepStrictEqual(problems("staging", { registryUsername: "bot" }), [
                "hello-service:registryPassword: registryUsername and registryPassword go together: set both, or neither to use your docker login",
            ]);
        });
        it("a password in plaintext with its user is reported once, as plaintext", function () {
            const messages = problems("staging", { registryUsername: "bot", registryPassword: "SUPERSECRET" });
            assert.strictEqual(messages.length, 1, messages.join("\n"));
            assert.match(messages[0], /^hello-service:registryPassword = \[secret\]: is stored in plaintext/);
        });
    });

    describe("alertWebhookUrl warnings", function () {
        it("none where Alertmanager is off and no webhook is set (dev)", function () {
            assert.deepStrictEqual(load("dev").warnings, []);
        });
        it("none in dev, where alerts have nowhere to go, even with Alertmanager on and no webhook", function () {
            assert.deepStrictEqual(load("dev", { alertmanager: "true" }).warnings, []);
        });
        it("none in staging once the webhook is set as a secret", function () {
            assert.deepStrictEqual(load("staging", {}, { alertWebhookUrl: "https://hooks.example.com/x" }).warnings, []);
        });
        it("an ignored webhook is named without printing it", function () {
            const { warnings } = load("dev", {}, { alertWebhookUrl: "https://hooks.example.com/SUPERSECRET" });
            assert.deepStrictEqual(warnings.map(formatIssue),
                ["hello-service:alertWebhookUrl = [secret]: is ignored: Alertmanager is off in this stack (alertmanager: false)"]);
        });
    });

    describe("WHEN config strings are read", function () {
        it("numbers take their decimals, and surrounding spaces are ignored", function () {
            const s = load("dev", { sloLatencyThreshold: "0.25", sloAvailability: " 99.95 ", replicas: " 3" }).settings;
            assert.deepStrictEqual([s.sloLatencyThreshold, s.sloAvailability, s.replicas], [0.25, 99.95, 3]);
        });
        it("a list is read as JSON", function () {
            assert.deepStrictEqual(load("dev", { ingressNamespaces: '["ingress-nginx","traefik"]' }).settings.ingressNamespaces,
                ["ingress-nginx", "traefik"]);
        });
        it("keys of other namespaces are not this project's business", function () {
            const loaded = loadSettings({
                project: P, stack: "dev", secretKeys: new Set(),
                values: {
                    [`${P}:kubeContext`]: "ctx", [`${P}:registry`]: "localhost:5001",
                    "kubernetes:context": "other", "aws:region": "eu-west-1", "hello-service-extra:replicas": "many",
                },
            });
            assert.strictEqual(loaded.settings.replicas, 1);
        });
    });

    describe("WHEN a stack has several problems THEN each is reported once", function () {
        it("a list with two bad names: one line for the key", function () {
            assert.deepStrictEqual(problems("dev", { ingressNamespaces: '["Ingress","Traefik"]' }), [
                `hello-service:ingressNamespaces = ["Ingress","Traefik"]: must be a Kubernetes name: lowercase letters, digits and '-', at most 63 characters`,
            ]);
        });
        it("a stack without environment still hears about its other keys", function () {
            assert.deepStrictEqual(problems("qa", { replicas: "0" }), [
                `hello-service:environment: must be set for stack "qa", whose name is not an environment: one of dev, staging, prod`,
                "hello-service:replicas = 0: must be a whole number from 1 to 50",
            ]);
        });
    });

    describe("WHEN a stack is refused THEN the error counts its problems", function () {
        it("one problem: 'has 1 invalid setting', a SettingsError", function () {
            try {
                load("dev", { replicas: "0" });
            } catch (err) {
                assert.ok(err instanceof SettingsError);
                assert.strictEqual(err.name, "SettingsError");
                assert.match(err.message, /^stack "dev" has 1 invalid setting; nothing was deployed:\n  - hello-service:replicas = 0: /);
                return;
            }
            assert.fail("expected the settings to be rejected");
        });
        it("two problems: 'has 2 invalid settings'", function () {
            assert.throws(() => load("dev", { replicas: "0", logLevel: "loud" }), /^SettingsError: stack "dev" has 2 invalid settings; nothing was deployed/);
        });
    });

    describe("a stack file read without the Pulumi CLI", function () {
        let dir: string;
        beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"))));
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
        function file(name: string, body: string): string {
            const f = path.join(dir, name);
            fs.writeFileSync(f, body);
            return f;
        }

        for (const [what, body] of [["a list", "config:\n  - a\n"], ["null", "config:\n"], ["a string", "config: text\n"]]) {
            it(`refuses config that is ${what}`, function () {
                assert.throws(() => readStackFile(file("Pulumi.dev.yaml", body), P), /Pulumi\.dev\.yaml: "config" must be a map of keys to values$/);
            });
        }
        it("reads an empty file, or one without config, as no settings", function () {
            assert.deepStrictEqual(readStackFile(file("Pulumi.dev.yaml", ""), P).values, {});
            assert.deepStrictEqual(readStackFile(file("Pulumi.qa.yaml", "encryptionsalt: x\n"), P).values, {});
        });
        it("refuses a project file without a name, empty or not", function () {
            assert.throws(() => projectName(file("Pulumi.yaml", "")), /Pulumi\.yaml: no project name$/);
            assert.throws(() => projectName(file("Pulumi.yaml", "runtime: nodejs\n")), /Pulumi\.yaml: no project name$/);
        });
        it("hands scalars on as strings, lists and maps as JSON, and only a lone secure: string as a secret", function () {
            const raw = readStackFile(file("Pulumi.dev.yaml", [
                "config:",
                "  kubeContext: kind-hello",
                "  hello-service:replicas: 2",
                "  hello-service:ingressNamespaces: [ingress-nginx, traefik]",
                "  hello-service:grafanaAdminPassword:",
                "    secure: v1:AAAA",
                "  hello-service:alertWebhookUrl:",
                "    secure: v1:BBBB",
                "    other: x",
                "  hello-service:runbookBaseUrl:",
                "    insecure: v1:CCCC",
                "  hello-service:storageClass:",
                "    secure: 5",
            ].join("\n")), P);
            assert.deepStrictEqual(raw.values, {
                "hello-service:kubeContext": "kind-hello",
                "hello-service:replicas": "2",
                "hello-service:ingressNamespaces": '["ingress-nginx","traefik"]',
                "hello-service:grafanaAdminPassword": "v1:AAAA",
                "hello-service:alertWebhookUrl": '{"secure":"v1:BBBB","other":"x"}',
                "hello-service:runbookBaseUrl": '{"insecure":"v1:CCCC"}',
                "hello-service:storageClass": '{"secure":5}',
            });
            assert.deepStrictEqual([...raw.secretKeys], ["hello-service:grafanaAdminPassword"]);
        });
    });
});
