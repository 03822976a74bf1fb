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
 * order; times in the README).
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
 * The specs that state each folder's behaviour. A folder's mutants are tested against these only: a mutant that only
 * another folder's specs kill (the pack's and the workflows' specs run the program too) is a behaviour the folder's own
 * specs do not state, so it counts as surviving. It also keeps a folder's run near the hour: every other spec file
 * reaches the program's code through child processes, and a mutant of code that runs when a module loads ("static",
 * e.g. a schema or a default) is tested by all of the folder's specs, in a fresh test runner.
 */
const SPECS_OF = {
    components: ["test/components.test.ts", "test/components.monitoring.test.ts", "test/components.image.test.ts",
        "test/components.join.test.ts", "test/components.registry.test.ts", "test/components.rollout.test.ts",
        "test/stacks.preflight.test.ts",
        "test/program.components.test.ts", "test/program.test.ts", "test/program.join.test.ts", "test/program.services.test.ts"],
    stacks: ["test/stacks.test.ts", "test/stacks.formats.test.ts", "test/stacks.rules.test.ts", "test/stacks.files.test.ts",
        "test/stacks.namespaces.test.ts", "test/stacks.join.test.ts", "test/stacks.preflight.test.ts", "test/components.join.test.ts",
        "test/program.test.ts", "test/program.join.test.ts"],
    policy: [
        "test/policy.test.ts", "test/policy.edges.test.ts", "test/policy.workloads.test.ts", "test/policy.secrets.test.ts",
        "test/policy.config.test.ts", "test/policy.load.test.ts", "test/policy.pack.test.ts", "test/policy.stacks.test.ts",
    ],
    monitoring: [
        "test/monitoring.rules.test.ts", "test/monitoring.dashboards.test.ts", "test/monitoring.panels.test.ts",
        "test/monitoring.edges.test.ts", "test/chart.dashboards.test.ts",
    ],
};
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
        // Not among them: test/image.test.ts and test/monitoring.live.test.ts (Docker, buildkitd, a Prometheus: minutes
        // each), test/e2e/ (a real engine and Kubernetes API) and bench/ (figures, not specs). In-process specs come
        // first in each list: a mutant they kill stops the run (bail) before the specs that start child processes.
        spec: folder === undefined ? [...new Set(Object.values(SPECS_OF).flat())] : SPECS_OF[folder],
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
