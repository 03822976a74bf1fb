/**
 * A problem with a stack's settings, worded for the platform engineer who edits the stack file:
 * the key, the value (never a secret's) and what is allowed.
 */
export interface SettingIssue {
    /** The full config key, e.g. `hello-service:replicas`. */
    readonly key: string;
    /** The offending value as written (decoded), if there is one. */
    readonly value?: unknown;
    /** True when the value must not be shown. */
    readonly secret?: boolean;
    /** What is wrong and what is allowed. */
    readonly message: string;
}

function show(issue: SettingIssue): string {
    if (issue.value === undefined) return issue.key;
    if (issue.secret) return `${issue.key} = [secret]`;
    return `${issue.key} = ${JSON.stringify(issue.value)}`;
}

export function formatIssue(issue: SettingIssue): string {
    return `${show(issue)}: ${issue.message}`;
}

/** Every problem of one stack, reported at once. */
export class SettingsError extends Error {
    constructor(
        readonly stackName: string,
        readonly issues: readonly SettingIssue[],
    ) {
        super(
            `stack "${stackName}" has ${issues.length} invalid setting${issues.length === 1 ? "" : "s"}; ` +
                `nothing was deployed:\n` +
                issues.map((i) => `  - ${formatIssue(i)}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}
