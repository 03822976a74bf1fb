/**
 * The components' pure builders: the data each component hands to its resources, checked without mocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { execFileSync } from "child_process";
import {
    buildAlertmanagerConfig, buildMonitoringValues, KUBE_PROMETHEUS_STACK, monitoringChartSource, monitoringPodSecurity,
    MonitoringProfile,
} from "../components/monitoringStack";
import { podSecurityLabels } from "../components/namespace";
import { ClusterEvent, rolloutProblems, watchRollout } from "../components/rolloutDiagnostics";
import { buildImageArgs, sourceRevision } from "../components/serviceImage";
import { dashboardValues } from "../components/serviceMonitoring";
import { parseImageRef } from "../components/imageReference";
import { chartChecksum, DASHBOARDS_CHART, projectPath } from "../components/localChart";
import { buildServiceValues, ServiceSpec } from "../components/serviceRelease";
import { helmTemplate, kubeScore } from "./support/chart";

const DIGEST = `sha256:${"a".repeat(64)}`;
const SPEC: ServiceSpec = {
    replicas: 2, autoscaling: false, autoscalingMinReplicas: 2, autoscalingMaxReplicas: 6, autoscalingTargetCpu: 70,
    cpuRequest: "100m", memoryLimit: "128Mi", logLevel: "info", drainDelay: "5s", shutdownTimeout: "20s",
    serviceType: "ClusterIP", ingressClassName: "nginx", ingressNamespaces: ["ingress-nginx"], monitoringNamespace: "monitoring",
};
const PROFILE: MonitoringProfile = {
    alertmanager: true, nodeExporter: true, retention: "7d",
    resources: { cpuRequest: "200m", memoryRequest: "1Gi", memoryLimit: "2Gi" },
};

describe("buildServiceValues", function () {
    /** The objects the chart renders for the service with `spec` changed. */
    const rendered = (spec: Partial<ServiceSpec>) =>
        helmTemplate(buildServiceValues({ ...SPEC, ...spec }, { repository: "r", digest: DIGEST }), { releaseName: "hello", namespace: "hello" });
    const serviceEnv = (manifests: { kind: string; spec?: any }[]) => Object.fromEntries(
        (manifests.find((m) => m.kind === "Deployment")!.spec.template.spec.containers[0].env as { name: string; value?: string }[])
            .map((e) => [e.name, e.value]));

    it("names the image by repository and digest only", function () {
        const values = buildServiceValues(SPEC, { repository: "ghcr.io/acme/hello", digest: DIGEST });
        assert.deepStrictEqual(values.image, { repository: "ghcr.io/acme/hello", digest: DIGEST });
    });

    it("gives the request the memory limit (Guaranteed memory) and sets a CPU limit only when asked", function () {
        const plain = buildServiceValues(SPEC, { repository: "r", digest: DIGEST }).resources;
        assert.deepStrictEqual(plain, { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "128Mi" } });
        const capped = buildServiceValues({ ...SPEC, cpuLimit: "1" }, { repository: "r", digest: DIGEST }).resources;
        assert.strictEqual(capped.limits.cpu, "1");
    });

    it("lets the monitoring and ingress namespaces reach the pods, and the world only through a LoadBalancer", function () {
        const internal = buildServiceValues(SPEC, { repository: "r", digest: DIGEST }).networkPolicy.ingress;
        assert.deepStrictEqual(internal, { namespaces: ["monitoring", "ingress-nginx"], cidrs: [] });
        const lb = buildServiceValues({ ...SPEC, serviceType: "LoadBalancer" }, { repository: "r", digest: DIGEST });
        assert.deepStrictEqual(lb.networkPolicy.ingress.cidrs, ["0.0.0.0/0"]);
        assert.deepStrictEqual(lb.service, { type: "LoadBalancer", port: 80 });
    });

    it("renders an Ingress for ingressHost, and a LoadBalancer on port 80, that the chart and kube-score accept", async function () {
        const values = buildServiceValues({ ...SPEC, ingressHost: "hello.example.com", serviceType: "LoadBalancer" },
            { repository: "ghcr.io/acme/hello", digest: DIGEST }, { pullSecretName: "hello-pull", chartChecksum: "abc" });
        const manifests = await helmTemplate(values, { releaseName: "hello", namespace: "hello" });
        const ingress = manifests.find((m) => m.kind === "Ingress")!;
        assert.strictEqual(ingress.spec.rules[0].host, "hello.example.com");
        assert.strictEqual(manifests.find((m) => m.kind === "Service")!.spec.ports[0].port, 80);
        const pod = manifests.find((m) => m.kind === "Deployment")!.spec.template;
        assert.deepStrictEqual(pod.spec.imagePullSecrets, [{ name: "hello-pull" }]);
        assert.strictEqual(pod.metadata.annotations["hello.platform/chart-checksum"], "abc");
        assert.deepStrictEqual(await kubeScore(manifests), []);
    });

    it("runs the service at the stack's logLevel", async function () {
        assert.strictEqual(serviceEnv(await rendered({ logLevel: "warn" })).LOG_LEVEL, "warn");
    });

    it("drains for drainDelay after readiness fails, then gives in-flight requests shutdownTimeout", async function () {
        const env = serviceEnv(await rendered({ drainDelay: "3s", shutdownTimeout: "25s" }));
        assert.deepStrictEqual({ DRAIN_DELAY: env.DRAIN_DELAY, SHUTDOWN_TIMEOUT: env.SHUTDOWN_TIMEOUT }, { DRAIN_DELAY: "3s", SHUTDOWN_TIMEOUT: "25s" });
    });

    it("puts the Ingress in the stack's ingressClassName, so the controller that serves it picks it up", async function () {
        const ingress = (await rendered({ ingressHost: "hello.example.com", ingressClassName: "internal" })).find((m) => m.kind === "Ingress")!;
        assert.strictEqual(ingress.spec.ingressClassName, "internal");
    });

    it("has Prometheus scrape the service every 30s through a ServiceMonitor", async function () {
        const monitor = (await rendered({})).find((m) => m.kind === "ServiceMonitor");
        assert.strictEqual(monitor?.spec.endpoints[0].interval, "30s");
    });
});

