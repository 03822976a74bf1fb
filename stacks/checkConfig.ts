/**
 * `npm run check-config -- Pulumi.<stack>.yaml [...]`: validates stack files offline, with the messages
 * `pulumi preview` would print, and exits non-zero if any file is invalid. `npm run dev` checks its stack file the
 * same way before it starts anything.
 */
import { SettingsError, formatIssue } from "./issues";
import { loadSettings } from "./load";
import { readStackFile } from "./stackFile";

/** Checks one stack file: prints `<file>: ok` and its warnings, or `<file>: <every problem>` on stderr. */
export function checkStackFile(file: string): boolean {
    try {
        const { warnings } = loadSettings(readStackFile(file));
        console.log(`${file}: ok`);
        for (const w of warnings) console.log(`  warning: ${formatIssue(w)}`);
        return true;
    } catch (err) {
        const message = err instanceof SettingsError ? err.message : (err as Error).message;
        console.error(`${file}: ${message}`);
        return false;
    }
}

if (require.main === module) {
    const files = process.argv.slice(2);
    if (files.length === 0) {
        console.error("usage: npm run check-config -- Pulumi.<stack>.yaml [Pulumi.<stack>.yaml ...]");
        process.exit(2);
    }
    const results = files.map(checkStackFile);
    process.exit(results.every(Boolean) ? 0 : 1);
}
