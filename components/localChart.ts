/**
 * The charts this repository ships, as the program and the policy pack read them. A chart's path stays relative to
 * the project directory in a release's inputs (the provider resolves it where Pulumi.yaml is), so that the state does
 * not depend on where a checkout lies; the program reads the chart's files through {@link projectPath}.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/** The chart every service of this kind installs, relative to the project directory. */
export const SERVICE_CHART = "./charts/go-service";

/** The chart that ships a service's Grafana dashboards to kube-prometheus-stack's sidecar. */
export const DASHBOARDS_CHART = "./charts/grafana-dashboards";

/** The annotation that carries {@link chartChecksum} of a local chart into what it renders. */
export const CHART_CHECKSUM_ANNOTATION = "hello.platform/chart-checksum";

/** The project directory: where Pulumi.yaml is. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** A path relative to the project directory, made absolute whatever the working directory. */
export function projectPath(relative: string): string {
    return path.resolve(PROJECT_DIR, relative);
}

/** sha256 over a chart directory's file names and contents. */
export function chartChecksum(dir: string): string {
    const hash = createHash("sha256");
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) walk(full);
            else hash.update(path.relative(dir, full)).update("\0").update(fs.readFileSync(full)).update("\0");
        }
    };
    walk(dir);
    return hash.digest("hex").slice(0, 16);
}

/** `name` and `version` from a chart directory's Chart.yaml; both undefined when there is none. */
export function readChartYaml(dir: string): { readonly name?: string; readonly version?: string } {
    let doc: { name?: unknown; version?: unknown } | undefined;
    try {
        doc = parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as typeof doc;
    } catch {
        return {};
    }
    return {
        name: doc?.name === undefined ? undefined : String(doc.name),
        version: doc?.version === undefined ? undefined : String(doc.version),
    };
}