describe("parseImageRef", function () {
    it("splits a digest reference and refuses a tag", function () {
        assert.deepStrictEqual(parseImageRef(`localhost:5001/hello@${DIGEST}`), { repository: "localhost:5001/hello", digest: DIGEST });
        assert.throws(() => parseImageRef("localhost:5001/hello:dev"), /expected an image reference by digest/);
    });
});

describe("chartChecksum", function () {
    it("changes when any file of the chart changes, so a template edit shows in the preview", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-"));
        try {
            fs.mkdirSync(path.join(dir, "templates"));
            fs.writeFileSync(path.join(dir, "templates", "a.yaml"), "kind: A\n");
            const before = chartChecksum(dir);
            assert.strictEqual(chartChecksum(dir), before, "stable");
            fs.writeFileSync(path.join(dir, "templates", "a.yaml"), "kind: B\n");
            assert.notStrictEqual(chartChecksum(dir), before);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("buildImageArgs", function () {
    it("tags the build and stamps version, commit and the commit's time, nothing that differs between checkouts", function () {
        const args = buildImageArgs({
            context: "./app", repository: "ghcr.io/acme/hello", tag: "prod", version: "1.2.3",
            revision: { commit: "abc123", time: 1764115200 },
        });
        assert.strictEqual(args.imageName, "ghcr.io/acme/hello:prod");
        const build = args.build as { args: Record<string, string>; cacheFrom?: unknown; dockerfile: string; platform: string };
        assert.deepStrictEqual(build.args, { VERSION: "1.2.3", COMMIT: "abc123", SOURCE_DATE_EPOCH: "1764115200" });
        assert.strictEqual(build.cacheFrom, undefined, "inline cache metadata would differ between checkouts");
        assert.strictEqual(build.dockerfile, "./app/Dockerfile");
        assert.strictEqual(build.platform, "linux/amd64");
        assert.strictEqual(args.registry, undefined, "without credentials, docker's own login is used");
    });

    it("passes base image overrides for a mirrored build, but never lets them replace version or commit", function () {
        const args = buildImageArgs({
            context: "./app", repository: "r/hello", tag: "t", version: "1.0.0", revision: { commit: "c", time: 0 },
            buildArgs: { BUILDER_IMAGE: "mirror/golang@sha256:1", VERSION: "spoofed", SOURCE_DATE_EPOCH: "1" },
        });
        const build = args.build as { args: Record<string, string> };
        assert.strictEqual(build.args.BUILDER_IMAGE, "mirror/golang@sha256:1");
        assert.strictEqual(build.args.VERSION, "1.0.0");
        assert.strictEqual(build.args.SOURCE_DATE_EPOCH, "0");
    });
});

describe("sourceRevision", function () {
    let repo: string;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
    /** A commit of everything, made at `time` (seconds since the epoch). */
    const commitAt = (time: number, message: string) => {
        git("add", ".");
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message],
            { cwd: repo, env: { ...process.env, GIT_COMMITTER_DATE: `${time} +0000` } });
    };
    before(function () {
        repo = fs.mkdtempSync(path.join(os.tmpdir(), "revision-"));
        git("init", "-q");
        fs.mkdirSync(path.join(repo, "app"));
        fs.writeFileSync(path.join(repo, "app", "main.go"), "package main\n");
        commitAt(1700000000, "app");
        fs.writeFileSync(path.join(repo, "README.md"), "docs\n");
        commitAt(1800000000, "docs");
    });
    after(() => fs.rmSync(repo, { recursive: true, force: true }));

    it("is the last commit that changed the build context, so a commit elsewhere leaves the image as it was", function () {
        const appCommit = git("log", "-1", "--format=%h", "--abbrev=12", "--", "app");
        assert.deepStrictEqual(sourceRevision(path.join(repo, "app")), { commit: appCommit, time: 1700000000 });
        assert.notStrictEqual(appCommit, git("rev-parse", "--short=12", "HEAD"));
    });

    it("is commit \"unknown\" at time 0 outside git", function () {
        assert.deepStrictEqual(sourceRevision(os.tmpdir()), { commit: "unknown", time: 0 });
    });
});

describe("monitoringChartSource", function () {
    it("takes the chart from its own repository unless a mirror is set", function () {
        assert.deepStrictEqual(monitoringChartSource(),
            { chart: "kube-prometheus-stack", repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo } });
    });

    it("takes the same chart from a Helm repository mirror", function () {
        assert.deepStrictEqual(monitoringChartSource("https://charts.example.com/prometheus-community"),
            { chart: "kube-prometheus-stack", repositoryOpts: { repo: "https://charts.example.com/prometheus-community" } });
    });

    it("names the chart inside an OCI registry path, which takes no repository option", function () {
        assert.deepStrictEqual(monitoringChartSource("oci://registry.example.com/charts/"),
            { chart: "oci://registry.example.com/charts/kube-prometheus-stack" });
    });
});

describe("buildMonitoringValues", function () {
    it("slims kube-prometheus-stack for a laptop: no Alertmanager, node exporter, control plane scraping or storage", function () {
        const values = buildMonitoringValues({
            profile: { ...PROFILE, alertmanager: false, nodeExporter: false, controlPlane: false, defaultDashboards: false, retention: "6h" },
        }) as any;
        assert.strictEqual(values.alertmanager.enabled, false);
        assert.strictEqual(values.nodeExporter.enabled, false);
        for (const c of ["kubeEtcd", "kubeScheduler", "kubeControllerManager", "kubeProxy"]) assert.strictEqual(values[c].enabled, false, c);
        assert.strictEqual(values.grafana.defaultDashboardsEnabled, false);
        assert.strictEqual(values.prometheus.prometheusSpec.storageSpec, undefined);
    });

    it("puts Prometheus on a persistent volume of the requested size and class", function () {
        const values = buildMonitoringValues({ profile: { ...PROFILE, storage: { size: "50Gi", storageClass: "premium" } } }) as any;
        assert.deepStrictEqual(values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec, {
            storageClassName: "premium", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "50Gi" } },
        });
    });

    it("picks up dashboards from ConfigMaps in every namespace, into the folder their annotation names", function () {
        const sidecar = (buildMonitoringValues({ profile: PROFILE }) as any).grafana.sidecar.dashboards;
        assert.strictEqual(sidecar.searchNamespace, "ALL");
        assert.strictEqual(sidecar.folderAnnotation, "grafana_folder");
        assert.strictEqual(sidecar.provider.foldersFromFilesStructure, true);
    });

    it("GIVEN the dashboards chart's ConfigMaps THEN the sidecar picks them up, into the folder they name", async function () {
        const sidecar = (buildMonitoringValues({ profile: PROFILE }) as any).grafana.sidecar.dashboards;
        const values = dashboardValues([{ uid: "hello-overview", title: "Hello", json: { uid: "hello-overview", title: "Hello", panels: [] } }], "hello");
        const [cm] = await helmTemplate(values, { chartDir: projectPath(DASHBOARDS_CHART), releaseName: "hello-dashboards" });
        assert.strictEqual(cm.metadata.labels?.[sidecar.label], sidecar.labelValue);
        assert.strictEqual(cm.metadata.annotations?.[sidecar.folderAnnotation], "hello");
    });

    it("exposes Grafana through an Ingress only when a host is given", function () {
        assert.deepStrictEqual((buildMonitoringValues({ profile: PROFILE }) as any).grafana.ingress, { enabled: false });
        assert.deepStrictEqual((buildMonitoringValues({ profile: PROFILE, grafanaHost: "g.example.com", ingressClassName: "nginx" }) as any).grafana.ingress,
            { enabled: true, hosts: ["g.example.com"], ingressClassName: "nginx" });
    });

    it("admits the node exporter's host access only by making its namespace privileged", function () {
        assert.strictEqual(monitoringPodSecurity(PROFILE).enforce, "privileged");
        assert.match(monitoringPodSecurity(PROFILE).reason, /node exporter .* hostNetwork, hostPID and hostPath/);
        assert.strictEqual(monitoringPodSecurity({ ...PROFILE, nodeExporter: false }).enforce, "baseline");
        assert.strictEqual(podSecurityLabels("baseline")["pod-security.kubernetes.io/warn"], "restricted");
    });
});

