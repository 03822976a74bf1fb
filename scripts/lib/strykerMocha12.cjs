// Loaded into Stryker's processes by stryker.config.mjs. @stryker-mutator/mocha-runner 10.0.0 requires mocha's CLI
// helpers by path without an extension (`mocha/lib/cli/run-helpers`); mocha 12 names them `.cjs`, which require does
// not try, and the runner fails to load ("no TestRunner plugins were loaded"). Fixed upstream in
// https://github.com/stryker-mutator/stryker-js/pull/6205 (open); remove this file with a runner release that has it.
"use strict";
require.extensions[".cjs"] ??= require.extensions[".js"];
