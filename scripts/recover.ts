/**
 * `npm run recover -- --stack <name> [--exclusive] [--cwd <project folder>]`: brings a stack whose deploy was
 * interrupted back to a state the next `pulumi up` converges from: stale locks, orphaned providers, Helm releases
 * left pending, pending operations in the state (scripts/lib/recovery.ts says what and why). The Deploy workflow runs
 * it before every `up`; a person runs it after an interrupted deploy (README, "When a deploy was interrupted").
 *
 * It uses the Pulumi CLI on PATH with its Node.js language host where there is one (as the workflows install it),
 * else the pinned CLI (scripts/tools.sh e2e) with the project's program run inline, as `npm run dev` does. The stack's
 * backend and secrets come from the environment (PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE),
 * its cluster from its `kubeContext` and the ambient kubeconfig, as the program's provider does.
 *
 * Exit codes: 0 recovered or nothing to recover; 2 bad arguments; 3 refused (a deploy may be running: nothing changed);
 * 1 anything else.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

import { recoverStack } from "./lib/recovery";

const ROOT = path.resolve(__dirname, "..");
const PROJECT = "hello-service";

function usage(problem: string): never {
    process.stderr.write(`npm run recover: ${problem}\n` +
        "usage: npm run recover -- --stack <name> [--exclusive] [--cwd <project folder>]\n" +
        "  --exclusive  this run holds the deploy's concurrency lock (the Deploy workflow): every lock is a dead run's\n");
    process.exit(2);
}

function onPath(command: string): string | undefined {
    try {
        return execFileSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).trim() || undefined;
    } catch {
        return undefined;
    }
}

/** The pinned tools' bin directory, built where missing. */
function pinnedTools(): string {
    return execFileSync("bash", [path.join(ROOT, "scripts", "tools.sh"), "test", "e2e"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
        .trim().split("\n").pop()!;
}

async function openStack(name: string, cwd: string): Promise<{ stack: Stack; helm: string }> {
    const pulumi = onPath("pulumi");
    if (pulumi && onPath("pulumi-language-nodejs")) {
        return { stack: await LocalWorkspace.selectStack({ stackName: name, workDir: cwd }), helm: onPath("helm") ?? path.join(pinnedTools(), "helm") };
    }
    const bin = pinnedTools();
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin), skipVersionCheck: true });
    const program = async () => (require(path.join(ROOT, "index")) as () => Promise<Record<string, unknown>>)();
    const stack = await LocalWorkspace.selectStack({ stackName: name, projectName: PROJECT, program }, {
        workDir: cwd, pulumiCommand, envVars: { PATH: `${bin}:${process.env.PATH}` },
    });
    return { stack, helm: path.join(bin, "helm") };
}

async function main() {
    let args;
    try {
        args = parseArgs({ options: { stack: { type: "string" }, exclusive: { type: "boolean" }, cwd: { type: "string" } } }).values;
    } catch (e) {
        usage((e as Error).message);
    }
    if (!args.stack || !/^[A-Za-z0-9_.-]+$/.test(args.stack)) usage(`--stack ${JSON.stringify(args.stack ?? "")}: name the stack, e.g. --stack staging`);
    const cwd = path.resolve(args.cwd ?? ROOT);
    const { stack, helm } = await openStack(args.stack, cwd);
    const context = (await stack.getConfig(`${PROJECT}:kubeContext`)).value;
    const log = (line: string) => process.stdout.write(`recover ${args.stack}: ${line}\n`);
    const report = await recoverStack({ stack, project: PROJECT, helm: { binary: helm, context }, exclusive: args.exclusive, log });
    if (report.refused) {
        process.stderr.write(`recover ${args.stack}: ${report.refused}\n`);
        process.exit(3);
    }
    if (report.done.length === 0) log("nothing to recover: no lock, no orphaned provider, no release left pending, no pending operation");
}

main().catch((e: Error) => {
    process.stderr.write(`recover: ${e.message}\n`);
    process.exit(1);
});