describe("buildAlertmanagerConfig", function () {
    const config = parse(buildAlertmanagerConfig("https://hooks.example.com/abc")) as any;

    it("routes every alert to the webhook, with resolved notifications", function () {
        assert.strictEqual(config.route.receiver, "webhook");
        const webhook = config.receivers.find((r: { name: string }) => r.name === "webhook");
        assert.deepStrictEqual(webhook.webhook_configs, [{ url: "https://hooks.example.com/abc", send_resolved: true }]);
    });

    it("drops the always-firing Watchdog and re-sends critical alerts hourly", function () {
        assert.deepStrictEqual(config.route.routes[0], { receiver: "null", matchers: ['alertname = "Watchdog"'] });
        assert.strictEqual(config.route.routes[1].repeat_interval, "1h");
    });
});

describe("rolloutProblems", function () {
    const since = new Date("2026-11-26T10:00:00Z");
    const warning = (name: string, reason: string, message: string, at = "2026-11-26T10:00:05Z"): ClusterEvent => ({
        type: "Warning", reason, message, lastTimestamp: at, involvedObject: { kind: "Pod", name, namespace: "hello" },
    });

    it("names the release's object, the reason and the message, once, oldest first", function () {
        const events = [
            warning("hello-7d9c-x2x", "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.", "2026-11-26T10:00:09Z"),
            warning("hello-7d9c-x2x", "FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.", "2026-11-26T10:00:09Z"),
            warning("hello-7d9c-abc", "Failed", "Error: ErrImagePull", "2026-11-26T10:00:02Z"),
        ];
        assert.deepStrictEqual(rolloutProblems(events, { release: "hello", since }), [
            "Pod hello/hello-7d9c-abc: Failed: Error: ErrImagePull",
            "Pod hello/hello-7d9c-x2x: FailedScheduling: 0/1 nodes are available: 1 Insufficient cpu.",
        ]);
    });

    it("leaves out other objects, normal events and what happened before the deploy", function () {
        const events = [
            warning("helloworld-1", "BackOff", "another release"),
            warning("redis-0", "BackOff", "another workload"),
            { ...warning("hello-1", "Scheduled", "fine"), type: "Normal" },
            warning("hello-1", "BackOff", "an old crash", "2026-11-26T09:59:00Z"),
        ];
        assert.deepStrictEqual(rolloutProblems(events, { release: "hello", since }), []);
    });
});

