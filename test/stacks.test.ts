/**
 * Stack settings: every validation rule, fed a bad config, answers with the key, the value and what is allowed;
 * every problem of a stack is reported at once; the program and `npm run check-config` say the same.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse } from "yaml";
import { loadSettings } from "../stacks/load";
import { REQUIRED_KEYS, SETTING_KEYS } from "../stacks/settings";
import { ROOT, runProgram } from "../scripts/lib/program";
import { load, P, problems, rejects } from "./support/stacks";

describe("stack settings", function () {
    describe("GIVEN the committed stack files", function () {
        it("accepts dev, staging and prod with their environment defaults", function () {
            assert.strictEqual(load("dev").settings.replicas, 1);
            assert.strictEqual(load("staging").settings.replicas, 2);
            const prod = load("prod").settings;
            assert.deepStrictEqual([prod.autoscaling, prod.autoscalingMinReplicas], [true, 3]);
        });

        it("lets a stack named otherwise pick its profile with environment", function () {
            assert.strictEqual(load("qa", { environment: "staging" }).settings.prometheusStorage, true);
            assert.strictEqual(load("qa", { environment: "staging" }).settings.imageTag, "qa");
        });
    });

    describe("WHEN a key is wrong on its own THEN the message names the key, the value and what is allowed", function () {
        const cases: [string, string, Record<string, string>, RegExp][] = [
            ["a misspelled key", "dev", { replcias: "2" }, /^hello-service:replcias: unknown key; did you mean hello-service:replicas\?$/],
            ["a word for a number", "dev", { replicas: "three" }, /^hello-service:replicas = "three": must be a whole number from 1 to 50$/],
            ["zero replicas", "dev", { replicas: "0" }, /^hello-service:replicas = 0: must be a whole number from 1 to 50$/],
            ["a fraction of a pod", "dev", { replicas: "1.5" }, /^hello-service:replicas = 1\.5: must be a whole number/],
            ["an unknown log level", "dev", { logLevel: "verbose" }, /^hello-service:logLevel = "verbose": must be one of debug, info, warn, error$/],
            ["a boolean spelled yes", "dev", { autoscaling: "yes" }, /^hello-service:autoscaling = "yes": must be true or false$/],
            ["a memory size without unit syntax", "dev", { memoryLimit: "lots" }, /^hello-service:memoryLimit = "lots": must be a memory quantity such as 64Mi/],
            ["a CPU quantity in the wrong unit", "dev", { cpuRequest: "100Mi" }, /^hello-service:cpuRequest = "100Mi": must be a CPU quantity/],
            ["a duration without unit", "dev", { drainDelay: "5" }, /^hello-service:drainDelay = "5": must be a Go duration such as 500ms, 5s or 1m30s$/],
            ["a retention in Go syntax", "dev", { prometheusRetention: "1d12h30m0s5" }, /^hello-service:prometheusRetention = .*: must be a Prometheus duration/],
            ["a namespace with capitals", "dev", { namespace: "Hello" }, /^hello-service:namespace = "Hello": must be a Kubernetes name/],
            ["a list written as a string", "dev", { ingressNamespaces: "ingress-nginx" }, /^hello-service:ingressNamespaces = "ingress-nginx": must be a list of namespace names/],
            ["a NodePort service", "dev", { serviceType: "NodePort" }, /^hello-service:serviceType = "NodePort": must be ClusterIP or LoadBalancer$/],
            ["an unknown platform", "dev", { platform: "windows/amd64" }, /^hello-service:platform = "windows\/amd64": must be linux\/amd64 or linux\/arm64$/],
            ["a registry URL with a scheme", "dev", { registry: "https://ghcr.io" }, /^hello-service:registry = "https:\/\/ghcr.io": must be a registry host/],
            ["an unknown environment", "dev", { environment: "production" }, /^hello-service:environment = "production": must be one of dev, staging, prod$/],
            ["a latency threshold between buckets", "dev", { sloLatencyThreshold: "0.3" }, /^hello-service:sloLatencyThreshold = 0\.3: must be one of the histogram buckets: 0\.005, .*, 0\.25, 0\.5, .* \(seconds\)$/],
            ["an objective too low to page", "dev", { sloAvailability: "90" }, /^hello-service:sloAvailability = 90: must be a percentage from 93\.06 to below 100/],
            ["an objective of 100%", "dev", { sloLatencyTarget: "100" }, /^hello-service:sloLatencyTarget = 100: must be a percentage/],
            ["an autoscaler target out of range", "prod", { autoscalingTargetCpu: "100" }, /^hello-service:autoscalingTargetCpu = 100: must be a whole number from 10 to 95$/],
            ["a prebuilt image named by tag", "staging", { prebuiltImage: "ghcr.io/acme/hello:1.0" }, /^hello-service:prebuiltImage = "ghcr.io\/acme\/hello:1.0": must be an image by digest: <registry>\/<imageName>@sha256:<64 hex digits>$/],
            ["a runbook base that is not a URL", "dev", { runbookBaseUrl: "github.com/acme" }, /^hello-service:runbookBaseUrl = "github.com\/acme": must be an http\(s\) URL/],
            ["a mirrored base image by tag", "prod", { builderImage: "mirror.example.com/library/golang:1.26.8" }, /^hello-service:builderImage = "mirror.example.com\/library\/golang:1.26.8": must be an image by digest such as mirror.example.com\/library\/golang:1.26.8@sha256:<64 hex digits>$/],
            ["a mirrored runtime image with a short digest", "dev", { runtimeImage: "mirror.example.com/distroless/static@sha256:abc" }, /^hello-service:runtimeImage = .*: must be an image by digest/],
            ["a chart mirror without a scheme", "staging", { monitoringChartRepository: "charts.example.com/prometheus-community" }, /^hello-service:monitoringChartRepository = "charts.example.com\/prometheus-community": must be a Helm repository URL \(https:\/\/charts.example.com\/prometheus-community\) or an OCI registry path \(oci:\/\/registry.example.com\/charts\)$/],
            ["a chart mirror on a file path", "dev", { monitoringChartRepository: "file:///srv/charts" }, /^hello-service:monitoringChartRepository = "file:\/\/\/srv\/charts": must be a Helm repository URL/],
        ];
        for (const [what, stack, values, expected] of cases) {
            it(`rejects ${what}`, function () {
                rejects(stack, values, expected);
            });
        }

        it("requires kubeContext and registry in every stack", function () {
            assert.deepStrictEqual([...REQUIRED_KEYS].sort(), ["kubeContext", "registry"]);
            const messages = (() => {
                try {
                    loadSettings({ project: P, stack: "dev", values: {}, secretKeys: new Set() });
                } catch (err) {
                    return (err as Error).message;
                }
                return "";
            })();
            assert.match(messages, /hello-service:kubeContext: is required: Kubeconfig context to deploy to/);
            assert.match(messages, /hello-service:registry: is required: Registry the image is pushed to/);
        });

        it("asks a stack whose name is no environment to say which profile it uses", function () {
            rejects("qa", {}, /^hello-service:environment: must be set for stack "qa", whose name is not an environment: one of dev, staging, prod$/);
        });
    });

    describe("WHEN a secret is written in plaintext", function () {
        for (const key of ["grafanaAdminPassword", "registryPassword", "alertWebhookUrl"]) {
            it(`rejects ${key}, tells how to set it as a secret, and never prints it`, function () {
                const value = key === "alertWebhookUrl" ? "https://hooks.example.com/SUPERSECRET" : "SUPERSECRET-12345";
                const messages = problems("staging", { [key]: value, ...(key === "registryPassword" && { registryUsername: "bot" }) });
                const message = messages.find((m) => m.startsWith(`hello-service:${key}`));
                assert.ok(message, messages.join("\n"));
                assert.match(message, new RegExp(`^hello-service:${key} = \\[secret\\]: is stored in plaintext; .*pulumi config set --secret hello-service:${key} <value>$`));
                assert.ok(!messages.join("\n").includes("SUPERSECRET"), "the value is not printed");
            });
        }

        it("accepts the same values stored as secrets", function () {
            const s = load("staging", { registryUsername: "bot" }, {
                grafanaAdminPassword: "a-long-enough-password", registryPassword: "token", alertWebhookUrl: "https://hooks.example.com/x",
            }).settings;
            assert.strictEqual(s.registryPassword, "token");
        });

        it("does not print a secret whose value is also invalid", function () {
            const messages = problems("staging", {}, { grafanaAdminPassword: "short" });
            assert.deepStrictEqual(messages, ["hello-service:grafanaAdminPassword = [secret]: must be at least 12 characters"]);
        });
    });

    describe("WHEN keys contradict each other or the environment", function () {
        const cases: [string, string, Record<string, string>, RegExp][] = [
            ["a floating image tag", "dev", { imageTag: "latest" }, /^hello-service:imageTag = "latest": a floating tag cannot be pushed/],
            ["a prebuilt image from another repository", "prod", { prebuiltImage: `docker.io/evil/hello@sha256:${"a".repeat(64)}` }, /^hello-service:prebuiltImage = .*: must come from this stack's repository ghcr.io\/acme\/hello \(registry\/imageName\)$/],
            ["a registry user without password", "dev", { registryUsername: "bot" }, /^hello-service:registryPassword: registryUsername and registryPassword go together/],
            ["an autoscaler whose minimum exceeds its maximum", "staging", { autoscaling: "true", autoscalingMinReplicas: "5", autoscalingMaxReplicas: "3" }, /^hello-service:autoscalingMinReplicas = 5: must not exceed autoscalingMaxReplicas \(3\)$/],
            ["a CPU request above the CPU limit", "dev", { cpuRequest: "2", cpuLimit: "500m" }, /^hello-service:cpuRequest = "2": must not exceed cpuLimit \(500m\)$/],
            ["a Prometheus memory request above its limit", "dev", { prometheusMemoryRequest: "4Gi", prometheusMemoryLimit: "1Gi" }, /^hello-service:prometheusMemoryRequest = "4Gi": must not exceed prometheusMemoryLimit \(1Gi\)$/],
            ["one replica in prod", "prod", { autoscaling: "false", replicas: "1" }, /^hello-service:replicas = 1: prod needs at least 2 replicas/],
            ["an autoscaler that may drop to one pod in prod", "prod", { autoscalingMinReplicas: "1" }, /^hello-service:autoscalingMinReplicas = 1: prod needs the autoscaler to keep at least 2 replicas$/],
            ["Prometheus without persistent storage in prod", "prod", { prometheusStorage: "false" }, /^hello-service:prometheusStorage = false: prod needs persistent Prometheus storage/],
            ["a localhost registry in prod", "prod", { registry: "localhost:5001" }, /^hello-service:registry = "localhost:5001": prod needs a registry its cluster can pull from/],
            ["a loopback registry in prod", "prod", { registry: "127.0.0.1:5000/acme" }, /^hello-service:registry = "127.0.0.1:5000\/acme": prod needs a registry/],
            ["kind's registry in prod", "prod", { registry: "kind-registry:5000" }, /^hello-service:registry = "kind-registry:5000": prod needs a registry/],
            ["no Alertmanager in prod", "prod", { alertmanager: "false" }, /^hello-service:alertmanager = false: prod needs Alertmanager/],
            ["a LoadBalancer in prod that is not explicitly allowed", "prod", { serviceType: "LoadBalancer" }, /^hello-service:serviceType = "LoadBalancer": a LoadBalancer in prod is a public endpoint: set allowLoadBalancer: true/],
            ["a chart mirror over plain HTTP outside dev", "staging", { monitoringChartRepository: "http://charts.internal/prometheus-community" }, /^hello-service:monitoringChartRepository = "http:\/\/charts.internal\/prometheus-community": a chart fetched over plain HTTP can be altered on the way into staging; use https:\/\/ or oci:\/\/$/],
        ];
        for (const [what, stack, values, expected] of cases) {
            it(`rejects ${what}`, function () {
                rejects(stack, values, expected);
            });
        }

        it("accepts mirrors for the chart and the base images, by digest, and a plain HTTP chart mirror in dev only", function () {
            const digest = `sha256:${"b".repeat(64)}`;
            const prod = load("prod", {
                monitoringChartRepository: "oci://registry.example.com/charts",
                builderImage: `registry.example.com/library/golang:1.26.8@${digest}`,
                runtimeImage: `registry.example.com/distroless/static-debian13:nonroot@${digest}`,
            }).settings;
            assert.strictEqual(prod.monitoringChartRepository, "oci://registry.example.com/charts");
            assert.strictEqual(prod.runtimeImage, `registry.example.com/distroless/static-debian13:nonroot@${digest}`);
            assert.strictEqual(load("dev", { monitoringChartRepository: "http://127.0.0.1:8879" }).settings.monitoringChartRepository,
                "http://127.0.0.1:8879");
            assert.strictEqual(load("staging", {}).settings.monitoringChartRepository, undefined, "unset: the chart's own repository");
        });

        it("accepts a LoadBalancer in prod once allowLoadBalancer says so, and in dev without it", function () {
            assert.strictEqual(load("prod", { serviceType: "LoadBalancer", allowLoadBalancer: "true" }).settings.serviceType, "LoadBalancer");
            assert.strictEqual(load("dev", { serviceType: "LoadBalancer" }).settings.serviceType, "LoadBalancer");
        });

        it("warns, without refusing, when staging's Alertmanager has no receiver", function () {
            const { warnings } = load("staging");
            assert.strictEqual(warnings.length, 1);
            assert.match(warnings[0].message, /Alertmanager in staging has no receiver, so alerts reach no one\. Set it with: pulumi config set --secret hello-service:alertWebhookUrl <url>/);
        });

        it("warns that a webhook is ignored where Alertmanager is off", function () {
            const { warnings } = load("dev", {}, { alertWebhookUrl: "https://hooks.example.com/x" });
            assert.match(warnings[0].message, /is ignored: Alertmanager is off/);
        });
    });

    it("reports every problem of a stack at once, per-key and cross-key alike", function () {
        const messages = problems("prod", {
            replcas: "3", memoryLimit: "lots", imageTag: "latest", registry: "localhost:5001",
            autoscaling: "false", replicas: "1", prometheusStorage: "false",
        });
        assert.deepStrictEqual(messages.map((m) => m.split(/[ :=]+/).slice(0, 2).join(":")), [
            "hello-service:replcas",
            "hello-service:memoryLimit",
            "hello-service:imageTag",
            "hello-service:replicas",
            "hello-service:prometheusStorage",
            "hello-service:registry",
        ]);
    });

    describe("the program with a bad stack", function () {
        it("fails before registering a single resource, with every message", async function () {
            const run = await runProgram({
                project: P, stack: "prod", secretKeys: new Set(),
                values: {
                    [`${P}:kubeContext`]: "prod", [`${P}:registry`]: "localhost:5001",
                    [`${P}:replcas`]: "2", [`${P}:grafanaAdminPassword`]: "plaintext-password",
                },
            });
            assert.deepStrictEqual(run.resources, []);
            assert.match(run.error ?? "", /stack "prod" has 3 invalid settings; nothing was deployed/);
            assert.match(run.error ?? "", /hello-service:replcas: unknown key; did you mean hello-service:replicas\?/);
            assert.match(run.error ?? "", /hello-service:grafanaAdminPassword = \[secret\]: is stored in plaintext/);
            assert.match(run.error ?? "", /hello-service:registry = "localhost:5001": prod needs a registry/);
            assert.ok(!(run.error ?? "").includes("plaintext-password"));
        });
    });

    describe("npm run check-config", function () {
        let dir: string;
        beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-config-"))));
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        async function checkConfig(...files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
            try {
                const { stdout, stderr } = await promisify(execFile)(process.execPath,
                    ["-r", "ts-node/register/transpile-only", path.join(ROOT, "stacks", "checkConfig.ts"), ...files], { cwd: ROOT });
                return { code: 0, stdout, stderr };
            } catch (err) {
                const e = err as { code: number; stdout: string; stderr: string };
                return { code: e.code, stdout: e.stdout, stderr: e.stderr };
            }
        }
        function stackFile(name: string, body: string): string {
            const file = path.join(dir, name);
            fs.writeFileSync(file, body);
            return file;
        }

        it("passes the committed stack files", async function () {
            const res = await checkConfig("Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml");
            assert.strictEqual(res.code, 0, res.stderr);
            assert.match(res.stdout, /Pulumi.dev.yaml: ok/);
        });

        it("fails a file anywhere with the program's messages, taking the stack from the file name", async function () {
            const file = stackFile("Pulumi.prod.yaml", [
                "config:",
                "  hello-service:kubeContext: prod",
                "  hello-service:registry: localhost:5001",
                "  hello-service:replcas: 2",
                "  hello-service:grafanaAdminPassword: hunter2hunter2",
            ].join("\n"));
            const res = await checkConfig(file);
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /stack "prod" has 3 invalid settings/);
            assert.match(res.stderr, /hello-service:replcas: unknown key; did you mean hello-service:replicas\?/);
            assert.match(res.stderr, /hello-service:registry = "localhost:5001": prod needs a registry/);
            assert.match(res.stderr, /hello-service:grafanaAdminPassword = \[secret\]: is stored in plaintext/);
            assert.ok(!res.stderr.includes("hunter2"));
        });

        it("accepts secure: entries it cannot decrypt, and project keys written without the namespace", async function () {
            const file = stackFile("Pulumi.staging.yaml", [
                "config:",
                "  kubeContext: staging",
                "  hello-service:registry: ghcr.io/acme",
                "  hello-service:alertWebhookUrl:",
                "    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBBBBBB",
            ].join("\n"));
            const res = await checkConfig(file);
            assert.strictEqual(res.code, 0, res.stderr);
            assert.doesNotMatch(res.stdout, /warning/, "the webhook counts as set");
        });

        it("refuses a file that is not named Pulumi.<stack>.yaml", async function () {
            const res = await checkConfig(stackFile("prod.yaml", "config: {}\n"));
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /a stack settings file is named Pulumi.<stack>.yaml/);
        });
    });

    describe("Pulumi.yaml", function () {
        const project = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");

        it("declares the required keys as Pulumi config, so Pulumi itself refuses a stack without them", function () {
            const config = (parse(project) as { config: Record<string, { type?: string; default?: unknown }> }).config;
            for (const key of REQUIRED_KEYS) {
                assert.strictEqual(config[key]?.type, "string", key);
                assert.strictEqual(config[key]?.default, undefined, `${key} has no default`);
            }
            assert.deepStrictEqual(config["pulumi:disable-default-providers"], ["kubernetes"]);
        });

        it("documents every other key in its config block", function () {
            for (const key of SETTING_KEYS.filter((k) => !REQUIRED_KEYS.includes(k))) {
                assert.match(project, new RegExp(`^  # ${key} +\\S`, "m"), `${key} is not documented in Pulumi.yaml`);
            }
        });
    });
});
