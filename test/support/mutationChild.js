// Required into every node child of Stryker's dry run (NODE_OPTIONS, set by mutation.ts): on exit, writes which
// mutants the child's instrumented code ran, for mutation.ts to credit to the spec that started it. Plain JavaScript:
// a child need not load ts-node to run it.
"use strict";
const fs = require("fs");
const path = require("path");

process.on("exit", () => {
    const dir = process.env.MUTATION_COVERAGE_DIR;
    const coverage = globalThis.__stryker__ && globalThis.__stryker__.mutantCoverage;
    if (!dir || !coverage) return;
    fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(coverage));
});
