/**
 * The dev stack on the Automation API path: the project's program (index.ts) inline, on the pinned CLI, with the state
 * where the Pulumi CLI path keeps it (`.pulumi/`, a local file backend), so that `pulumi stack output --stack dev` of
 * the pinned CLI reads it.
 *
 * The stack's settings are Pulumi.dev.yaml's, and what npm run dev adds on this path (the image it built, the stand-in
 * chart's mirror, a generated Grafana password). Those additions go into a copy of the stack file in the project
 * folder .dev/project, written again on every run: your Pulumi.dev.yaml is never edited behind your back.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

import { engineEnv, projectProgram, writeInlineProject } from "../lib/inlineProject";

export const STACK = "dev";
const PROJECT = "hello-service";
export const GRAFANA_PASSWORD_KEY = `${PROJECT}:grafanaAdminPassword`;

export interface DevStackOptions {
    readonly checkout: string;
    /** The pinned binaries (scripts/tools.sh e2e). */
    readonly bin: string;
    /** The cluster's kubeconfig. @default the ambient one ($KUBECONFIG, else ~/.kube/config) */
    readonly kubeconfig?: string;
    /** Settings (without the project's prefix) npm run dev adds to the stack file's, e.g. prebuiltImage. */
    readonly additions?: Readonly<Record<string, string>>;
    /** Generate Grafana's admin password where the stack file sets none. @default false */
    readonly generateGrafanaPassword?: boolean;
}

export interface DevStack {
    readonly stack: Stack;
    /** The project folder the engine runs in, which holds the stack file it uses. */
    readonly workDir: string;
    /** Whether this run generated Grafana's admin password (the first run, where the stack file sets none). */
    readonly generatedGrafanaPassword: boolean;
}

interface StackFileDoc {
    encryptionsalt?: string;
    config?: Record<string, unknown>;
}

function readDoc(file: string): StackFileDoc | undefined {
    return fs.existsSync(file) ? ((parse(fs.readFileSync(file, "utf8")) ?? {}) as StackFileDoc) : undefined;
}

/** Where the engine's own files go (PULUMI_HOME, Helm's folders): removed by npm run dev:down. */
export const devDir = (checkout: string) => path.join(checkout, ".dev");

/**
 * Writes the engine's copy of the stack file: Pulumi.dev.yaml's settings (secrets as they are encrypted there), the
 * additions, and what the previous copy kept that the file does not say: the encryption salt and the generated
 * Grafana password (encrypted with that salt). Returns whether a Grafana password must still be generated.
 */
function writeStackFile(opts: DevStackOptions, workDir: string): boolean {
    const yours = readDoc(path.join(opts.checkout, `Pulumi.${STACK}.yaml`)) ?? {};
    const file = path.join(workDir, `Pulumi.${STACK}.yaml`);
    const previous = readDoc(file);
    const salt = yours.encryptionsalt ?? previous?.encryptionsalt;
    const config: Record<string, unknown> = { ...yours.config };
    for (const [key, value] of Object.entries(opts.additions ?? {})) config[`${PROJECT}:${key}`] = value;
    let needsPassword = false;
    if (opts.generateGrafanaPassword && config[GRAFANA_PASSWORD_KEY] === undefined) {
        const kept = previous?.config?.[GRAFANA_PASSWORD_KEY];
        if (kept !== undefined && previous?.encryptionsalt === salt) config[GRAFANA_PASSWORD_KEY] = kept;
        else needsPassword = true;
    }
    const doc: StackFileDoc = { ...(salt ? { encryptionsalt: salt } : {}), config };
    fs.writeFileSync(file, `# Written by npm run dev from ../../Pulumi.${STACK}.yaml and what it adds: edit that file, not this one.\n${stringify(doc)}`);
    return needsPassword;
}

/** The dev stack, created on the first run. */
export async function openDevStack(opts: DevStackOptions): Promise<DevStack> {
    const dev = devDir(opts.checkout);
    const workDir = path.join(dev, "project");
    writeInlineProject(workDir);
    const needsPassword = writeStackFile(opts, workDir);
    const backend = path.join(opts.checkout, ".pulumi");
    fs.mkdirSync(backend, { recursive: true });
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(opts.bin), skipVersionCheck: true });
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, projectName: PROJECT, program: projectProgram }, {
        workDir,
        pulumiCommand,
        secretsProvider: "passphrase",
        envVars: {
            ...engineEnv({ bin: opts.bin, home: path.join(dev, "engine"), backend, passphrase: process.env.PULUMI_CONFIG_PASSPHRASE ?? "" }),
            ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}),
        },
    });
    if (needsPassword) {
        // The random provider that would generate it is not available to the Automation API here; generated once,
        // it is kept (encrypted) in the engine's stack file, so that every later run passes the same one.
        await stack.setConfig(GRAFANA_PASSWORD_KEY, { value: randomBytes(18).toString("base64url"), secret: true });
    }
    return { stack, workDir, generatedGrafanaPassword: needsPassword };
}

/** Whether the dev stack exists in the backend (.pulumi/), without creating it. */
export function devStackExists(checkout: string): boolean {
    return fs.existsSync(path.join(checkout, ".pulumi", ".pulumi", "stacks", PROJECT, `${STACK}.json`));
}
