/**
 * The policy pack as the Pulumi CLI serves it, without the CLI: `pulumi-analyzer-policy` starts
 * `@pulumi/pulumi/cmd/run-policy-pack` in policy/ (the pack's package.json names its entry point and version), reads
 * the gRPC port from stdout and speaks the Analyzer protocol. The pack spec (test/policy.pack.test.ts) and
 * `npm run bench:policy` both talk to it through this.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "../../scripts/lib/program";

const PULUMI = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
/** Modules as @pulumi/pulumi's generated protocol code sees them (one google-protobuf for both). */
function fromPulumi<T>(id: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve(id, { paths: [PULUMI] })) as T;
}
export const pb = fromPulumi<any>("@pulumi/pulumi/proto/analyzer_pb");
const { AnalyzerClient } = fromPulumi<any>("@pulumi/pulumi/proto/analyzer_grpc_pb");
const grpc = fromPulumi<any>("@grpc/grpc-js");
const { Struct } = fromPulumi<any>("google-protobuf/google/protobuf/struct_pb");
export const { Empty } = fromPulumi<any>("google-protobuf/google/protobuf/empty_pb");

/** Enforcement levels by their protocol number, in the pack's words (`mandatory`, `advisory`). */
export const LEVELS: Record<number, string> = Object.fromEntries(
    Object.entries(pb.EnforcementLevel as Record<string, number>).map(([name, n]) => [n, name.toLowerCase()]));

/** One finding as the engine receives it. */
export interface Diagnostic {
    readonly policy: string;
    readonly level: string;
    readonly message: string;
}

/** A running pack and a client connected to it. */
export interface PackServer {
    /** Calls an Analyzer method (`getAnalyzerInfo`, `configure`, `analyze`, ...) with a protocol request. */
    call<T>(method: string, request: unknown): Promise<T>;
    /** Sends `inputs` of resource `type` `name` of `stack` to Analyze, as the engine does for each resource. */
    analyze(type: string, name: string, stack: string, inputs: unknown): Promise<Diagnostic[]>;
    /** Configures every policy in `levels` at its level with `config[policy]` (a stack's policy/config/<stack>.json). */
    configure(levels: Readonly<Record<string, string>>, config: Readonly<Record<string, object>>): Promise<void>;
    /** What the pack printed on stderr so far. */
    stderr(): string;
    close(): void;
}

/**
 * Starts the pack in policy/ with the runner the CLI uses, on a free loopback port, and connects to it. `nodeArgs`
 * go before the runner (e.g. `-r` of a timing hook); `env` is the pack's environment (PATH must hold helm).
 */
export async function servePack(opts: { readonly nodeArgs?: readonly string[]; readonly env?: NodeJS.ProcessEnv } = {}): Promise<PackServer> {
    const runner = path.join(PULUMI, "cmd", "run-policy-pack");
    const pack: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), runner, "127.0.0.1:0", "."], {
        cwd: path.join(ROOT, "policy"), env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
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
    const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = <T>(method: string, request: unknown): Promise<T> => new Promise((resolve, reject) =>
        client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
    return {
        call,
        async analyze(type, name, stack, inputs) {
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
        },
        async configure(levels, config) {
            const req = new pb.ConfigureAnalyzerRequest();
            for (const [policy, level] of Object.entries(levels)) {
                const entry = new pb.PolicyConfig();
                entry.setEnforcementlevel(pb.EnforcementLevel[level.toUpperCase()]);
                entry.setProperties(Struct.fromJavaScript({ ...(config[policy] ?? {}) }));
                req.getPolicyconfigMap().set(policy, entry);
            }
            await call("configure", req);
        },
        stderr: () => stderr,
        close() {
            client.close();
            pack.kill();
        },
    };
}