describe("watchRollout", function () {
    const fresh = (reason: string): ClusterEvent => ({
        type: "Warning", reason, message: "m", lastTimestamp: new Date(Date.now() + 1000), involvedObject: { kind: "Pod", name: "hello-1" },
    });

    it("reports each new problem once while the release is not ready, and stops when it is", async function () {
        const polls: ClusterEvent[][] = [[fresh("FailedScheduling")], [fresh("FailedScheduling"), fresh("BackOff")], [fresh("Unhealthy")]];
        let ready!: () => void;
        const until = new Promise<void>((resolve) => (ready = resolve));
        const lines: string[] = [];
        let calls = 0;
        const { done } = watchRollout({
            context: "unused", namespace: "hello", release: "hello", until, timeoutMs: 10_000, pollMs: 5,
            report: (line) => lines.push(line),
            listEvents: async () => {
                const events = polls[Math.min(calls++, polls.length - 1)];
                if (calls === 3) ready();
                return events;
            },
        });
        await done;
        assert.deepStrictEqual(lines, ["Pod hello-1: FailedScheduling: m", "Pod hello-1: BackOff: m"]);
    });

    it("ends quietly when the cluster cannot be read, and never after Helm's timeout", async function () {
        const lines: string[] = [];
        await watchRollout({
            context: "unused", namespace: "hello", release: "hello", until: new Promise(() => undefined), timeoutMs: 50, pollMs: 5,
            report: (line) => lines.push(line), listEvents: async () => [fresh("BackOff")].filter(() => lines.length === 0),
        }).done;
        await watchRollout({
            context: "unused", namespace: "hello", release: "hello", until: new Promise(() => undefined), timeoutMs: 10_000,
            report: (line) => lines.push(line), listEvents: async () => { throw new Error("connection refused"); },
        }).done;
        assert.deepStrictEqual(lines, ["Pod hello-1: BackOff: m"]);
    });
});
