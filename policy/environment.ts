/**
 * Which environment a resource is deployed to, for the rules that hold in prod only.
 *
 * The workflows pass the stack's policy config file, `policy/config/<stack>.json`, with `--policy-pack-config`
 * (pulumi/actions `policyPackConfigs`): it names the environment and, for prod, the exceptions the platform team
 * granted (`allowLoadBalancer`). Each file is reviewed like code (CODEOWNERS), so an exception is a visible,
 * approved change, not a flag in an application team's stack file.
 *
 * Without a config file (a local `pulumi preview --policy-pack policy`), the stack name in the resource's URN decides
 * when it is one of dev, staging, prod; any other stack is held to prod's rules (fail closed).
 */
import type { PolicyConfigSchema } from "@pulumi/policy";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Config of the policies that depend on the environment. */
export interface EnvironmentConfig {
    /** The stack's environment. */
    readonly environment?: Environment;
    /** Prod only: the platform team allowed this stack a LoadBalancer Service (a public endpoint). */
    readonly allowLoadBalancer?: boolean;
}

export const ENVIRONMENT_SCHEMA: PolicyConfigSchema = {
    properties: {
        environment: {
            type: "string",
            enum: [...ENVIRONMENTS],
            description: "The stack's environment (policy/config/<stack>.json). Unset: the stack name if it is an environment, else prod.",
        },
    },
};

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → `<stack>`. */
export function stackOfUrn(urn: string): string | undefined {
    const match = /^urn:pulumi:([^:]+)::/.exec(urn);
    return match?.[1];
}

export interface ResolvedEnvironment {
    readonly environment: Environment;
    /** Where it came from, for messages: "policy config", "stack name" or "unknown stack, held to prod's rules". */
    readonly source: string;
}

/** The environment of the resource at `urn`, given the policy's config. */
export function resolveEnvironment(urn: string, config: EnvironmentConfig): ResolvedEnvironment {
    if (config.environment !== undefined) return { environment: config.environment, source: "policy config" };
    const stack = stackOfUrn(urn);
    if ((ENVIRONMENTS as readonly (string | undefined)[]).includes(stack)) {
        return { environment: stack as Environment, source: "stack name" };
    }
    return { environment: "prod", source: `stack "${stack ?? "?"}" has no policy config: held to prod's rules` };
}
