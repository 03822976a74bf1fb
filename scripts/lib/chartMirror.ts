/**
 * A chart mirror on loopback, as an air-gapped site runs one, holding a stand-in of kube-prometheus-stack: the chart
 * of the pinned name and version, with the real Prometheus Operator CRDs in a `crds` subchart (as the real chart
 * ships them, installed by Helm and never upgraded), a Grafana Service, and the Prometheus custom resource with the
 * selectors the real chart gives it. It runs no workload: the tier proves what the program asks of the chart
 * (version, values, the CRDs its ServiceMonitor and PrometheusRule need) and which monitors and rules that
 * Prometheus selects, not Grafana or the operator.
 *
 * The stack reaches it through its `monitoringChartRepository` setting, the way a real mirror is configured: the
 * real-engine tier and `npm run bench:deploy` on a free port, `npm run dev` on a fixed one (a setting that stays the
 * same from run to run, so that a second run changes nothing).
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";

import { KUBE_PROMETHEUS_STACK, MONITORING_RELEASE } from "../../components/monitoringStack";
import { runOk } from "./process";

export interface ChartMirror {
    /** The repository URL, for `monitoringChartRepository`. */
    readonly url: string;
    /** Requests the mirror answered, e.g. `GET /index.yaml 200`. */
    readonly requests: readonly string[];
    stop(): Promise<void>;
}

/** Writes the stand-in chart's source into `dir` and returns the chart folder. */
function writeStandinChart(dir: string, crdFiles: readonly string[]): string {
    const chart = path.join(dir, KUBE_PROMETHEUS_STACK.chart);
    const write = (file: string, content: string) => {
        fs.mkdirSync(path.dirname(path.join(chart, file)), { recursive: true });
        fs.writeFileSync(path.join(chart, file), content);
    };
    write("Chart.yaml", stringify({
        apiVersion: "v2",
        name: KUBE_PROMETHEUS_STACK.chart,
        version: KUBE_PROMETHEUS_STACK.version,
        appVersion: "v0.93.0",
        description: "Stand-in made by this project (scripts/lib/chartMirror.ts): the real Prometheus Operator CRDs and a Grafana Service.",
        dependencies: [{ name: "crds", version: "0.0.0", condition: "crds.enabled" }],
    }));
    // The real chart's defaults for what the stand-in renders: its Prometheus selects only its own release's monitors
    // and rules (release: <release name>) unless the NilUsesHelmValues flags are off, and Grafana's sidecar loads the
    // ConfigMaps labelled grafana_dashboard: "1" in every namespace.
    write("values.yaml", stringify({
        crds: { enabled: true },
        prometheus: { prometheusSpec: { serviceMonitorSelectorNilUsesHelmValues: true, ruleSelectorNilUsesHelmValues: true } },
        grafana: {
            service: { port: 80 },
            sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" } },
        },
    }));
    // The Prometheus custom resource the real chart renders, with its selectors as the real chart computes them (no
    // operator runs it here: the tests read its selectors as the operator would).
    write("templates/prometheus.yaml", [
        "apiVersion: monitoring.coreos.com/v1",
        "kind: Prometheus",
        "metadata:",
        "  name: {{ .Release.Name }}-prometheus",
        "spec:",
        "  serviceMonitorNamespaceSelector: {}",
        "  ruleNamespaceSelector: {}",
        "{{- with .Values.prometheus.prometheusSpec }}",
        "  serviceMonitorSelector: {{ if .serviceMonitorSelectorNilUsesHelmValues }}{matchLabels: {release: {{ $.Release.Name | quote }}}}{{ else }}{}{{ end }}",
        "  ruleSelector: {{ if .ruleSelectorNilUsesHelmValues }}{matchLabels: {release: {{ $.Release.Name | quote }}}}{{ else }}{}{{ end }}",
        "{{- end }}",
        "",
    ].join("\n"));
    write("templates/grafana-service.yaml", [
        "apiVersion: v1",
        "kind: Service",
        "metadata:",
        "  name: {{ .Release.Name }}-grafana",
        "  labels: {app.kubernetes.io/name: grafana, app.kubernetes.io/instance: {{ .Release.Name }}}",
        "spec:",
        "  selector: {app.kubernetes.io/name: grafana, app.kubernetes.io/instance: {{ .Release.Name }}}",
        "  ports: [{name: http-web, port: {{ .Values.grafana.service.port }}, targetPort: 3000}]",
        "",
    ].join("\n"));
    write("charts/crds/Chart.yaml", stringify({ apiVersion: "v2", name: "crds", version: "0.0.0" }));
    for (const crd of crdFiles) write(`charts/crds/crds/${path.basename(crd)}`, fs.readFileSync(crd, "utf8"));
    return chart;
}

/**
 * Packages the stand-in with helm, indexes it and serves the folder over HTTP on loopback, on `port` (@default a free
 * one). `crdDir` holds the operator's CRD manifests (scripts/tools.sh e2e puts them in .tools/share/prometheus-operator-crds).
 */
export async function startChartMirror(helm: string, crdDir: string, port = 0): Promise<ChartMirror> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-e2e-charts-"));
    const repo = path.join(dir, "repo");
    fs.mkdirSync(repo);
    const crds = fs.readdirSync(crdDir).filter((f) => f.endsWith(".yaml")).map((f) => path.join(crdDir, f));
    if (crds.length === 0) throw new Error(`no CRD manifests in ${crdDir}: run scripts/tools.sh e2e`);
    await runOk(helm, ["package", writeStandinChart(path.join(dir, "src"), crds), "--destination", repo]);

    const requests: string[] = [];
    const server = http.createServer((req, res) => {
        const file = path.join(repo, path.basename(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
        const found = fs.existsSync(file) && fs.statSync(file).isFile();
        requests.push(`${req.method} ${req.url} ${found ? 200 : 404}`);
        if (!found) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "content-type": file.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
        fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", (e) => {
            fs.rmSync(dir, { recursive: true, force: true });
            reject(e);
        });
        server.listen(port, "127.0.0.1", resolve);
    });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await runOk(helm, ["repo", "index", repo, "--url", url]);
    return {
        url,
        requests,
        async stop() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** The Grafana Service the stand-in (like the real chart) names after the release. */
export const GRAFANA_SERVICE = `${MONITORING_RELEASE}-grafana`;
