/**
 * The one config loader: raw Pulumi config (strings, as Pulumi hands them to a program or as a stack
 * file holds them) in, validated `StackSettings` out, or every problem at once.
 *
 * It is pure, so the program (`pulumiConfig.ts`), `npm run check-config` (`stackFile.ts`) and the tests
 * share it, and a bad stack fails before the program registers a single resource.
 */
import { defaultsFor, BASE_DEFAULTS } from "./environments";
import { SettingIssue, SettingsError } from "./issues";
import { checkNamespaces, meantSetting } from "./namespaces";
import { checkRules } from "./rules";
import {
    ENVIRONMENTS, Environment, REQUIRED_KEYS, SETTINGS, SettingKey, StackSettings, isSettingKey, stackSettingsSchema,
} from "./settings";

/** Config of one stack as Pulumi stores it: every value a string, structured values as JSON. */
export interface RawStackConfig {
    /** The project name, which is also the config namespace (`hello-service`). */
    readonly project: string;
    readonly stack: string;
    /**
     * Full key (`hello-service:replicas`) to its string value: every key of the stack, whatever its namespace (a
     * mistyped namespace is an error, a namespace nothing reads a warning: `namespaces.ts`).
     */
    readonly values: Readonly<Record<string, string>>;
    /** Full keys whose values are stored as secrets. */
    readonly secretKeys: ReadonlySet<string>;
    /** Secrets present but not readable here (a stack file checked without its secrets provider). */
    readonly opaqueKeys?: ReadonlySet<string>;
}

export interface LoadedSettings {
    readonly settings: StackSettings;
    readonly warnings: readonly SettingIssue[];
}

/** Stands in for a secret that cannot be decrypted offline; its own checks are skipped. */
const OPAQUE = "\u0000opaque-secret";

function decode(key: SettingKey, text: string): unknown {
    switch (SETTINGS[key].kind) {
        case "integer":
        case "number":
            return /^\s*-?[0-9]+(\.[0-9]+)?\s*$/.test(text) ? Number(text) : text;
        case "boolean":
            return text === "true" ? true : text === "false" ? false : text;
        case "array":
            try {
                return JSON.parse(text);
            } catch {
                return text;
            }
        case "string":
            return text;
    }
}

/** Validates a stack's config; throws `SettingsError` listing every problem. */
export function loadSettings(raw: RawStackConfig): LoadedSettings {
    const prefix = `${raw.project}:`;
    const key = (k: SettingKey) => `${prefix}${k}`;
    const namespaces = checkNamespaces(raw.project, raw.values);
    const issues: SettingIssue[] = [...namespaces.errors];
    const given: { [K in SettingKey]?: unknown } = {};
    const opaque = new Set<SettingKey>();

    for (const [fullKey, text] of Object.entries(raw.values)) {
        if (!fullKey.startsWith(prefix)) continue;
        const name = fullKey.slice(prefix.length);
        if (!isSettingKey(name)) {
            issues.push({
                key: fullKey,
                message: `unknown key; did you mean ${key(meantSetting(name))}?`,
            });
            continue;
        }
        const spec = SETTINGS[name];
        if (spec.secret && !raw.secretKeys.has(fullKey)) {
            issues.push({
                key: fullKey, value: text, secret: true,
                message: `is stored in plaintext; it is accepted only as a secret. Remove it from the stack file and run: ` +
                    `pulumi config set --secret ${fullKey} <value>`,
            });
            continue;
        }
        if (raw.opaqueKeys?.has(fullKey)) {
            opaque.add(name);
            given[name] = OPAQUE;
            continue;
        }
        given[name] = decode(name, text);
    }

    let environment: Environment | undefined;
    if (given.environment !== undefined) {
        environment = (ENVIRONMENTS as readonly unknown[]).includes(given.environment)
            ? (given.environment as Environment)
            : undefined; // reported by the schema below
    } else if ((ENVIRONMENTS as readonly string[]).includes(raw.stack)) {
        environment = raw.stack as Environment;
    } else {
        issues.push({
            key: key("environment"),
            message: `must be set for stack "${raw.stack}", whose name is not an environment: one of ${ENVIRONMENTS.join(", ")}`,
        });
    }

    const defaults: Record<string, unknown> = {
        ...(environment ? defaultsFor(environment) : BASE_DEFAULTS),
        // Each stack pushes its own moving tag, the build cache source of its next build.
        imageTag: raw.stack,
    };
    const merged: Record<string, unknown> = { ...defaults, ...given, ...(environment ? { environment } : {}) };
    // Secrets that cannot be read offline are present, but their own checks are skipped.
    const schema = opaque.size === 0
        ? stackSettingsSchema
        : stackSettingsSchema.omit(Object.fromEntries([...opaque].map((k) => [k, true])) as Record<SettingKey, true>);
    const parsed = schema.safeParse(merged);
    const invalid = new Set<SettingKey>();
    if (!parsed.success) {
        for (const problem of parsed.error.issues) {
            const name = problem.path[0] as SettingKey;
            invalid.add(name);
            if (name === "environment" && given.environment === undefined && !environment) continue;
            const value = merged[name];
            issues.push(value === undefined && REQUIRED_KEYS.includes(name)
                ? { key: key(name), message: `is required: ${SETTINGS[name].description}` }
                : { key: key(name), value, secret: SETTINGS[name].secret, message: problem.message });
        }
    }

    // Cross-key rules run even when some keys are invalid (those fall back to their defaults), so one
    // run reports every problem; a rule about a key already reported adds nothing.
    const candidate = parsed.success ? parsed.data : schema.safeParse(withDefaults(merged, invalid, defaults)).data;
    let warnings: SettingIssue[] = [];
    if (candidate) {
        const settings = { ...candidate, ...Object.fromEntries([...opaque].map((k) => [k, OPAQUE])) } as unknown as StackSettings;
        const rules = checkRules(settings, key, new Set(Object.keys(given) as SettingKey[]));
        const reported = new Set(issues.map((i) => i.key));
        issues.push(...rules.errors.filter((i) => !reported.has(i.key)));
        warnings = [...namespaces.warnings, ...rules.warnings];
        if (issues.length === 0) return { settings, warnings };
    }
    throw new SettingsError(raw.stack, dedupe(issues));
}

function withDefaults(merged: Record<string, unknown>, invalid: Set<SettingKey>, defaults: Record<string, unknown>) {
    const repaired = { ...merged };
    for (const k of invalid) repaired[k] = defaults[k];
    return repaired;
}

function dedupe(issues: SettingIssue[]): SettingIssue[] {
    const seen = new Set<string>();
    return issues.filter((i) => {
        const id = `${i.key}\n${i.message}`;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
    });
}
