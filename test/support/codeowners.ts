/**
 * GitHub's CODEOWNERS matching, small enough to read: the owners of a file are those of the last line whose pattern
 * matches it. Patterns follow gitignore with GitHub's differences
 * (https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners):
 * no `!` negation and no `[...]` ranges (GitHub ignores such lines, so this refuses them), and a trailing `/*` owns
 * the directory's files but not its subdirectories.
 */

/** One line of a CODEOWNERS file. */
export interface Rule {
    readonly pattern: string;
    readonly owners: readonly string[];
    /** 1-based, for messages. */
    readonly line: number;
}

/** The rules of a CODEOWNERS file, in order; blank lines and comments skipped. */
export function parseCodeowners(text: string): Rule[] {
    const rules: Rule[] = [];
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const [pattern, ...rest] = line.split(/(?<!\\)\s+/);
        const comment = rest.findIndex((token) => token.startsWith("#"));
        const owners = comment < 0 ? rest : rest.slice(0, comment);
        if (/^!|(?<!\\)[[\]]/.test(pattern)) {
            throw new Error(`CODEOWNERS:${i + 1}: ${pattern}: GitHub supports neither ! nor [...] and ignores this line`);
        }
        rules.push({ pattern, owners, line: i + 1 });
    }
    return rules;
}

/** A path's owners: those of the last rule that matches it, none if no rule does (or that rule names none). */
export function ownersOf(file: string, rules: readonly Rule[]): readonly string[] {
    return rules.filter((rule) => matches(rule.pattern, file)).at(-1)?.owners ?? [];
}

/** Whether a pattern matches a path relative to the repository root (no leading slash). */
export function matches(pattern: string, file: string): boolean {
    return toRegExp(pattern).test(file);
}

function toRegExp(pattern: string): RegExp {
    // A slash at the start or in the middle anchors the pattern at the root; otherwise it matches at any depth.
    const anchored = pattern.replace(/\/$/, "").includes("/");
    const segments = pattern.replace(/^\//, "").split("/");
    // A trailing slash matches what is inside a directory, like a trailing /**.
    if (segments.at(-1) === "") segments[segments.length - 1] = "**";
    let re = anchored ? "^" : "^(?:.+/)?";
    for (const [i, segment] of segments.entries()) {
        const last = i === segments.length - 1;
        if (segment === "**") {
            re += last ? ".+" : "(?:[^/]+/)*";
        } else if (segment === "*" && last && anchored) {
            re += "[^/]+$"; // `docs/*`: the directory's files, not its subdirectories
            return new RegExp(re);
        } else {
            // Any other last segment names a file or a directory, and owns what is inside the directory.
            re += glob(segment) + (last ? "(?:/.*)?" : "/");
        }
    }
    return new RegExp(re + "$");
}

/** One path segment: `*` any characters but `/`, `?` one, `\x` the character x. */
function glob(segment: string): string {
    if (segment === "*") return "[^/]+";
    return segment.replace(/\\(.)|([*?])|([.+^${}()|[\]\\/])/g, (_, escaped?: string, wildcard?: string, special?: string) =>
        escaped !== undefined ? escaped.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
            : wildcard === "*" ? "[^/]*" : wildcard === "?" ? "[^/]" : `\\${special}`);
}
