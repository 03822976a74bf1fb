/**
 * Config namespaces: a key under the project's name mistyped is refused naming the key meant (else `pulumi config set
 * helloservice:replicas 3` would change nothing, silently); a key of a namespace nothing reads deploys, with a warning
 * that it has no effect; keys of the namespaces that are read (the project's, the engine's, the docker provider's)
 * pass without a word. The program and `npm run check-config` say the same.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SettingsError, formatIssue } from "../stacks/issues";
import { LoadedSettings, loadSettings } from "../stacks/load";
import { isNearMiss } from "../stacks/namespaces";
import { ROOT, configuredStack, runProgram, stackConfig } from "../scripts/lib/program";
import { run } from "../scripts/lib/process";
import { P } from "./support/stacks";

/** A valid dev stack plus `extra` (full keys, any namespace). */
function loadWith(extra: Record<string, string>, project = P): LoadedSettings {
    return loadSettings({
        project, stack: "dev", secretKeys: new Set(),
        values: { [`${project}:kubeContext`]: "ctx", [`${project}:registry`]: "localhost:5001", ...extra },
    });
}

/** The lines `loadWith(extra)` is refused with. */
function refusal(extra: Record<string, string>): string[] {
    try {
        loadWith(extra);
    } catch (err) {
        assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${err}`);
        return err.message.split("\n").slice(1).map((l) => l.replace(/^  - /, ""));
    }
    assert.fail("expected the stack to be refused");
}

const warningsOf = (extra: Record<string, string>, project = P) => loadWith(extra, project).warnings.map(formatIssue);

describe("config namespaces", function () {
    describe("GIVEN a key under the project's name mistyped", function () {
        for (const [key, meant] of [
            ["helloservice:replicas", "hello-service:replicas"],
            ["Hello-Service:replicas", "hello-service:replicas"],
            ["hello-servce:logLevel", "hello-service:logLevel"],
            ["hello--service:replicas", "hello-service:replicas"],
            ["hello_service:cpuRequest", "hello-service:cpuRequest"],
        ]) {
            it(`refuses ${key}, naming ${meant}`, function () {
                const namespace = key.split(":")[0];
                assert.deepStrictEqual(refusal({ [key]: "3" }),
                    [`${key}: unknown namespace "${namespace}"; did you mean ${meant}?`]);
            });
        }

        it("names the setting meant when the key name is mistyped too", function () {
            assert.deepStrictEqual(refusal({ "helloservice:replcas": "3" }),
                [`helloservice:replcas: unknown namespace "helloservice"; did you mean hello-service:replicas?`]);
        });

        it("never prints the value, which may be a secret set under the wrong name", function () {
            const lines = refusal({ "helloservice:registryPassword": "hunter2-correct-horse" });
            assert.strictEqual(lines.length, 1);
            assert.match(lines[0], /^helloservice:registryPassword: unknown namespace/);
            assert.ok(!lines.join("\n").includes("hunter2"));
        });

        it("reports it with every other problem of the stack at once", function () {
            const lines = refusal({ "helloservice:replicas": "3", [`${P}:replicas`]: "-1" });
            assert.strictEqual(lines.length, 2, lines.join("\n"));
            assert.ok(lines.some((l) => l.startsWith("helloservice:replicas: unknown namespace")));
            assert.ok(lines.some((l) => l.startsWith(`${P}:replicas = -1:`)));
        });
    });

    describe("GIVEN a key of a namespace nothing reads", function () {
        it("deploys, and warns that kubernetes:context has no effect: the stack's own provider uses kubeContext", function () {
            const { settings, warnings } = loadWith({ "kubernetes:context": "prod-cluster" });
            assert.strictEqual(settings.kubeContext, "ctx");
            assert.deepStrictEqual(warnings.map(formatIssue), [
                "kubernetes:context: has no effect: every Kubernetes resource goes through the stack's own provider, " +
                "built from hello-service:kubeContext (the default kubernetes provider is disabled); choose the cluster " +
                "with hello-service:kubeContext",
            ]);
        });

        it("warns that aws:region has no effect, and says which namespaces are read", function () {
            assert.deepStrictEqual(warningsOf({ "aws:region": "eu-west-1" }), [
                "aws:region: has no effect: nothing in this project reads \"aws\" settings; the program reads " +
                "hello-service:*, the docker provider docker:* (the image build) and the Pulumi engine pulumi:*",
            ]);
        });

        it("warns about random:* too: the random provider has no settings", function () {
            assert.deepStrictEqual(warningsOf({ "random:seed": "1" }).map((w) => w.split(": has no effect")[0]), ["random:seed"]);
        });

        it("warns that docker:* has no effect on a stack that deploys a prebuilt image", function () {
            const digest = `sha256:${"a".repeat(64)}`;
            assert.deepStrictEqual(warningsOf({ "docker:host": "ssh://builder", [`${P}:prebuiltImage`]: `localhost:5001/hello@${digest}` }), [
                "docker:host: has no effect: this stack deploys hello-service:prebuiltImage, so no image is built and " +
                "the docker provider does not run",
            ]);
        });

        it("never prints the value", function () {
            assert.ok(!warningsOf({ "aws:secretKey": "hunter2-correct-horse" }).join("\n").includes("hunter2"));
        });
    });

    describe("GIVEN keys of the namespaces that are read", function () {
        it("takes the project's own keys without a warning", function () {
            const { settings, warnings } = loadWith({ [`${P}:replicas`]: "2" });
            assert.strictEqual(settings.replicas, 2);
            assert.deepStrictEqual(warnings, []);
        });

        it("leaves pulumi:* to the engine, which reads them (Pulumi.yaml's pulumi:disable-default-providers, pulumi:tags)", function () {
            assert.deepStrictEqual(warningsOf({
                "pulumi:disable-default-providers": JSON.stringify(["kubernetes"]),
                "pulumi:tags": JSON.stringify({ team: "platform" }),
            }), []);
        });

        it("leaves docker:* to the docker provider that builds and pushes the image", function () {
            assert.deepStrictEqual(warningsOf({ "docker:host": "unix:///var/run/docker.sock" }), []);
        });
    });

    describe("what counts as the project's name mistyped", function () {
        for (const [namespace, project, expected] of [
            ["helloservice", "hello-service", true],
            ["HELLO.SERVICE", "hello-service", true],
            ["hallo-servise", "hello-service", true],
            ["hello___service", "hello-service", true], // separators do not count, however many
            ["hello...service", "hello-service", true],
            ["hello---service", "hello-service", true],
            ["hallo-sarvize", "hello-service", false], // three letters off: another name
            ["hello", "hello-service", false],
            ["hello-service", "hello-service", false], // the project itself
            ["App", "app", true], // a short name: case and dashes only,
            ["aws", "app", false], //  two letters there make another word
            ["apq", "app", false],
        ] as const) {
            it(`${namespace} is ${expected ? "" : "not "}${project} mistyped`, function () {
                assert.strictEqual(isNearMiss(namespace, project), expected);
            });
        }
    });

    describe("the program and npm run check-config", function () {
        let dir: string;
        before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "namespaces-"))));
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        function checkConfig(stack: string, lines: string[]) {
            const file = path.join(dir, `Pulumi.${stack}.yaml`);
            fs.writeFileSync(file, ["config:", ...lines.map((l) => `  ${l}`)].join("\n"));
            return run(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "stacks", "checkConfig.ts"), file], { cwd: ROOT });
        }

        it("the program refuses helloservice:replicas before registering anything", async function () {
            const config = stackConfig("dev", { values: { "helloservice:replicas": "3" } });
            const result = await runProgram(config);
            assert.deepStrictEqual(result.resources, []);
            assert.match(result.error ?? "", /helloservice:replicas: unknown namespace "helloservice"; did you mean hello-service:replicas\?/);
        });

        it("the program deploys with kubernetes:context set, and warns once that it has no effect", async function () {
            const base = configuredStack("dev");
            const result = await runProgram({ ...base, values: { ...base.values, "kubernetes:context": "elsewhere" } });
            assert.strictEqual(result.error, undefined);
            assert.ok(result.resources.length > 0);
            assert.deepStrictEqual(result.warnings.filter((w) => w.startsWith("kubernetes:")),
                [`kubernetes:context: has no effect: every Kubernetes resource goes through the stack's own provider, ` +
                 `built from hello-service:kubeContext (the default kubernetes provider is disabled); choose the cluster with hello-service:kubeContext`]);
        });

        it("check-config fails a file with helloservice:replicas, naming hello-service:replicas", async function () {
            const res = await checkConfig("dev", ["hello-service:kubeContext: kind-hello", "hello-service:registry: localhost:5001", "helloservice:replicas: 3"]);
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /helloservice:replicas: unknown namespace "helloservice"; did you mean hello-service:replicas\?/);
        });

        it("check-config passes a file with kubernetes:context, printing the warning", async function () {
            const res = await checkConfig("staging", ["hello-service:kubeContext: staging", "hello-service:registry: ghcr.io/acme", "kubernetes:context: staging"]);
            assert.strictEqual(res.code, 0, res.stderr);
            assert.match(res.stdout, /warning: kubernetes:context: has no effect: every Kubernetes resource goes through the stack's own provider/);
        });
    });
});
