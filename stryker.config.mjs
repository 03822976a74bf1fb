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

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
    testRunner: "mocha",
    testRunnerNodeArgs: ["--require", MOCHA_12],
    checkerNodeArgs: ["--require", MOCHA_12],
    checkers: ["typescript"],
    tsconfigFile: "tsconfig.json",
    // Run only the specs that ran a mutant (test/support/mutation.ts adds child processes and `before` hooks). A mutant
    // that runs when a module loads (a constant, a schema, a default) is "static": Stryker restarts the specs with it
    // and runs them all. Not ignored: the per-environment defaults and the settings' messages are static.
    coverageAnalysis: "perTest",
    mutate: [
        "components/**/*.ts",
        "stacks/**/*.ts",
        "policy/**/*.ts",
        "monitoring/**/*.ts",
        // Entry points that only read argv and print: what they call is mutated where it lives.
        "!stacks/checkConfig.ts", // `npm run check-config`
        "!monitoring/dashboards/write.ts", // `npm run dashboards`
        "!policy/index.ts", // the pack's gRPC entry point: `new PolicyPack(..., POLICIES)`
        // Test helpers, not the pack: runs a policy against a resource the way the engine would.
        "!policy/testing.ts",
    ],
    mochaOptions: {
        // The fast specs, as `npm test` runs them (test/*.test.ts), except:
        // - test/image.test.ts: builds the image with Docker and buildkitd (minutes); the build arguments it uses come
        //   from buildImageArgs, which test/components.test.ts covers;
        // - test/monitoring.live.test.ts: builds the service and starts it and a Prometheus (a minute);
        // - test/workflows.renderDiff.test.ts: clones the checkout with git, which the sandbox is not; it tests
        //   scripts/render-diff.ts, which is not mutated;
        // - test/e2e/ (a real engine and Kubernetes API, minutes per file) and bench/ (figures, not specs).
        // In-process specs first: a mutant they kill stops the run (bail) before the specs that start child processes.
        spec: [
            "test/components.test.ts",
            "test/stacks.test.ts",
            "test/policy.test.ts",
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
        ],
        require: ["ts-node/register/transpile-only", "./test/support/mutation.ts"],
    },
    // Copied into the sandbox otherwise: links to the machine's tool cache, local state, reports.
    ignorePatterns: [".tools", ".dev", ".pulumi", "out", "reports"],
    reporters: ["html", "json", "clear-text", "progress"],
    htmlReporter: { fileName: "reports/mutation/mutation.html" },
    jsonReporter: { fileName: "reports/mutation/mutation.json" },
    // The dry run runs every spec once (two minutes on two cores, more on a busy machine).
    dryRunTimeoutMinutes: 20,
    // The program's children load @pulumi/pulumi afresh for each mutant: a busy machine must not look like a hang
    // (a timed-out mutant counts as detected).
    timeoutMS: 60000,
    timeoutFactor: 3,
};
