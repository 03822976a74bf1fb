// @ts-check
/**
 * Mutation testing (`npm run mutation`): Stryker changes the program's code one small way at a time (a mutant) and
 * runs the specs that cover it; a mutant that leaves them green shows a behaviour no spec states.
 * scripts/mutation-score.ts then requires 85% of the mutants of each folder killed.
 */
import { createRequire } from "module";
import { fileURLToPath } from "url";

// The mocha runner and mocha 12, in this process (which loads the plugin) and in the test runners (see the file).
const MOCHA_12 = fileURLToPath(new URL("./scripts/lib/strykerMocha12.cjs", import.meta.url));
createRequire(import.meta.url)(MOCHA_12);

/**
 * The folders mutated, each run and scored on its own (scripts/mutation.sh sets MUTATION_FOLDER to each in turn, in this
 * order: policy/ first, about 40 minutes; monitoring/ last, about 80, see the README).
 */
export const FOLDERS = ["policy", "stacks", "components", "monitoring"];
// Entry points that only read argv and print (what they call is mutated where it lives), and test helpers.
const NOT_MUTATED = [
    "!stacks/checkConfig.ts", // `npm run check-config`
    "!monitoring/dashboards/write.ts", // `npm run dashboards`
    "!policy/index.ts", // the pack's gRPC entry point: `new PolicyPack(..., POLICIES)`
    "!policy/testing.ts", // runs a policy against a resource the way the engine would, for specs
];
const folder = process.env.MUTATION_FOLDER;
if (folder !== undefined && !FOLDERS.includes(folder)) {
    throw new Error(`MUTATION_FOLDER=${JSON.stringify(folder)}: must be one of ${FOLDERS.join(", ")}`);
}
/**
 * The specs that state each folder's behaviour: run first for its mutants. A mutant of code that runs when a module
 * loads ("static") is tested by all the specs until one fails, so the ones likely to fail go first.
 */
const SPECS_OF = {
    components: ["test/components.test.ts", "test/program.test.ts"],
    stacks: ["test/stacks.test.ts"],
    policy: ["test/policy.test.ts", "test/policy.edges.test.ts", "test/policy.pack.test.ts", "test/policy.stacks.test.ts"],
    monitoring: ["test/monitoring.rules.test.ts", "test/monitoring.dashboards.test.ts", "test/chart.dashboards.test.ts"],
};
/** @param {string[]} early @param {string[]} all */
const first = (early, all) => [...early, ...all.filter((spec) => !early.includes(spec))];
/** Each folder's reports and incremental results in their own place, so that one folder can be re-run alone. */
const reports = folder === undefined ? "reports/mutation" : `reports/mutation/${folder}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    testRunner: "mocha",
    testRunnerNodeArgs: ["--require", MOCHA_12],
    checkerNodeArgs: ["--require", MOCHA_12],
    checkers: ["typescript"],
    // The program only (the specs would double the checker's work for each mutant, and it is the slowest step).
    tsconfigFile: "tsconfig.mutation.json",
    // Run only the specs that ran a mutant (test/support/mutation.ts adds child processes and `before` hooks). A mutant
    // that runs when a module loads (a constant, a schema, a default) is "static": Stryker restarts the specs with it
    // and runs them all. Not ignored: the per-environment defaults and the settings' messages are static.
    coverageAnalysis: "perTest",
    mutate: [...(folder === undefined ? FOLDERS : [folder]).map((f) => `${f}/**/*.ts`), ...NOT_MUTATED],
    mochaOptions: {
        // The fast specs, as `npm test` runs them (test/*.test.ts), except:
        // - test/image.test.ts: builds the image with Docker and buildkitd (minutes); the build arguments it uses come
        //   from buildImageArgs, which test/components.test.ts covers;
        // - test/monitoring.live.test.ts: builds the service and starts it and a Prometheus (a minute);
        // - test/workflows.renderDiff.test.ts: clones the checkout with git, which the sandbox is not; it tests
        //   scripts/render-diff.ts, which is not mutated;
        // - test/e2e/ (a real engine and Kubernetes API, minutes per file) and bench/ (figures, not specs).
        // In-process specs first: a mutant they kill stops the run (bail) before the specs that start child processes.
        spec: first(folder === undefined ? [] : SPECS_OF[folder], [
            "test/components.test.ts",
            "test/stacks.test.ts",
            "test/policy.test.ts",
            "test/policy.edges.test.ts",
            "test/monitoring.dashboards.test.ts",
            "test/monitoring.rules.test.ts",
            "test/chart.dashboards.test.ts",
            "test/chart.test.ts",
            "test/codeowners.test.ts",
            "test/mutation.test.ts",
            "test/dev.test.ts",
            "test/workflows.test.ts",
            "test/policy.pack.test.ts",
            "test/policy.stacks.test.ts",
            "test/program.test.ts",
        ]),
        require: ["ts-node/register/transpile-only", "./test/support/mutation.ts"],
    },
    // Copied into the sandbox otherwise: links to the machine's tool cache, local state, reports.
    ignorePatterns: [".tools", ".dev", ".pulumi", "out", "reports"],
    reporters: ["html", "json", "clear-text", "progress"],
    htmlReporter: { fileName: `${reports}/mutation.html` },
    jsonReporter: { fileName: `${reports}/mutation.json` },
    // A re-run tests again only the mutants whose code or covering specs changed (`-- --force` tests all).
    incremental: true,
    incrementalFile: `${reports}/stryker-incremental.json`,
    // The dry run runs every spec once (two minutes on two cores, more on a busy machine).
    dryRunTimeoutMinutes: 20,
    // The program's children load @pulumi/pulumi afresh for each mutant: a busy machine must not look like a hang
    // (a timed-out mutant counts as detected).
    timeoutMS: 60000,
    timeoutFactor: 3,
};
