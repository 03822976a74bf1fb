/**
 * Runs the Pulumi program (index.ts) under Pulumi's mocks, one child process per stack config, and returns
 * what it registered. No engine and no provider runs: this checks the program's decisions, not a deployment.
 * The tests use it, and so does `npm run render-diff`, which runs the program of another checkout (`dir`).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import type { RawStackConfig } from "../../stacks/load";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { readStackFile } from "../../stacks/stackFile";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface ProgramInput {
    /** The project directory whose index.ts runs. */
    readonly dir: string;
    readonly project: string;
    readonly stack: string;
    readonly preview: boolean;
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

export interface CapturedResource {
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    /** URN of the parent resource, if any. */
    readonly parent?: string;
    /** URNs this resource depends on (dependsOn and input dependencies). */
    readonly dependencies: string[];
    /** Provider reference `urn::id`, for custom resources. */
    readonly provider?: string;
    /** Inputs as the provider would receive them; secrets arrive wrapped (see isSecretValue). */
    readonly inputs: any;
}

export interface CapturedOutput {
    readonly known: boolean;
    readonly secret: boolean;
    readonly value: unknown;
}

export interface ProgramRun {
    readonly resources: CapturedResource[];
    readonly outputs: Record<string, CapturedOutput>;
    readonly warnings: string[];
    /** The message the program failed with, if it did. */
    readonly error?: string;
}

/** Whether `value` is a secret as Pulumi serializes one: wrapped in the SDK's own marker. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/**
 * Secrets a platform engineer sets once per stack with `pulumi config set --secret` (they cannot be
 * committed). Tests add them to the committed stack files, as secrets.
 */
export const TEST_SECRETS: Readonly<Record<string, string>> = {
    "hello-service:alertWebhookUrl": "https://alerts.test.invalid/hooks/T0KEN-WEBHOOK",
    "hello-service:registryPassword": "registry-T0KEN-pw",
    "hello-service:grafanaAdminPassword": "grafana-T0KEN-password",
};

/** A committed stack file's config (of the project in `dir`), with extra values (plain) and secrets layered on top. */
export function stackConfig(stack: string, extra: {
    readonly values?: Readonly<Record<string, string>>;
    readonly secrets?: Readonly<Record<string, string>>;
} = {}, dir = ROOT): RawStackConfig {
    const file = readStackFile(path.join(dir, `Pulumi.${stack}.yaml`));
    const secretKeys = new Set(file.secretKeys);
    for (const key of Object.keys(extra.secrets ?? {})) secretKeys.add(key);
    return {
        project: file.project,
        stack,
        values: { ...file.values, ...extra.values, ...extra.secrets },
        secretKeys,
    };
}

/**
 * A committed stack file's config with what its platform team sets once per stack: the secrets, and the registry user
 * beside the registry password (dev needs neither: a local registry, a generated Grafana password).
 */
export function configuredStack(stack: string, dir = ROOT): RawStackConfig {
    return stack === "dev"
        ? stackConfig(stack, {}, dir)
        : stackConfig(stack, { values: { "hello-service:registryUsername": "ci-bot" }, secrets: { ...TEST_SECRETS } }, dir);
}

/**
 * Runs index.ts under mocks with `config` and returns what it registered. `dir` is the project to run (default:
 * this checkout); it resolves its modules from its own node_modules (a link to this checkout's will do).
 */
export async function runProgram(config: RawStackConfig, opts: { readonly preview?: boolean; readonly dir?: string } = {}): Promise<ProgramRun> {
    const projectDir = path.resolve(opts.dir ?? ROOT);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "program-"));
    try {
        const input: ProgramInput = {
            dir: projectDir,
            project: config.project,
            stack: config.stack,
            preview: opts.preview ?? false,
            values: { ...config.values },
            secretKeys: [...config.secretKeys],
        };
        fs.writeFileSync(path.join(dir, "input.json"), JSON.stringify(input));
        await promisify(execFile)(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "runProgram.ts")], {
            cwd: projectDir,
            env: { ...process.env, PROGRAM_INPUT: path.join(dir, "input.json"), PROGRAM_OUTPUT: path.join(dir, "output.json") },
            maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(fs.readFileSync(path.join(dir, "output.json"), "utf8")) as ProgramRun;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
