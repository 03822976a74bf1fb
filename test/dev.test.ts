/**
 * `npm run dev` (scripts/dev.sh, scripts/dev/): what it picks on which machine and the line that says why, where each
 * download comes from, what it does about a real node already on the machine, and what stops it before anything
 * starts. These specs need no cluster: the decisions are pure functions given made-up machines, and the commands run
 * with fakes for kind, Docker and the Pulumi CLI. The real thing, from a fresh clone on the local cluster, is
 * test/e2e/dev.test.ts.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse } from "yaml";

import type { BackgroundCluster, NodeOnMachine } from "../localcluster/background";
import type { NodeLease } from "../localcluster/machineLock";
import {
    chooseCluster, chooseEngine, chooseSources, DevError, engineMissing, MachineFacts, Pins, planLocalCluster, standinLines,
} from "../scripts/dev/choose";
import { ROOT } from "../scripts/lib/program";
import { readStackFile } from "../stacks/stackFile";

const NODE_IMAGE = "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f";

/** A machine like this project's build machines: Debian as root, Docker running, no kind node image, no Pulumi CLI. */
function machine(overrides: Partial<MachineFacts> = {}): MachineFacts {
    return {
        platform: "linux", uid: 0, docker: "running", kind: "found", kindNodeImage: "unavailable", kindNodeImageName: NODE_IMAGE,
        pulumi: false, languageHost: false, ...overrides,
    };
}

/** What a DevError says; fails when `fn` does not throw one. */
function devError(fn: () => unknown): string {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof DevError, `not a DevError: ${String(e)}`);
        return e.message;
    }
    assert.fail("no error");
}

/** Where a command on this process's PATH is. */
function commandPath(command: string): string {
    const found = (process.env.PATH ?? "").split(":").map((d) => path.join(d, command)).find((p) => fs.existsSync(p));
    if (!found) throw new Error(`${command} is not on PATH`);
    return found;
}

/**
 * A checkout of its own: links to this one's files, but its own Pulumi.dev.yaml (a copy, to break) and its own .dev/
 * and .pulumi/, so that nothing a spec runs touches this checkout's dev stack.
 */
function linkedCheckout(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dev-checkout-"));
    for (const entry of fs.readdirSync(ROOT)) {
        if ([".dev", ".pulumi", ".git", "Pulumi.dev.yaml"].includes(entry)) continue;
        fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
    }
    fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
    return dir;
}

