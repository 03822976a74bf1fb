/**
 * `npm run mutation`'s verdict: the mutation score of each mutated folder, from Stryker's JSON report
 * (mutation-testing-report-schema), and a non-zero exit when one is below the bar. Stryker's own `thresholds.break`
 * is one score for all folders together: a well-tested folder would hide a poorly tested one.
 *
 *     ts-node scripts/mutation-score.ts folder [folder ...]   (each folder's report: reports/mutation/<folder>/mutation.json)
 *
 * scripts/mutation.sh passes the folders it ran; the list of folders is stryker.config.mjs's `FOLDERS`.
 */
import * as fs from "fs";

/** Percent of a folder's mutants the specs must detect. */
export const MINIMUM_SCORE = 85;

/** What the report says of a mutant (the schema's `MutantStatus`). */
type MutantStatus = "Killed" | "Survived" | "NoCoverage" | "Timeout" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";

export interface MutationReport {
    readonly files: Readonly<Record<string, { readonly mutants: readonly { readonly status: MutantStatus }[] }>>;
}

export interface FolderScore {
    readonly folder: string;
    /** Killed, or made the specs time out. */
    readonly detected: number;
    /** Survived, or no spec ran it. */
    readonly undetected: number;
    /** Percent detected of detected and undetected; undefined when the folder has no mutant that counts. */
    readonly score?: number;
}

/**
 * Stryker's mutation score per folder: detected / (detected + undetected). Mutants that do not compile, crash the
 * specs' setup or were ignored count for neither side, as in Stryker's own score.
 */
export function folderScores(report: MutationReport, folders: readonly string[]): FolderScore[] {
    return folders.map((folder) => {
        let detected = 0;
        let undetected = 0;
        for (const [file, { mutants }] of Object.entries(report.files)) {
            if (!file.replace(/\\/g, "/").startsWith(`${folder}/`)) continue;
            for (const { status } of mutants) {
                if (status === "Killed" || status === "Timeout") detected++;
                else if (status === "Survived" || status === "NoCoverage") undetected++;
            }
        }
        const total = detected + undetected;
        return { folder, detected, undetected, score: total === 0 ? undefined : (100 * detected) / total };
    });
}

/** The folders below `minimum`, or without a single scored mutant (a wrong path would otherwise pass). */
export function failing(scores: readonly FolderScore[], minimum = MINIMUM_SCORE): FolderScore[] {
    return scores.filter((s) => s.score === undefined || s.score < minimum);
}

function main(folders: readonly string[]): number {
    const scores = folders.flatMap((folder) => {
        const file = `reports/mutation/${folder}/mutation.json`;
        if (!fs.existsSync(file)) return [{ folder, detected: 0, undetected: 0 }];
        return folderScores(JSON.parse(fs.readFileSync(file, "utf8")) as MutationReport, [folder]);
    });
    for (const s of scores) {
        const score = s.score === undefined ? "no mutants" : `${s.score.toFixed(2)}%`;
        console.log(`${s.folder.padEnd(12)} ${score.padStart(10)}  (${s.detected} detected, ${s.undetected} not)`);
    }
    const below = failing(scores);
    for (const s of below) {
        console.error(s.score === undefined
            ? `${s.folder}/: no mutant of it in the report`
            : `${s.folder}/: below the ${MINIMUM_SCORE}% of mutants the specs must detect`);
    }
    return below.length === 0 ? 0 : 1;
}

if (require.main === module) {
    const folders = process.argv.slice(2);
    if (folders.length === 0) {
        console.error("usage: ts-node scripts/mutation-score.ts folder [folder ...]");
        process.exitCode = 2;
    } else {
        process.exitCode = main(folders);
    }
}
