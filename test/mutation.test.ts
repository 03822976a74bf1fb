/**
 * `npm run mutation`'s verdict (scripts/mutation-score.ts): each mutated folder is scored on its own from Stryker's
 * JSON report, and one folder below the bar fails the run however well the others do.
 */
import * as assert from "assert";
import { forgetUndetectedStatic } from "../scripts/lib/mutationCache";
import { failing, folderScores, MutationReport } from "../scripts/mutation-score";

type Status = MutationReport["files"][string]["mutants"][number]["status"];
const mutants = (...statuses: Status[]) => ({ mutants: statuses.map((status) => ({ status })) });

describe("the mutation score per folder (npm run mutation)", function () {
    it("counts killed and timed-out mutants as detected, survivors and uncovered ones as not, and nothing else", function () {
        const report: MutationReport = {
            files: {
                "policy/workloads.ts": mutants("Killed", "Timeout", "Survived", "NoCoverage", "CompileError", "RuntimeError", "Ignored"),
            },
        };
        assert.deepStrictEqual(folderScores(report, ["policy"]), [{ folder: "policy", detected: 2, undetected: 2, score: 50 }]);
    });

    it("scores each folder from its own files, nested ones included, and not from a folder whose name starts alike", function () {
        const report: MutationReport = {
            files: {
                "monitoring/dashboards/overview.ts": mutants("Killed", "Killed", "Killed"),
                "monitoring/slo.ts": mutants("Survived"),
                "monitoringExtra/x.ts": mutants("Survived", "Survived"),
            },
        };
        assert.deepStrictEqual(folderScores(report, ["monitoring"]).map((s) => s.score), [75]);
    });

    it("GIVEN one folder below 85% THEN that folder fails, however well the others do", function () {
        const report: MutationReport = {
            files: {
                "components/serviceRelease.ts": mutants(...Array<Status>(100).fill("Killed")),
                "stacks/load.ts": mutants(...Array<Status>(84).fill("Killed"), ...Array<Status>(16).fill("Survived")),
                "policy/workloads.ts": mutants(...Array<Status>(85).fill("Killed"), ...Array<Status>(15).fill("NoCoverage")),
                "monitoring/slo.ts": mutants("Killed"),
            },
        };
        assert.deepStrictEqual(failing(folderScores(report, ["components", "stacks", "policy", "monitoring"])).map((s) => s.folder), ["stacks"]);
    });

    it("fails a folder the report has no mutant of, so that a wrong path cannot pass", function () {
        const report: MutationReport = { files: { "components/serviceRelease.ts": mutants("Killed", "CompileError") } };
        assert.deepStrictEqual(failing(folderScores(report, ["components", "stacks"])).map((s) => s.folder), ["stacks"]);
    });
});

describe("the incremental results a mutation run starts from (scripts/lib/mutationCache.ts)", function () {
    it("forgets static mutants no spec detected, so that a new spec is run against them, and keeps every other result", function () {
        const m = (status: string, isStatic?: boolean) => ({ status, ...(isStatic === undefined ? {} : { static: isStatic }) });
        const report = {
            files: {
                "stacks/settings.ts": { mutants: [m("Survived", true), m("NoCoverage", true), m("Killed", true), m("Timeout", true), m("Survived", false), m("Survived")] },
                "stacks/rules.ts": { mutants: [m("CompileError", true), m("Survived", true)] },
            },
        };
        assert.strictEqual(forgetUndetectedStatic(report), 3);
        assert.deepStrictEqual(report.files["stacks/settings.ts"].mutants, [m("Killed", true), m("Timeout", true), m("Survived", false), m("Survived")]);
        assert.deepStrictEqual(report.files["stacks/rules.ts"].mutants, [m("CompileError", true)]);
    });
});
