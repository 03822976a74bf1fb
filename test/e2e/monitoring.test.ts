/**
 * The ServiceMonitor the program installs is how Prometheus finds the service. On the tier's cluster the project's
 * ServiceRelease installs the chart; kwok gives the service's pod an address of this machine, where the real hello
 * service (built from app/) listens on the chart's container port. Debian's Prometheus then discovers it through
 * Kubernetes (EndpointSlices) with the scrape job the Prometheus Operator generates from the ServiceMonitor as it is in
 * the cluster: its selector and its port decide whether the service is scraped, not a hand-written target.
 *
 * Needs root-free networking only (no new interface): the node's pod CIDR is chosen so that the pod gets this
 * machine's own non-loopback address. Port 8080 on it must be free.
 */
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { ServiceRelease } from "../../components/serviceRelease";
import { repoRoot } from "../support/docker";
import { runOk, start, Started, waitFor } from "../support/process";
import {
    instantQuery, PrometheusServer, removeDir, serviceMonitorDiscoveryJobs, ServiceMonitorObject, startPrometheus, tempDir,
} from "../support/prometheus";
import { LocalCluster, startCluster } from "./support/cluster";
import { createComponentStack, E2eStack, ok } from "./support/stack";
import { ensureToolchain } from "./support/toolchain";

/** The chart's container port (charts/go-service values.yaml), where the pod's "container" must listen. */
const CONTAINER_PORT = 8080;

/** This machine's first non-loopback IPv4 address. */
function localAddress(): string | undefined {
    return Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

/** The /32 pod CIDR whose first pod address (network + 1, as kwok hands them out) is `address`. */
function podCidrFor(address: string): string {
    const n = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0) - 1;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".")}/32`;
}

function portIsFree(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer().once("error", () => resolve(false)).listen(port, host, () => srv.close(() => resolve(true)));
    });
}

describe("the ServiceMonitor is how Prometheus finds the service (e2e)", function () {
    this.timeout(5 * 60_000);
    this.bail(true);

    let cluster: LocalCluster;
    let stack: E2eStack;
    let service: Started | undefined;
    let prometheus: PrometheusServer | undefined;
    let workDir: string;
    let bin: string;

    before(async function () {
        this.timeout(60 * 60_000);
        const address = localAddress();
        if (!address || !(await portIsFree(address, CONTAINER_PORT))) {
            const why = address ? `port ${CONTAINER_PORT} on ${address} is taken` : "this machine has no non-loopback IPv4 address";
            if (process.env.CI === "true") throw new Error(`the ServiceMonitor proof needs its pod's address: ${why}`);
            this.skip();
        }
        const tools = await ensureToolchain();
        bin = tools.bin;
        workDir = tempDir("servicemonitor-proof");
        cluster = await startCluster(tools.bin, tools.kwokStages, { podCIDR: podCidrFor(address!) });
        await cluster.kubectl(["apply", "--server-side", "-f", path.join(tools.operatorCrds, "monitoring.coreos.com_servicemonitors.yaml")]);

        // The pod's container: the real service, on the pod's address and the chart's port.
        const binary = path.join(workDir, "hello");
        await runOk("go", ["build", "-o", binary, "./cmd/hello"], { cwd: path.join(repoRoot, "app") });
        service = start(binary, [], { env: { ...process.env, PORT: String(CONTAINER_PORT), DRAIN_DELAY: "0s" } });
        await waitFor("the service to listen", async () => {
            if (service!.child.exitCode !== null) throw new Error(`hello exited:\n${service!.output()}`);
            return (await fetch(`http://${address}:${CONTAINER_PORT}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined;
        }, 10_000);

        stack = await createComponentStack("e2e-servicemonitor", {
            bin: tools.bin,
            cluster,
            program: (provider, settings) => {
                new ServiceRelease("hello", {
                    namespace: settings.namespace, imageRef: `registry.e2e.invalid/hello@sha256:${"c".repeat(64)}`,
                    repository: "registry.e2e.invalid/hello", spec: { ...settings, replicas: 1 }, monitoringStack: provider,
                    timeoutSeconds: 120,
                }, { providers: [provider] });
            },
        });
        ok(await stack.up());
    });

    after(async function () {
        this.timeout(5 * 60_000);
        await prometheus?.stop();
        await stack?.destroy();
        await stack?.remove();
        await service?.stop(5000);
        await cluster?.stop();
        removeDir(workDir);
    });

    it("GIVEN the scrape job generated from the ServiceMonitor in the cluster THEN Prometheus discovers and scrapes the pod", async function () {
        const monitor = JSON.parse(await cluster.kubectl(["get", "servicemonitor", "hello", "--namespace", "hello", "--output", "json"])) as ServiceMonitorObject;
        prometheus = await startPrometheus({
            binary: path.join(bin, "prometheus3"), // Debian's build has no Kubernetes service discovery
            scrapeJobs: serviceMonitorDiscoveryJobs(monitor, cluster.kubeconfig, "1s"),
            ruleFiles: {},
        });
        const pod = (await cluster.kubectl(["get", "pods", "--namespace", "hello", "--output", "jsonpath={.items[0].metadata.name}"])).trim();
        const up = await waitFor("Prometheus to scrape the service", async () => {
            const samples = await instantQuery(prometheus!.url,
                `up{job="hello", namespace="hello", service="hello", pod="${pod}", container="go-service", endpoint="http"}`);
            return samples.length === 1 && samples[0].value[1] === "1" ? samples : undefined;
        }, 60_000, 500);
        assert.equal(up[0].metric.instance, `${localAddress()}:${CONTAINER_PORT}`, "the pod's address, from its EndpointSlice");
        assert.ok((await instantQuery(prometheus.url, `hello_counter_total{job="hello", namespace="hello"}`)).length === 1,
            "the service's own metrics arrive under the job its ServiceMonitor gives it");
    });
});
