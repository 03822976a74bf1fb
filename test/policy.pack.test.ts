/**
 * The pack as the Pulumi CLI runs it, without the CLI: `pulumi-analyzer-policy` starts
 * `@pulumi/pulumi/cmd/run-policy-pack` in policy/ (ts-node with type checking, the pack's package.json for its
 * version), reads the gRPC port from stdout and speaks the Analyzer protocol. This spec does the same, in a child
 * process, so the pack's layout, its module resolution, the config a stack passes (`--policy-pack-config`) and what
 * the engine receives are checked for real.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../scripts/lib/program";
import { POLICIES } from "../policy/policies";
import { secret } from "../policy/testing";

const PULUMI = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
/** Modules as @pulumi/pulumi's generated protocol code sees them (one google-protobuf for both). */
function fromPulumi<T>(id: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve(id, { paths: [PULUMI] })) as T;
}
const pb = fromPulumi<any>("@pulumi/pulumi/proto/analyzer_pb");
const { AnalyzerClient } = fromPulumi<any>("@pulumi/pulumi/proto/analyzer_grpc_pb");
const grpc = fromPulumi<any>("@grpc/grpc-js");
const { Struct } = fromPulumi<any>("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPulumi<any>("google-protobuf/google/protobuf/empty_pb");

const LEVELS: Record<number, string> = Object.fromEntries(
    Object.entries(pb.EnforcementLevel as Record<string, number>).map(([name, n]) => [n, name.toLowerCase()]));

interface Diagnostic {
    readonly policy: string;
    readonly level: string;
    readonly message: string;
}

describe("the policy pack, served as the Pulumi CLI serves it", function () {
    let pack: ChildProcess;
    let client: any;
    let stderr = "";

    const call = <T>(method: string, request: unknown): Promise<T> => new Promise((resolve, reject) =>
        client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

    async function analyze(type: string, name: string, stack: string, inputs: unknown): Promise<Diagnostic[]> {
        const req = new pb.AnalyzeRequest();
        req.setType(type);
        req.setName(name);
        req.setUrn(`urn:pulumi:${stack}::hello-service::${type}::${name}`);
        req.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(inputs))));
        req.setOptions(new pb.AnalyzerResourceOptions());
        const res = await call<any>("analyze", req);
        return res.getDiagnosticsList().map((d: any) => ({
            policy: d.getPolicyname(), level: LEVELS[d.getEnforcementlevel()], message: d.getMessage(),
        }));
    }

    before(async function () {
        // ts-node type-checks the pack on start, as under the CLI: give it time.
        this.timeout(180000);
        const runner = path.join(PULUMI, "cmd", "run-policy-pack");
        pack = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: path.join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] });
        pack.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            pack.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
                out += chunk;
                const match = /^(\d+)\s*$/m.exec(out);
                if (match) resolve(match[1]);
            });
            pack.on("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${out}${stderr}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });
    after(function () {
        client?.close();
        pack?.kill();
    });

    it("announces the pack, its version from policy/package.json, and every policy at its enforcement level", async function () {
        const info = await call<any>("getAnalyzerInfo", new Empty());
        assert.strictEqual(info.getName(), "hello-service-guardrails");
        const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")) as { version: string };
        assert.strictEqual(info.getVersion(), version);
        const served = Object.fromEntries(info.getPoliciesList().map((p: any) => [p.getName(), LEVELS[p.getEnforcementlevel()]]));
        assert.deepStrictEqual(served, Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel])));
    });

    it("takes prod's policy config as the CLI passes it, and refuses a LoadBalancer in prod over the wire", async function () {
        const req = new pb.ConfigureAnalyzerRequest();
        const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", "prod.json"), "utf8")) as Record<string, object>;
        for (const policy of POLICIES) {
            const entry = new pb.PolicyConfig();
            entry.setEnforcementlevel(pb.EnforcementLevel[policy.enforcementLevel!.toUpperCase()]);
            entry.setProperties(Struct.fromJavaScript({ ...(config[policy.name] ?? {}) }));
            req.getPolicyconfigMap().set(policy.name, entry);
        }
        await call("configure", req);

        const service = { metadata: { name: "public", namespace: "hello" }, spec: { type: "LoadBalancer" } };
        const found = await analyze("kubernetes:core/v1:Service", "public", "prod", service);
        assert.deepStrictEqual(found.map((d) => [d.policy, d.level]), [["no-load-balancer-in-prod", "mandatory"]]);
        assert.match(found[0].message, /Service hello\/public is a LoadBalancer.*policy\/config\/prod\.json/);
    });

    it("receives secrets decrypted, and names where one sits in Helm values without printing it", async function () {
        const release = {
            name: "kube-prometheus-stack", chart: "kube-prometheus-stack", version: "88.5.0", namespace: "monitoring",
            repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" }, atomic: true, maxHistory: 10,
            values: { grafana: { admin: { existingSecret: "grafana-admin" }, adminPassword: secret("hunter2-correct-horse") } },
        };
        const found = await analyze("kubernetes:helm.sh/v3:Release", "monitoring", "prod", release);
        const secrets = found.filter((d) => d.policy === "no-secrets-in-helm-values");
        assert.strictEqual(secrets.length, 1, JSON.stringify(found));
        assert.match(secrets[0].message, /values grafana\.adminPassword holds a literal value under a key that names a credential/);
        assert.ok(found.every((d) => !d.message.includes("hunter2")), "no diagnostic prints the secret");
    });

    it("renders the service's chart from the pack's process (helm on PATH) and checks what it renders to", async function () {
        const release = {
            name: "hello", chart: "./charts/go-service", namespace: "hello", atomic: true, maxHistory: 10,
            values: { image: { repository: "ghcr.io/acme/hello", tag: "1.2.3" }, replicaCount: 2 },
        };
        const found = await analyze("kubernetes:helm.sh/v3:Release", "hello", "staging", release);
        assert.deepStrictEqual(found.map((d) => d.policy), ["images-by-digest"]);
        assert.match(found[0].message, /→ Deployment hello\/hello: container "go-service": image "ghcr\.io\/acme\/hello:1\.2\.3" must be pinned by digest/);
    });
});
