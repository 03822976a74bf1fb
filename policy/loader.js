// Loads the pack's TypeScript in the pack's process, cheaply: each file is compiled on its own, without type checking,
// with the project's tsconfig.json, and the JavaScript is kept in a cache keyed by everything that shapes it (the
// TypeScript version, the options, the file's path and contents), so a pack that did not change since the last
// preview or update on this machine compiles nothing. Why not the runner's own TypeScript: see main.js.
//
// Plain JavaScript: it runs before anything can load TypeScript.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** Where the pack keeps its compiled JavaScript: beside the project's other caches, ignored by git with node_modules. */
const PACK_CACHE = path.join(__dirname, "..", "node_modules", ".cache", "hello-service-policy");

/**
 * Makes `require` of a .ts file in this process compile it as described above, caching in `cacheDir` (created if
 * missing; a cache that cannot be written only costs the compile). `tsconfig` is the project's tsconfig.json.
 */
function installTypeScriptLoader({ tsconfig, cacheDir }) {
    // The runner has loaded TypeScript already (from the project's node_modules), so this costs nothing more.
    const ts = require("typescript");
    const json = ts.readConfigFile(tsconfig, ts.sys.readFile);
    if (json.error) throw new Error(`${tsconfig}: ${ts.flattenDiagnosticMessageText(json.error.messageText, "\n")}`);
    const { options } = ts.convertCompilerOptionsFromJson(json.config.compilerOptions, path.dirname(tsconfig));
    // Inline source maps, applied by Node.js itself: an error's stack names the TypeScript file and line.
    const compilerOptions = { ...options, noEmit: false, inlineSourceMap: true, inlineSources: false };
    const shape = JSON.stringify([ts.version, compilerOptions]);
    process.setSourceMapsEnabled(true);

    function compiled(filename) {
        const source = fs.readFileSync(filename, "utf8");
        const key = crypto.createHash("sha256").update(shape).update("\0").update(filename).update("\0").update(source).digest("hex");
        const cached = path.join(cacheDir, `${key}.js`);
        try {
            return fs.readFileSync(cached, "utf8");
        } catch {
            // not compiled yet
        }
        const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
        try {
            fs.mkdirSync(cacheDir, { recursive: true });
            // Written aside and renamed: another pack process (a second stack's preview) never reads half a file.
            const partial = `${cached}.${process.pid}`;
            fs.writeFileSync(partial, outputText);
            fs.renameSync(partial, cached);
        } catch {
            // a read-only checkout: compile every time
        }
        return outputText;
    }

    require.extensions[".ts"] = (module, filename) => module._compile(compiled(filename), filename);
}

module.exports = { installTypeScriptLoader, PACK_CACHE };
