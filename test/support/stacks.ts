/**
 * Helpers for the stack settings specs: load a stack of one environment from short keys, and read the messages it
 * is refused with (the lines of the `SettingsError`, as a platform engineer reads them).
 */
import * as assert from "assert";
import { SettingsError } from "../../stacks/issues";
import { LoadedSettings, loadSettings } from "../../stacks/load";

/** The project, and so the config namespace. */
export const P = "hello-service";

/** A valid stack of `environment` plus `values` (short keys), with `secrets` stored as secrets. */
export function load(stack: string, values: Record<string, string> = {}, secrets: Record<string, string> = {}): LoadedSettings {
    const all: Record<string, string> = {
        [`${P}:kubeContext`]: "ctx",
        [`${P}:registry`]: stack === "dev" ? "localhost:5001" : "ghcr.io/acme",
    };
    for (const [k, v] of Object.entries({ ...values, ...secrets })) all[`${P}:${k}`] = v;
    return loadSettings({
        project: P, stack, values: all,
        secretKeys: new Set(Object.keys(secrets).map((k) => `${P}:${k}`)),
    });
}

/** The messages `load` fails with. */
export function problems(stack: string, values: Record<string, string> = {}, secrets: Record<string, string> = {}): string[] {
    try {
        load(stack, values, secrets);
    } catch (err) {
        assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${err}`);
        return err.message.split("\n").slice(1).map((l) => l.replace(/^  - /, ""));
    }
    assert.fail("expected the settings to be rejected");
}

export function rejects(stack: string, values: Record<string, string>, expected: RegExp) {
    const messages = problems(stack, values);
    assert.ok(messages.some((m) => expected.test(m)), `no message matches ${expected}:\n${messages.join("\n")}`);
}
