/**
 * `npm run dev` (scripts/dev.sh). The Pulumi CLI and kind are not on the test machines, so the cluster is never
 * created here: these specs check what can be checked without them, the prerequisite messages and the kind and
 * registry configuration the script writes, and that it matches the dev stack.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse } from "yaml";
import { readStackFile } from "../stacks/stackFile";
import { ROOT } from "../scripts/lib/program";

const SCRIPT = path.join(ROOT, "scripts", "dev.sh");

/** Where a command on this process's PATH is. */
function commandPath(command: string): string {
    const found = (process.env.PATH ?? "").split(":").map((d) => path.join(d, command)).find((p) => fs.existsSync(p));
    if (!found) throw new Error(`${command} is not on PATH`);
    return found;
}

async function dev(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
    try {
        const { stderr } = await promisify(execFile)("/bin/bash", [SCRIPT, ...args], { env, cwd: ROOT });
        return { code: 0, stderr };
    } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
    }
}

describe("npm run dev", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "dev-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A PATH holding only what the script itself uses before its checks, plus `extra` commands. */
    function barePath(extra: Record<string, string> = {}): string {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        for (const tool of ["dirname"]) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
        for (const [name, body] of Object.entries(extra)) {
            fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
        }
        return bin;
    }

    it("names every missing prerequisite with where to get it, and stops before doing anything", async function () {
        const res = await dev(["up"], { PATH: barePath(), HOME: dir });
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /npm run dev needs 3 more thing\(s\):/);
        assert.match(res.stderr, /- docker: not found\. Install Docker Engine or Docker Desktop: https:\/\/docs\.docker\.com\/engine\/install\//);
        assert.match(res.stderr, /- go: not found, and kind or kubectl is missing: install Go 1\.26 \(https:\/\/go\.dev\/dl\/\) and npm run dev builds the pinned kind and kubectl/);
        assert.match(res.stderr, /- pulumi: not found\. Install the Pulumi CLI/);
        assert.doesNotMatch(res.stderr, /==>/, "nothing was started");
    });

    it("tells a Docker that is installed but not running apart from a missing one", async function () {
        // A docker whose daemon does not answer: `docker info` fails.
        const res = await dev(["up"], { PATH: barePath({ docker: "exit 1" }), HOME: dir });
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /- docker: installed, but the daemon does not answer \(docker info failed\)\. Start Docker/);
        assert.match(res.stderr, /needs 3 more thing/);
    });

    it("dev:down checks the same prerequisites before deleting anything", async function () {
        const res = await dev(["down"], { PATH: barePath(), HOME: dir });
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /needs 3 more thing\(s\)/);
    });

    it("updates the dev stack with refresh, so that a helm rollback by hand is rolled forward to the code", async function () {
        const calls = path.join(dir, "pulumi-calls");
        const bin = barePath({
            docker: 'case "$1" in inspect) echo true;; *) exit 0;; esac',
            kind: '[[ "$1 $2" == "get clusters" ]] && echo hello; exit 0',
            kubectl: "exit 0",
            pulumi: `echo "$*" >> ${JSON.stringify(calls)}`,
        });
        for (const tool of ["mkdir", "cat"]) fs.symlinkSync(commandPath(tool), path.join(bin, tool));
        const res = await dev(["up", "--yes"], { PATH: bin, HOME: dir });
        assert.strictEqual(res.code, 0, res.stderr);
        const upCalls = fs.readFileSync(calls, "utf8").split("\n").filter((l) => l.startsWith("up "));
        assert.deepStrictEqual(upCalls, ["up --refresh --stack dev --yes"]);
    });

    it("does not ask for kind or kubectl where Go can build them", async function () {
        const res = await dev(["up"], { PATH: `${barePath()}:${path.dirname(commandPath("go"))}`, HOME: dir });
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /needs 2 more thing\(s\)/);
        assert.doesNotMatch(res.stderr, /kind|kubectl/);
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

    describe("the kind and registry configuration it writes", function () {
        let kind: any, hosts: string, configMap: any;
        before(async function () {
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "dev-config-"));
            try {
                const res = await dev(["config", out], { PATH: process.env.PATH });
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
