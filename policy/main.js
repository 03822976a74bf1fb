// The pack's entry point under the Pulumi CLI (package.json "main"); the pack itself is index.ts.
//
// The CLI's runner (@pulumi/pulumi/cmd/run-policy-pack) registers ts-node with type checking on: before the pack's first
// file runs, it builds a TypeScript program of the pack and of every declaration the pack reaches (@pulumi/pulumi's,
// @pulumi/policy's, ...). That took 2 to 14 s (a quiet to a busy machine) of every preview and of both halves of every
// `pulumi up` on this project's machines (`npm run bench:policy`), to check again what `npm test` checks (`tsc --noEmit -p .`) before any
// change is merged. So the pack's files are loaded by loader.js instead: compiled one by one without type checking,
// and cached.
"use strict";
const path = require("node:path");
const { installTypeScriptLoader, PACK_CACHE } = require("./loader");

installTypeScriptLoader({ tsconfig: path.join(__dirname, "..", "tsconfig.json"), cacheDir: PACK_CACHE });
require("./index");
