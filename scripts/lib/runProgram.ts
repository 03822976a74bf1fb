/**
 * Child process of `program.ts`: runs index.ts once under Pulumi's mocks with one stack's config and writes
 * what the program registered (resources with parents, dependencies, providers and inputs; stack outputs
 * with their secret and known flags) as JSON. One process per stack: a program runs once per module cache.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { CapturedOutput, CapturedResource, ProgramInput, ProgramRun } from "./program";

const input = JSON.parse(fs.readFileSync(process.env.PROGRAM_INPUT!, "utf8")) as ProgramInput;
const resources: CapturedResource[] = [];
const pending = new Map<string, Omit<CapturedResource, "inputs">>();
const warnings: string[] = [];

/** A digest that is stable for a name: tests can recognise it, and it looks like the real thing. */
function fakeDigest(seed: string): string {
    return require("crypto").createHash("sha256").update(seed).digest("hex");
}

/** What a provider would return: inputs echoed, plus the outputs the program reads. */
function stateFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "docker:index/image:Image": {
            // Like the provider: the image is built, and its digest known, only on `pulumi up`.
            if (input.preview) return inputs;
            const repository = String(inputs.imageName).replace(/:[^:/]+$/, "");
            return { ...inputs, repoDigest: `${repository}@sha256:${fakeDigest(name)}` };
        }
        case "kubernetes:helm.sh/v3:Release":
            return { ...inputs, status: { revision: 1, status: "deployed", name: inputs.name, namespace: inputs.namespace } };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: `generated-${fakeDigest(name).slice(0, 24)}` };
        default:
            return inputs;
    }
}

async function main(): Promise<ProgramRun> {
    await pulumi.runtime.setMocks({
        newResource(args) {
            const key = `${args.type}::${args.name}`;
            const meta = pending.get(key);
            resources.push({ ...(meta ?? { type: args.type, name: args.name, custom: args.custom ?? true, dependencies: [] }), inputs: args.inputs });
            return { id: `${args.name}-id`, state: stateFor(args.type, args.name, args.inputs) };
        },
        call: () => ({}),
    }, input.project, input.stack, input.preview);
    pulumi.runtime.setAllConfig(input.values, input.secretKeys);

    // Record what the mocks' newResource does not see: parent, dependencies and provider of each registration.
    const monitor = (pulumi.runtime as unknown as { getMonitor(): Record<string, (...a: any[]) => any> }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        pending.set(`${req.getType()}::${req.getName()}`, {
            type: req.getType(),
            name: req.getName(),
            custom: req.getCustom(),
            parent: req.getParent() || undefined,
            dependencies: req.getDependenciesList(),
            provider: req.getProvider() || undefined,
        });
        return register(req, callback);
    };
    const origWarn = pulumi.log.warn;
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (msg: string, ...rest) => {
        warnings.push(msg);
        return origWarn(msg, ...rest);
    };

    let program: Record<string, unknown>;
    try {
        // The entry point is the program as a function (an older checkout's may be the program itself), as the Pulumi
        // CLI runs it.
        const main = require(path.join(input.dir, "index")) as Record<string, unknown> | (() => Promise<Record<string, unknown>>);
        program = typeof main === "function" ? await main() : main;
    } catch (err) {
        await pulumi.runtime.disconnect().catch(() => undefined);
        return { resources, outputs: {}, warnings, error: (err as Error).message };
    }
    const outputs: Record<string, CapturedOutput> = {};
    for (const [name, value] of Object.entries(program)) {
        const out = pulumi.output(value as pulumi.Input<unknown>) as pulumi.Output<unknown>;
        // isKnown is not in the SDK's typings; an unknown output never resolves, so ask before awaiting it.
        const known = await (out as unknown as { isKnown: Promise<boolean> }).isKnown;
        const secret = await pulumi.isSecret(out);
        const resolved = known ? await new Promise((resolve) => out.apply(resolve)) : undefined;
        outputs[name] = { known, secret, value: resolved };
    }
    await pulumi.runtime.disconnect();
    return { resources, outputs, warnings };
}

main().then(
    (run) => fs.writeFileSync(process.env.PROGRAM_OUTPUT!, JSON.stringify(run)),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
