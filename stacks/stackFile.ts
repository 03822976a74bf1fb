/**
 * Reads a `Pulumi.<stack>.yaml` file the way the Pulumi CLI hands its values to a program, without the
 * CLI: scalars become strings, lists and maps JSON, and `secure:` values count as secrets that cannot
 * be read offline. Used by `npm run check-config` and the tests.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { RawStackConfig } from "./load";

/** The project this checkout deploys: its `Pulumi.yaml` sits at the repository root. */
export const PROJECT_FILE = path.join(__dirname, "..", "Pulumi.yaml");

export function projectName(projectFile = PROJECT_FILE): string {
    const project = parse(fs.readFileSync(projectFile, "utf8")) as { name?: unknown };
    if (typeof project?.name !== "string") throw new Error(`${projectFile}: no project name`);
    return project.name;
}

/** The stack a settings file belongs to, from its name: `Pulumi.prod.yaml` is stack `prod`. */
export function stackNameOf(file: string): string {
    const match = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file));
    if (!match) throw new Error(`${file}: a stack settings file is named Pulumi.<stack>.yaml`);
    return match[1];
}

function isSecure(value: unknown): value is { secure: string } {
    return typeof value === "object" && value !== null && !Array.isArray(value) &&
        Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
}

/** Raw config of the stack file at `file`, as the project `project` sees it. */
export function readStackFile(file: string, project = projectName()): RawStackConfig {
    const stack = stackNameOf(file);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: unknown };
    if (doc.config !== undefined && (typeof doc.config !== "object" || doc.config === null || Array.isArray(doc.config))) {
        throw new Error(`${file}: "config" must be a map of keys to values`);
    }
    const values: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const opaqueKeys = new Set<string>();
    for (const [name, value] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
        const key = name.includes(":") ? name : `${project}:${name}`;
        if (isSecure(value)) {
            values[key] = value.secure;
            secretKeys.add(key);
            opaqueKeys.add(key);
        } else {
            values[key] = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
        }
    }
    return { project, stack, values, secretKeys, opaqueKeys };
}
