// Preloaded (`node -r`) into the policy pack's process by `npm run bench:policy`: records where the pack's start goes.
// Plain JavaScript, because it runs before the runner registers TypeScript. It writes one JSON object to
// $PACK_TIMING_FILE as soon as the pack's entry point has loaded (the pack is killed, not exited, so no exit hook).
//   boot_ms     process start to this file (Node.js itself)
//   runner_ms   this file to the runner's require of the pack (the runner's own modules, ts-node, TypeScript)
//   pack_ms     the require of the pack: its modules, compiled as the runner compiles them, and `new PolicyPack`
//   runner_self_ms, pack_self_ms   time spent in each module outside what it required, before and during the pack's
//               require: the project's files one by one (their TypeScript compile included), packages by name
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const bootMs = performance.now();
const entry = process.cwd();
const load = Module._load;
let self = new Map();
let runnerSelf;
const nested = [];
let packStart;

function bucket(file) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (pkg) return pkg[1];
    return path.isAbsolute(file) ? path.relative(path.dirname(entry), file) : file;
}

Module._load = function (request, parent, isMain) {
    const isPack = packStart === undefined && path.isAbsolute(request) && path.resolve(request) === entry;
    if (isPack) {
        packStart = performance.now();
        runnerSelf = self;
        self = new Map();
    }
    let file = request;
    try {
        file = Module._resolveFilename(request, parent, isMain);
    } catch {
        // reported by the real load below
    }
    const t0 = performance.now();
    nested.push(0);
    try {
        return load.apply(this, arguments);
    } finally {
        const took = performance.now() - t0;
        const inner = nested.pop();
        if (nested.length > 0) nested[nested.length - 1] += took;
        const key = bucket(file);
        self.set(key, (self.get(key) ?? 0) + took - inner);
        if (isPack) {
            const packMs = performance.now() - packStart;
            fs.writeFileSync(process.env.PACK_TIMING_FILE, JSON.stringify({
                boot_ms: bootMs, runner_ms: packStart - bootMs, pack_ms: packMs,
                runner_self_ms: Object.fromEntries(runnerSelf), pack_self_ms: Object.fromEntries(self),
            }));
        }
    }
};
