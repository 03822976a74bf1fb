/**
 * The Helm charts the platform team approved, at the versions it approved. A new chart or a version bump is a
 * change to this file, reviewed by the platform team, in the same pull request as the program's change.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../components/localChart";

/** A chart from a chart repository (or an OCI registry). */
export interface RemoteChart {
    readonly name: string;
    readonly repo: string;
    readonly version: string;
}

/** A chart in this repository, installed from its path. */
export interface LocalChart {
    readonly name: string;
    /** Relative to the project directory, as the program names it. */
    readonly path: string;
    /** The `version` its Chart.yaml must have. */
    readonly version: string;
}

export const APPROVED_REMOTE_CHARTS: readonly RemoteChart[] = [
    // Monitoring: Prometheus Operator, Prometheus, Grafana, Alertmanager (components/monitoringStack.ts).
    { name: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.0" },
];

export const APPROVED_LOCAL_CHARTS: readonly LocalChart[] = [
    // The service's chart (components/serviceRelease.ts); its version changes with its values (Chart.yaml).
    { name: "go-service", path: "./charts/go-service", version: "0.1.0" },
    // The service's dashboards for Grafana's sidecar (components/serviceMonitoring.ts).
    { name: "grafana-dashboards", path: "./charts/grafana-dashboards", version: "0.2.0" },
];

/** What a release's `chart`/`repositoryOpts` point at. */
export type ChartSource =
    | { readonly kind: "local"; readonly path: string; readonly dir: string }
    | { readonly kind: "remote"; readonly name: string; readonly repo?: string };

/** Classifies a release's chart: a path in the project (it has a Chart.yaml) or a chart from a repository. */
export function chartSource(chart: string, repo: string | undefined, projectDir = PROJECT_DIR): ChartSource {
    if (chart.startsWith("oci://")) {
        const slash = chart.lastIndexOf("/");
        return { kind: "remote", name: chart.slice(slash + 1), repo: chart.slice(0, slash) };
    }
    const dir = path.resolve(projectDir, chart);
    const looksLocal = chart.startsWith("./") || chart.startsWith("../") || path.isAbsolute(chart);
    if (repo === undefined && (looksLocal || fs.existsSync(path.join(dir, "Chart.yaml")))) {
        return { kind: "local", path: chart, dir };
    }
    // `prometheus-community/kube-prometheus-stack` names a chart through a repository alias.
    return { kind: "remote", name: chart.split("/").pop() ?? chart, repo };
}

/** The approved local chart at `dir`, if any. */
export function approvedLocalChart(dir: string, projectDir = PROJECT_DIR): LocalChart | undefined {
    return APPROVED_LOCAL_CHARTS.find((c) => path.resolve(projectDir, c.path) === dir);
}
