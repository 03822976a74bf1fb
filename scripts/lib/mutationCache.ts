/**
 * Before each `npm run mutation` run of a folder: drops from Stryker's incremental file the results of static mutants
 * (code that runs when a module loads: a schema, a default, a constant list) that no spec detected.
 *
 * Stryker reuses a surviving mutant's result while "no new test covers it", but it records no spec as covering a
 * static mutant, so a spec written to kill one would never be run against it. Without its cached result the mutant is
 * new to Stryker and is tested again, by all of the folder's specs. Detected mutants keep their result.
 *
 *     ts-node scripts/lib/mutationCache.ts <incremental file>
 */
import * as fs from "fs";

interface CachedMutant {
    readonly status: string;
    readonly static?: boolean;
}
interface IncrementalReport {
    files: Record<string, { mutants: CachedMutant[] }>;
}

const UNDETECTED = new Set(["Survived", "NoCoverage"]);

/** `report` without its undetected static mutants; how many were dropped. */
export function forgetUndetectedStatic(report: IncrementalReport): number {
    let dropped = 0;
    for (const file of Object.values(report.files)) {
        const kept = file.mutants.filter((m) => !(m.static === true && UNDETECTED.has(m.status)));
        dropped += file.mutants.length - kept.length;
        file.mutants = kept;
    }
    return dropped;
}

if (require.main === module) {
    const file = process.argv[2];
    if (file === undefined) throw new Error("usage: mutationCache.ts <stryker-incremental.json>");
    if (fs.existsSync(file)) {
        const report = JSON.parse(fs.readFileSync(file, "utf8")) as IncrementalReport;
        const dropped = forgetUndetectedStatic(report);
        fs.writeFileSync(file, JSON.stringify(report));
        console.log(`mutation: ${dropped} undetected static mutant(s) of ${file} to test again`);
    }
}
