/**
 * Loaded only by `npm run mutation` (stryker.config.mjs, `mochaOptions.require`): a mocha root-hook plugin that lets
 * Stryker test the code the specs run outside a test body.
 *
 * Stryker switches mutants on in its own process and records which test ran which mutant ("perTest" coverage) by the
 * test that is running. Two things escape it here:
 * - child processes: the program under mocks (scripts/lib/program.ts), `check-config`, the policy pack. They load the
 *   sandbox's instrumented code, but see no active mutant and report no coverage. Every node child gets the active
 *   mutant through `__STRYKER_ACTIVE_MUTANT__` (Stryker's instrumented code reads it when it loads) and, in the dry
 *   run, `mutationChild.js`, which writes what the child ran to a file on exit;
 * - `before` hooks: Stryker credits what they run to the test that ran last, often in another file, so that a spec
 *   reading the result of its suite's `before` (every spec of test/program.test.ts) was never run for those mutants.
 * What a `before` hook or a child of one ran is credited to every spec of its suite; what a child of a spec ran, to
 * that spec. Crediting too many specs only costs time; too few would report a mutant as surviving that they kill.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Context, Suite, Test } from "mocha";

/** Mutant id -> times run. */
type Hits = Record<string, number>;

/** What Stryker's instrumented code keeps on `globalThis.__stryker__`. */
interface InstrumenterContext {
    activeMutant?: string | number;
    currentTestId?: string;
    mutantCoverage?: { static: Hits; perTest: Record<string, Hits> };
}

const ACTIVE_MUTANT = "__STRYKER_ACTIVE_MUTANT__";
/** The test id under which Stryker records what runs between specs; redistributed, never reported. */
const BETWEEN_SPECS = "(between specs)";

const childCoverageDir = fs.mkdtempSync(path.join(os.tmpdir(), "mutation-children-"));
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${path.join(__dirname, "mutationChild.js")}`]
    .filter(Boolean).join(" ");

/** Coverage of `before` hooks and their children, by the suite whose specs read what they made. */
const bySuite = new Map<Suite, Hits>();
let lastTest: Test | undefined;

function instrumenter(): InstrumenterContext | undefined {
    return (globalThis as { __stryker__?: InstrumenterContext }).__stryker__;
}

function add(into: Hits, from: Hits): void {
    for (const [mutant, hits] of Object.entries(from)) into[mutant] = (into[mutant] ?? 0) + hits;
}

/** What children wrote since the last call (their files are removed), plus what ran between specs in this process. */
function takeUncredited(ns: InstrumenterContext): Hits {
    const taken: Hits = {};
    for (const file of fs.readdirSync(childCoverageDir)) {
        const full = path.join(childCoverageDir, file);
        const child = JSON.parse(fs.readFileSync(full, "utf8")) as { static: Hits; perTest: Record<string, Hits> };
        add(taken, child.static);
        Object.values(child.perTest).forEach((hits) => add(taken, hits));
        fs.rmSync(full);
    }
    const between = ns.mutantCoverage?.perTest[BETWEEN_SPECS];
    if (between) add(taken, between);
    delete ns.mutantCoverage?.perTest[BETWEEN_SPECS];
    return taken;
}

function testsOf(suite: Suite): Test[] {
    return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

function ancestors(runnable: Test | Suite): Suite[] {
    return runnable.parent ? [runnable.parent, ...ancestors(runnable.parent)] : [];
}

/** The outermost suite `test` is in and the spec before it was not: every `before` hook since then was one of its. */
function suiteEntered(test: Test): Suite {
    const left = new Set(lastTest ? ancestors(lastTest) : []);
    return ancestors(test).filter((s) => !left.has(s)).pop() ?? test.parent!;
}

/** True in Stryker's dry run, where coverage is recorded (no mutant is active); makes sure there is a record. */
function dryRun(ns: InstrumenterContext | undefined): ns is InstrumenterContext & Required<Pick<InstrumenterContext, "mutantCoverage">> {
    if (ns === undefined || ns.activeMutant !== undefined) return false;
    ns.mutantCoverage ??= { static: {}, perTest: {} };
    return true;
}

export const mochaHooks = {
    beforeAll(this: Context): void {
        const ns = instrumenter();
        if (ns?.activeMutant === undefined) delete process.env[ACTIVE_MUTANT];
        else process.env[ACTIVE_MUTANT] = String(ns.activeMutant);
        if (dryRun(ns)) {
            process.env.MUTATION_COVERAGE_DIR = childCoverageDir;
            ns.currentTestId = BETWEEN_SPECS;
        } else {
            delete process.env.MUTATION_COVERAGE_DIR;
        }
    },
    // Runs before Stryker's own root beforeEach, which then names the spec that starts.
    beforeEach(this: Context): void {
        const ns = instrumenter();
        const test = this.currentTest;
        if (!dryRun(ns) || test === undefined) return;
        const suite = suiteEntered(test);
        add(bySuite.get(suite) ?? bySuite.set(suite, {}).get(suite)!, takeUncredited(ns));
        lastTest = test;
    },
    afterEach(this: Context): void {
        const ns = instrumenter();
        const test = this.currentTest;
        if (!dryRun(ns) || test === undefined) return;
        const perTest = ns.mutantCoverage.perTest;
        add(perTest[test.fullTitle()] ?? (perTest[test.fullTitle()] = {}), takeUncredited(ns));
        ns.currentTestId = BETWEEN_SPECS;
    },
    afterAll(this: Context): void {
        const ns = instrumenter();
        if (!dryRun(ns)) return;
        takeUncredited(ns); // `after` hooks: cleanup, nothing a spec asserts on
        const perTest = ns.mutantCoverage.perTest;
        for (const [suite, hits] of bySuite) {
            for (const test of testsOf(suite).filter((t) => t.state !== undefined)) {
                add(perTest[test.fullTitle()] ?? (perTest[test.fullTitle()] = {}), hits);
            }
        }
        bySuite.clear();
        lastTest = undefined;
        delete ns.currentTestId;
    },
};