/** Runs scripts/dev.sh of `checkout` (@default this one). */
async function dev(args: string[], opts: { env: NodeJS.ProcessEnv; checkout?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
    const checkout = opts.checkout ?? ROOT;
    try {
        const { stdout, stderr } = await promisify(execFile)("/bin/bash", [path.join(checkout, "scripts", "dev.sh"), ...args], { env: opts.env, cwd: checkout });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

describe("npm run dev", function () {
    describe("which cluster it picks, in one line that says why", function () {
        it("on a machine like this one (Linux, root, no kind node image), the project's local cluster, kept in the background", function () {
            const choice = chooseCluster(machine());
            assert.strictEqual(choice.value, "local");
            assert.strictEqual(choice.line, "cluster: the project's local cluster with a real node, kept running in the background until " +
                "npm run dev:down, because kind's node image kindest/node:v1.33.1 is not on this machine and its registry does not answer");
        });

        it("kind, where kind, Docker and kind's node image are there (on this machine too), or its registry answers for the image", function () {
            for (const kindNodeImage of ["present", "pullable"] as const) {
                const choice = chooseCluster(machine({ kindNodeImage }));
                assert.strictEqual(choice.value, "kind");
                assert.match(choice.line, /^cluster: kind, because kind, Docker and kind's node image are here/);
            }
            assert.strictEqual(chooseCluster(machine({ kindNodeImage: "present", kind: "buildable" })).value, "kind", "Go builds the pinned kind");
        });

        it("--cluster overrides: local where kind would run, kind only where it can (naming what it lacks)", function () {
            assert.strictEqual(chooseCluster(machine({ kindNodeImage: "present" }), "local").value, "local");
            assert.strictEqual(chooseCluster(machine({ kindNodeImage: "present" }), "kind").line, "cluster: kind (--cluster kind)");
            const message = devError(() => chooseCluster(machine({ docker: "not-running", kindNodeImage: undefined }), "kind"));
            assert.match(message, /^npm run dev --cluster kind needs:\n  - docker: its daemon does not answer: start Docker/);
        });

        it("without root, the local cluster is refused with what to do; with no kind either, both clusters' needs are listed", function () {
            const message = devError(() => chooseCluster(machine({ uid: 1000, docker: "missing", kindNodeImage: undefined, kind: "missing" })));
            assert.strictEqual(message, [
                "npm run dev needs a cluster, and this machine can run neither:",
                "  kind needs:",
                "    - docker: not found: install Docker Engine (https://docs.docker.com/engine/install/)",
                "    - kind: not found, and no Go to build it: install Go 1.26 (https://go.dev/dl/) and npm run dev builds the pinned kind v0.29.0, or install kind yourself",
                "  the project's local cluster needs:",
                "    - root: the local cluster's node mounts volumes, writes iptables rules and cgroups (running as uid 1000): run it as root, e.g. sudo npm run dev",
            ].join("\n"));
            assert.match(devError(() => chooseCluster(machine({ uid: 1000 }), "local")), /--cluster local needs:\n  - root: .*sudo npm run dev/);
            assert.match(devError(() => chooseCluster(machine({ platform: "darwin", docker: "missing", kindNodeImage: undefined }))),
                /- Linux: the local cluster runs a kubelet on this machine \(this is darwin\)/);
        });
    });

    describe("which engine runs the stack", function () {
        it("the Pulumi CLI where its Node.js language host is there; else the Automation API on the pinned CLI, saying which is missing", function () {
            assert.strictEqual(chooseEngine(machine({ pulumi: true, languageHost: true })).value, "cli");
            const none = chooseEngine(machine());
            assert.strictEqual(none.value, "automation");
            assert.match(none.line, /^engine: the Automation API with the pinned Pulumi CLI \(scripts\/tools\.sh e2e\), because no Pulumi CLI on PATH; the same program, Pulumi\.dev\.yaml and state in \.pulumi\/$/);
            // The pinned CLI on PATH (.tools/bin) is such a CLI: built from the Go module proxy, without the language host.
            assert.match(chooseEngine(machine({ pulumi: true })).line, /because the Pulumi CLI on PATH has no Node\.js language host \(pulumi-language-nodejs\)/);
        });

        it("names what the engine needs besides the cluster: Docker for the CLI's docker provider, root for the pinned BuildKit", function () {
            assert.deepStrictEqual(engineMissing("cli", machine({ docker: "not-running" }), true),
                ["docker: the Pulumi CLI path builds the image with the docker provider, which needs a Docker engine that answers"]);
            assert.match(engineMissing("automation", machine({ uid: 1000 }), true)[0], /^root: the Automation API path builds the image with the pinned BuildKit.*or set hello-service:prebuiltImage$/);
            assert.deepStrictEqual(engineMissing("automation", machine({ uid: 1000 }), false), [], "a prebuilt image needs no build");
            assert.deepStrictEqual(engineMissing("automation", machine(), true), []);
        });
    });

    describe("where each download comes from, one line per stand-in with the setting that gives the real thing", function () {
        const pins: Pins = {
            builderImage: "docker.io/library/golang:1.26.8@sha256:" + "0".repeat(64),
            runtimeImage: "gcr.io/distroless/static-debian13:nonroot@sha256:" + "1".repeat(64),
            chartRepository: "https://prometheus-community.github.io/helm-charts",
            chartVersion: "88.5.0",
            mirrorUrl: "http://127.0.0.1:5002",
        };
        const nothingAnswers = { builderRegistry: false, runtimeRegistry: false, chartRepository: false };

        it("where neither upstream nor a mirror setting answers: the stand-ins, each named once with its setting", function () {
            const sources = chooseSources({}, nothingAnswers);
            assert.deepStrictEqual(sources, { builder: "standin", runtime: "standin", chart: "standin" });
            const lines = standinLines(sources, pins);
            assert.strictEqual(lines.length, 3);
            assert.match(lines[0], /^stand-in: the build's base image docker\.io\/library\/golang:1\.26\.8 is made from this machine's Go toolchain, because docker\.io does not answer; set hello-service:builderImage to a mirror of it for the real one$/);
            assert.match(lines[1], /^stand-in: the runtime base image gcr\.io\/distroless\/static-debian13:nonroot .* because gcr\.io does not answer; set hello-service:runtimeImage/);
            assert.match(lines[2], /^stand-in: kube-prometheus-stack 88\.5\.0 .*no Grafana.*served on http:\/\/127\.0\.0\.1:5002, because prometheus-community\.github\.io does not answer; set hello-service:monitoringChartRepository to a mirror of the chart for the real one$/);
        });

        it("a mirror setting is used before any upstream or stand-in, and an upstream that answers before a stand-in", function () {
            const sources = chooseSources({ builderImage: "mirror.example.com/golang@sha256:" + "2".repeat(64), monitoringChartRepository: "oci://mirror.example.com/charts" },
                { builderRegistry: true, runtimeRegistry: true, chartRepository: false });
            assert.deepStrictEqual(sources, { builder: "setting", runtime: "upstream", chart: "setting" });
            assert.deepStrictEqual(standinLines(sources, pins), []);
        });
    });

    describe("a real node already on the machine: reused, cleaned or left alone, never a second one", function () {
        const want = { checkout: "/src/hello", context: "kind-hello", registry: "localhost:5001", stackFile: "Pulumi.dev.yaml" };
        const lease = (purpose: string): NodeLease => ({
            pid: 4242, processStart: "1", purpose, startedAt: "2026-12-04T10:00:00.000Z",
            snapshot: { sysctls: {}, paths: [], chains: [], nftTables: [], kubepods: [] }, footprint: { dir: "/tmp/hello-cluster-x", bridge: "hello-br0", ranges: [] },
        });
        const background = (over: Partial<BackgroundCluster> = {}): NodeOnMachine => ({
            state: "background", cluster: {
                owner: "npm run dev", checkout: "/src/hello", kubeconfig: "/tmp/hello-cluster-x/kubeconfig", context: "kind-hello",
                registry: "localhost:5001", control: "/tmp/hello-cluster-x/background/control.sock", nodeAddress: "10.244.0.1",
                pid: 4242, startedAt: "2026-12-04T10:00:00.000Z", ...over,
            },
        });

        it("starts one where there is none, and reuses the one this checkout's npm run dev started while it runs", function () {
            assert.deepStrictEqual(planLocalCluster({ state: "none" }, want), { action: "start" });
            const plan = planLocalCluster(background(), want);
            assert.strictEqual(plan.action, "reuse");
            assert.strictEqual((plan as { line: string }).line, "cluster: reusing the local cluster npm run dev started (pid 4242, since 2026-12-04T10:00:00.000Z)");
        });

        it("cleans up after one whose owner is gone (an interrupted run), then starts anew", function () {
            const plan = planLocalCluster({ state: "leftover", lease: lease("npm run dev (/src/hello), in the background") }, want);
            assert.strictEqual(plan.action, "clean");
            assert.match((plan as { line: string }).line, /^cluster: cleaning up the local cluster of pid 4242 \(npm run dev \(\/src\/hello\), in the background\), which ended without stopping it$/);
        });

        it("does not wait for another process's node (a test run): it names it and stops", function () {
            const message = devError(() => planLocalCluster({ state: "other", lease: lease("the real-engine tier (service.test.ts)") }, want));
            assert.strictEqual(message, "a local cluster with a real node already runs on this machine (pid 4242, the real-engine tier (service.test.ts), " +
                "since 2026-12-04T10:00:00.000Z): one per machine, and npm run dev does not wait for it: run npm run dev again once it has stopped");
            assert.match(devError(() => planLocalCluster({ state: "starting", lease: lease("npm run dev (/src/hello), in the background") }, want)),
                /^another npm run dev is starting the machine's local cluster \(pid 4242/);
        });

        it("leaves another checkout's dev cluster alone, and one started for other settings, saying to run npm run dev:down", function () {
            assert.match(devError(() => planLocalCluster(background({ checkout: "/src/other" }), want)),
                /^the machine's local cluster runs for npm run dev of \/src\/other \(pid 4242, .*run npm run dev:down there first$/);
            assert.match(devError(() => planLocalCluster(background({ registry: "localhost:6001" }), want)),
                /started for kubeContext kind-hello and registry localhost:6001, and Pulumi\.dev\.yaml now says kind-hello and localhost:5001: run npm run dev:down, then npm run dev$/);
        });
    });

    describe("what stops it before anything starts", function () {
        let checkout: string;
        beforeEach(() => (checkout = linkedCheckout()));
        afterEach(() => fs.rmSync(checkout, { recursive: true, force: true }));

        it("a dev stack file with errors: the same messages as npm run check-config, and nothing started", async function () {
            this.timeout(60_000);
            fs.writeFileSync(path.join(checkout, "Pulumi.dev.yaml"),
                "config:\n  hello-service:kubeContext: kind-hello\n  hello-service:registry: Not A Registry\n  hello-service:replcas: 2\n");
            const res = await dev(["up", "--yes"], { env: process.env, checkout });
            const check = await promisify(execFile)(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "stacks", "checkConfig.ts"), "Pulumi.dev.yaml"],
                { cwd: checkout }).catch((e: { stderr: string }) => e);
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /^Pulumi\.dev\.yaml: stack "dev" has 2 invalid settings; nothing was deployed:\n/);
            assert.match(res.stderr, /- hello-service:replcas: unknown key; did you mean hello-service:replicas\?/);
            assert.strictEqual(res.stderr, check.stderr);
            assert.doesNotMatch(res.stdout, /==>/, "nothing was chosen or started");
            assert.ok(!fs.existsSync(path.join(checkout, ".dev")), "nothing was written");
        });

        it("without --yes and without a terminal to ask on: says to pass --yes, and starts nothing", async function () {
            this.timeout(60_000);
            const res = await dev(["up"], { env: process.env, checkout }); // stdin is a pipe here, as under CI
            assert.strictEqual(res.code, 1);
            assert.strictEqual(res.stderr.trim(), "npm run dev asks before it updates the dev stack, and this is not a terminal: run npm run dev -- --yes");
            assert.ok(!fs.existsSync(path.join(checkout, ".dev")), "nothing was written");
        });

        it("an option it does not know, or a cluster it does not know, named with what it accepts", async function () {
            this.timeout(60_000);
            const res = await dev(["up", "--cluster", "minikube"], { env: process.env });
            assert.strictEqual(res.code, 1);
            assert.strictEqual(res.stderr.trim(), 'npm run dev: --cluster "minikube" is not a cluster npm run dev knows; it is kind or local');
            const unknown = await dev(["up", "--force"], { env: process.env });
            assert.match(unknown.stderr, /^npm run dev: Unknown option '--force'; the options are --yes \(ask nothing\) and --cluster kind\|local/);
        });
    });

    describe("with the Pulumi CLI and kind (faked)", function () {
        let dir: string;
        let checkout: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "dev-"));
            checkout = linkedCheckout();
        });
        afterEach(() => {
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(checkout, { recursive: true, force: true });
        });

        it("runs pulumi up with refresh on the kind cluster, so that a helm rollback by hand is rolled forward to the code", async function () {
            this.timeout(60_000);
            const calls = path.join(dir, "pulumi-calls");
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            for (const tool of ["dirname", "mkdir", "cat", "grep", "bash"]) fs.symlinkSync(commandPath(tool), path.join(bin, tool));
            fs.symlinkSync(process.execPath, path.join(bin, "node"));
            const fakes: Record<string, string> = {
                docker: 'case "$1" in inspect) echo true;; *) exit 0;; esac', // answers, has the node image, the registry runs
                kind: '[[ "$1 $2" == "get clusters" ]] && echo hello; exit 0',
                kubectl: "exit 0",
                "pulumi-language-nodejs": "exit 0",
                pulumi: `echo "$*" >> ${JSON.stringify(calls)}; [[ "$1 $2" == "stack output" ]] && echo '{"serviceAccess": "kubectl port-forward (fake)", "grafanaAccess": "grafana (fake)"}'; exit 0`,
            };
            for (const [name, body] of Object.entries(fakes)) fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
            const res = await dev(["up", "--yes"], { env: { PATH: bin, HOME: dir }, checkout });
            assert.strictEqual(res.code, 0, res.stderr + res.stdout);
            assert.match(res.stdout, /==> cluster: kind, because kind, Docker and kind's node image are here/);
            assert.match(res.stdout, /==> engine: the Pulumi CLI on PATH \(pulumi up --refresh\)/);
            const upCalls = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.startsWith("up "));
            assert.deepStrictEqual(upCalls, ["up --refresh --stack dev --yes"]);
            assert.deepStrictEqual(res.stdout.trim().split("\n").slice(-2),
                ["==> service: kubectl port-forward (fake)", `==> Grafana: grafana (fake) (user admin; its password: PULUMI_BACKEND_URL=file://${checkout}/.pulumi PULUMI_CONFIG_PASSPHRASE= pulumi stack output --stack dev grafanaAdminPassword --show-secrets)`]);
        });

        it("builds kind and kubectl at the pinned versions into the tool cache (scripts/tools.sh dev)", async function () {
            this.timeout(30 * 60_000); // kubectl is shared with the real-engine tier's build; kind builds in about a minute
            const { stdout } = await promisify(execFile)("bash", [path.join(ROOT, "scripts", "tools.sh"), "dev"]);
            const bin = stdout.trim().split("\n").pop()!;
            const kind = (await promisify(execFile)(path.join(bin, "kind"), ["version"])).stdout;
            assert.match(kind, /^kind v0\.29\.0 /);
            const kubectl = JSON.parse((await promisify(execFile)(path.join(bin, "kubectl"), ["version", "--client", "--output=json"])).stdout);
            assert.strictEqual(kubectl.clientVersion.gitVersion, "v1.34.4");
            assert.ok(!fs.realpathSync(path.join(bin, "kind")).startsWith(ROOT), "built outside the clone, into the machine's cache");
        });
    });

    describe("the kind and registry configuration it writes", function () {
        let kind: any, hosts: string, configMap: any;
        before(async function () {
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "dev-config-"));
            try {
                const res = await dev(["config", out], { env: process.env });
                assert.strictEqual(res.code, 0, res.stderr);
                kind = parse(fs.readFileSync(path.join(out, "kind-config.yaml"), "utf8"));
                hosts = fs.readFileSync(path.join(out, "hosts.toml"), "utf8");
                configMap = parse(fs.readFileSync(path.join(out, "local-registry-hosting.yaml"), "utf8"));
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
        });

        it("creates the cluster the dev stack deploys to (its kubeContext)", function () {
            assert.strictEqual(kind.kind, "Cluster");
            assert.strictEqual(kind.apiVersion, "kind.x-k8s.io/v1alpha4");
            const dev = readStackFile(path.join(ROOT, "Pulumi.dev.yaml"));
            assert.strictEqual(`kind-${kind.name}`, dev.values["hello-service:kubeContext"]);
        });

        it("runs a Kubernetes the chart supports (>= 1.30), from a node image pinned by digest", function () {
            const image: string = kind.nodes[0].image;
            assert.strictEqual(image, NODE_IMAGE, "the image npm run dev looks for is the one kind runs");
            const match = /^kindest\/node:v1\.([0-9]+)\.[0-9]+@sha256:[0-9a-f]{64}$/.exec(image);
            assert.ok(match, image);
            assert.ok(Number(match[1]) >= 30, image);
        });

        it("lets the nodes pull the dev stack's registry host from the registry container", function () {
            const dev = readStackFile(path.join(ROOT, "Pulumi.dev.yaml"));
            const registryHost = dev.values["hello-service:registry"].split("/")[0];
            assert.match(kind.containerdConfigPatches[0], /config_path = "\/etc\/containerd\/certs\.d"/);
            assert.strictEqual(hosts.trim(), '[host."http://kind-registry:5000"]');
            assert.strictEqual(parse(configMap.data["localRegistryHosting.v1"]).host, registryHost);
            assert.strictEqual(configMap.metadata.namespace, "kube-public");
        });
    });
});
