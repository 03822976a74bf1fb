/**
 * Loads the shipped Prometheus rule files (monitoring/rules/*.rules.yaml) and turns them, plus the generated SLO
 * objectives group, into the plain objects of a PrometheusRule's `spec.groups`.
 */
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { SloSettings, sloObjectivesGroup } from "./slo";

/**
 * One rule of a Prometheus rule group: a recording rule (`record`) or an alerting rule (`alert`).
 * (A type alias, not an interface, so that it is assignable to `Record<string, unknown>`.)
 */
export type Rule = {
    readonly record?: string;
    readonly alert?: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
};

/** A Prometheus rule group, as in a rule file's `groups:` list and a PrometheusRule's `spec.groups`. */
export interface RuleGroup {
    readonly name: string;
    readonly interval?: string;
    readonly rules: readonly Rule[];
}

/** The directory of the shipped rule files. */
export const RULES_DIR = path.join(__dirname, "rules");

/** The repository root: `runbook_url` annotations in the rule files are paths relative to it. */
export const REPOSITORY_ROOT = path.resolve(__dirname, "..");

/**
 * The rule files (`*.rules.yaml`) of `dir`, absolute paths, in a stable order; anything else there (a README, an
 * editor's backup) is not a rule file.
 */
export function ruleFiles(dir = RULES_DIR): string[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".rules.yaml"))
        .sort()
        .map((f) => path.join(dir, f));
}

/** The groups of the rule files of `dir` (the shipped ones), exactly as written (runbook URLs still repository-relative). */
export function shippedRuleGroups(dir = RULES_DIR): RuleGroup[] {
    return ruleFiles(dir).flatMap((file) => {
        const doc = parse(fs.readFileSync(file, "utf8")) as { groups?: RuleGroup[] } | null;
        if (!doc || !Array.isArray(doc.groups)) {
            throw new Error(`${path.relative(REPOSITORY_ROOT, file)}: not a Prometheus rule file (no \`groups:\` list)`);
        }
        return doc.groups;
    });
}

/** Options of {@link ruleGroups}. */
export interface RuleGroupsOptions {
    /** The stack's service level objectives (see `resolveSloSettings`). */
    readonly slo: SloSettings;
    /**
     * Where the repository's files can be browsed, e.g. `https://github.com/acme/hello/blob/main/`. Every
     * `runbook_url` (a path such as `monitoring/runbooks/hello-target-down.md` in the files) is resolved against it.
     * @default undefined: runbook URLs stay repository-relative paths
     */
    readonly runbookBaseUrl?: string;
}

/**
 * What the program puts into the PrometheusRule's `spec.groups`: the generated SLO objectives group first, then
 * every group of the shipped rule files, unchanged except for `runbook_url`, which is resolved against
 * `runbookBaseUrl`.
 */
export function ruleGroups(options: RuleGroupsOptions): RuleGroup[] {
    const base = options.runbookBaseUrl === undefined ? undefined : runbookBase(options.runbookBaseUrl);
    const shipped = shippedRuleGroups().map((group) => ({
        ...group,
        rules: group.rules.map((rule) =>
            base === undefined || rule.annotations?.runbook_url === undefined
                ? rule
                : { ...rule, annotations: { ...rule.annotations, runbook_url: resolveRunbookUrl(rule.annotations.runbook_url, base) } },
        ),
    }));
    return [sloObjectivesGroup(options.slo), ...shipped];
}

function runbookBase(url: string): URL {
    let base: URL;
    try {
        base = new URL(url);
    } catch {
        throw new Error(`\`runbookBaseUrl\` is ${JSON.stringify(url)}; it must be an absolute http(s) URL`);
    }
    if (base.protocol !== "https:" && base.protocol !== "http:") {
        throw new Error(`\`runbookBaseUrl\` is ${JSON.stringify(url)}; it must be an absolute http(s) URL`);
    }
    // Resolve against the directory, not its last segment: ".../blob/main" means ".../blob/main/".
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    return base;
}

function resolveRunbookUrl(runbookPath: string, base: URL): string {
    return new URL(runbookPath, base).toString();
}

/** `groups` as a Prometheus rule file (what `promtool check rules` and `prometheus --config.file` read). */
export function toRuleFile(groups: readonly RuleGroup[], header?: string): string {
    const body = stringify({ groups }, { lineWidth: 0 });
    return header === undefined ? body : `${header.replace(/^/gm, "# ")}\n${body}`;
}
