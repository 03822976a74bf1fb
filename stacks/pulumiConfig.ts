/**
 * Reads the running stack's settings from the Pulumi engine. Throws (before any resource exists) a
 * `pulumi.RunError` that lists every invalid setting, so `pulumi preview` fails with the message alone.
 */
import * as pulumi from "@pulumi/pulumi";
import { SettingsError, formatIssue } from "./issues";
import { loadSettings } from "./load";
import type { StackSettings } from "./settings";

// The SDK keeps which keys are secrets (PULUMI_CONFIG_SECRET_KEYS) behind an @internal export.
// It is the only way to tell a `secure:` value from a plaintext one inside a program.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

export function stackSettings(): StackSettings {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const values = pulumi.runtime.allConfig();
    const secretKeys = new Set(Object.keys(values).filter((k) => isConfigSecret(k)));
    try {
        const { settings, warnings } = loadSettings({ project, stack, values, secretKeys });
        for (const warning of warnings) void pulumi.log.warn(formatIssue(warning));
        return settings;
    } catch (err) {
        if (err instanceof SettingsError) throw new pulumi.RunError(err.message);
        throw err;
    }
}
