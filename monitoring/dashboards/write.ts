/**
 * `npm run dashboards -- [dir]`: writes each dashboard's JSON model to `dir` (default out/dashboards) for review,
 * or to import by hand into a Grafana.
 */
import * as fs from "fs";
import * as path from "path";
import { dashboards } from "./index";

function main(args: string[]): void {
    if (args.length > 1 || args.some((a) => a.startsWith("-"))) {
        console.error("usage: npm run dashboards -- [directory]   (default: out/dashboards)");
        process.exitCode = 2;
        return;
    }
    const dir = path.resolve(args[0] ?? path.join("out", "dashboards"));
    fs.mkdirSync(dir, { recursive: true });
    for (const d of dashboards()) {
        const file = path.join(dir, d.fileName);
        fs.writeFileSync(file, `${JSON.stringify(d.json, null, 2)}\n`);
        const shown = path.relative(process.cwd(), file);
        console.log(`${shown.startsWith("..") ? file : shown}  ${d.title}`);
    }
}

main(process.argv.slice(2));
