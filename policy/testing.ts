/**
 * Calls a policy the way the Pulumi engine's analyzer does, without a CLI: the resource's inputs (in the wire
 * format a program's mocks capture: secrets wrapped, unknowns as markers) are deserialized by @pulumi/policy's own
 * code (secrets unwrapped to plaintext) and wrapped in its unknown-checking proxy; `getConfig` answers from a policy
 * config file such as policy/config/prod.json; a not-applicable or a "can't run during preview" outcome is recorded
 * as the engine records it. Tests use it; the pack never loads it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Policy, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

// @pulumi/policy's analyzer internals: its deserializer and unknown-checking proxy (not in its typings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deserializeProperties } = require("@pulumi/policy/deserialize") as {
    deserializeProperties(struct: { toJavaScript(): unknown }, proxySecrets: boolean): Record<string, any>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownCheckingProxy, UnknownValueError, unknownStringValue } = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T>(value: T): T;
    UnknownValueError: new (...args: any[]) => Error;
    unknownStringValue: string;
};

/** The marker of a string only known at deploy time (what a preview hands a policy for an unbuilt image's digest). */
export const UNKNOWN = unknownStringValue;

/** A Pulumi secret in the wire format (as a program registers it, and as the engine sends it to the analyzer). */
export function secret(value: unknown): Record<string, unknown> {
    return { [specialSigKey]: specialSecretSig, value };
}

/** Policy config as in a `--policy-pack-config` file: policy name → its properties. */
export type PackConfig = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The policy config the workflows pass for `stack`: policy/config/<stack>.json. */
export function packConfig(stack: string): PackConfig {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "config", `${stack}.json`), "utf8")) as PackConfig;
}

export interface TestResource {
    /** Pulumi type token, e.g. `kubernetes:helm.sh/v3:Release`. */
    readonly type: string;
    readonly name: string;
    /** Inputs in the wire format. */
    readonly inputs: unknown;
    /** The stack in the URN. @default "dev" */
    readonly stack?: string;
}

export interface PolicyOutcome {
    readonly violations: string[];
    /** Reasons the policy said it does not apply (one per validation function that said so). */
    readonly notApplicable: string[];
    /** What the engine would report as "can't run policy during preview" (advisory). */
    readonly unknownDuringPreview: string[];
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

/** The args the analyzer builds for one resource and one policy. */
export function validationArgs(policy: Policy, resource: TestResource, config: PackConfig = {}): ResourceValidationArgs {
    const wire = JSON.parse(JSON.stringify(resource.inputs ?? {})) as unknown; // the wire has no `undefined`
    const props = unknownCheckingProxy(deserializeProperties({ toJavaScript: () => wire }, false));
    const stack = resource.stack ?? "dev";
    const isType = (cls: { __pulumiType?: string }) => cls.__pulumiType === resource.type;
    return {
        type: resource.type,
        props,
        urn: `urn:pulumi:${stack}::hello-service::${resource.type}::${resource.name}`,
        name: resource.name,
        opts: {
            protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        stackTags: new Map<string, string>(),
        isType: isType as ResourceValidationArgs["isType"],
        asType: ((cls: { __pulumiType?: string }) => (isType(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...(config[policy.name] ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason ?? "not applicable");
        },
    };
}

/** Runs every validation function of `policy` on `resource` and collects what the engine would report. */
export async function runPolicy(policy: ResourceValidationPolicy, resource: TestResource, config: PackConfig = {}): Promise<PolicyOutcome> {
    const outcome: PolicyOutcome = { violations: [], notApplicable: [], unknownDuringPreview: [] };
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const validate of validations) {
        if (!validate) continue;
        // The engine skips a validation whose attached type differs, as validateResourceOfType would.
        const type = (validate as { __pulumiType?: string }).__pulumiType;
        if (type && type !== resource.type) {
            outcome.notApplicable.push(`Policy only applies to resources of type '${type}'`);
            continue;
        }
        try {
            await validate(validationArgs(policy, resource, config), (message) => outcome.violations.push(message));
        } catch (err) {
            if (err instanceof NotApplicable) outcome.notApplicable.push(err.reason);
            else if (err instanceof UnknownValueError) outcome.unknownDuringPreview.push(err.message);
            else throw err;
        }
    }
    return outcome;
}
