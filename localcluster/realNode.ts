/**
 * A real node: kubelet and kube-proxy v1.34.4 (built by scripts/tools.sh from the control plane's wrapper module),
 * Debian's containerd and runc with a configuration, root, state and socket of the node's own (never Docker's), bridge
 * networking from Debian's CNI plugins, and a sandbox image the node makes itself.
 *
 * Every packet stays on this machine: pods get addresses on a bridge whose address is the node's, they have no default
 * route (only the Service range, through the node), nothing is masqueraded, and the host routes the Service range onto
 * the bridge. The node's API and kube-proxy's listen on the bridge address and loopback only.
 *
 * What it changes on the machine (sysctls, paths, chains, cgroups) is put back by host.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { freePort, run, runOk, start, Started, waitFor } from "../scripts/lib/process";
import { kubeconfig, Pki } from "./pki";
import { SANDBOX_IMAGE, buildSandboxImage } from "./sandboxImage";

/** The node's network: its own ranges, chosen away from Docker's (172.17/16) and the Service range. */
export const NODE_NETWORK = {
    bridge: "hello-br0",
    nodeIP: "10.244.0.1",
    /** The node's pods. */
    podCIDR: "10.244.0.0/24",
    /** The cluster's pod range, which the controller manager hands node ranges out of. */
    clusterCIDR: "10.244.0.0/16",
} as const;
export const REAL_NODE_NAME = "hello-node";

const CNI_BIN = "/usr/lib/cni";
const CNI_PLUGINS = ["bridge", "host-local", "loopback", "firewall", "portmap"];
/** The PATH the node's daemons run with: runc, iptables, mount and ip are in the system's folders. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * What the machine lacks to run a real node, one line each with what to do: root, containerd, runc, the CNI plugins,
 * iptables, conntrack, a cgroup controller, overlayfs, bridge netfilter, or a route that overlaps the node's ranges.
 */
export async function missingForRealNode(serviceCIDR: string): Promise<string[]> {
    const missing: string[] = [];
    if (process.getuid?.() !== 0) {
        missing.push(`root: the kubelet mounts volumes, writes iptables rules and cgroups (running as uid ${process.getuid?.()})`);
    }
    const command = async (name: string, hint: string) => {
        if ((await run("sh", ["-c", `command -v ${name}`], { env: { PATH: SYSTEM_PATH } })).code !== 0) missing.push(`${name}: not found (${hint})`);
    };
    await command("containerd", "apt-get install containerd");
    await command("ctr", "apt-get install containerd");
    await command("runc", "apt-get install runc");
    await command("iptables", "apt-get install iptables");
    await command("conntrack", "apt-get install conntrack");
    await command("ip", "apt-get install iproute2");
    await command("openssl", "apt-get install openssl");
    const plugins = CNI_PLUGINS.filter((p) => !fs.existsSync(path.join(CNI_BIN, p)));
    if (plugins.length) missing.push(`CNI plugins ${plugins.join(", ")}: not in ${CNI_BIN} (apt-get install containernetworking-plugins)`);

    const v2 = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
    const enabled = v2 ? fs.readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/) : [];
    for (const controller of ["cpu", "cpuset", "memory", "pids"]) {
        const there = v2 ? enabled.includes(controller) : fs.existsSync(`/sys/fs/cgroup/${controller}/cgroup.procs`);
        if (!there) missing.push(`the cgroup controller ${controller}: not mounted under /sys/fs/cgroup (the kubelet enforces pod limits with it)`);
    }
    if (!fs.readFileSync("/proc/filesystems", "utf8").includes("overlay")) missing.push("overlayfs: not in the kernel (modprobe overlay)");
    if (!fs.existsSync("/proc/sys/net/bridge")) {
        missing.push("bridge netfilter: not loaded, so Services between pods on the bridge would not work (modprobe br_netfilter)");
    }
    if (fs.existsSync(`/sys/class/net/${NODE_NETWORK.bridge}`)) {
        missing.push(`a free link name: ${NODE_NETWORK.bridge} exists already (another local cluster, or one left behind: npm run dev:down removes it)`);
    }
    const routes = (await run("ip", ["-4", "route", "show"], { env: { PATH: SYSTEM_PATH } }).catch(() => undefined))?.stdout ?? "";
    for (const line of routes.split("\n")) {
        const dst = line.split(" ")[0];
        if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
        for (const range of [NODE_NETWORK.clusterCIDR, serviceCIDR]) {
            if (overlaps(dst, range)) missing.push(`the address range ${range}: this machine already routes ${line.trim()}`);
        }
    }
    return missing;
}

function toRange(cidr: string): [number, number] {
    const [address, bits = "32"] = cidr.split("/");
    const n = address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    const first = n - (n % size);
    return [first, first + size - 1];
}

function overlaps(a: string, b: string): boolean {
    const [a0, a1] = toRange(a);
    const [b0, b1] = toRange(b);
    return a0 <= b1 && b0 <= a1;
}

/** The bridge and its route: made before the control plane, whose API server listens on the node's address. */
export async function createNodeNetwork(serviceCIDR: string): Promise<void> {
    const ip = (...args: string[]) => runOk("ip", args, { env: { PATH: SYSTEM_PATH } });
    await ip("link", "add", NODE_NETWORK.bridge, "type", "bridge");
    await ip("addr", "add", `${NODE_NETWORK.nodeIP}/24`, "dev", NODE_NETWORK.bridge);
    await ip("link", "set", NODE_NETWORK.bridge, "up");
    // The host reaches Services through kube-proxy's rules; the route keeps those packets on the bridge, not the uplink.
    await ip("route", "add", serviceCIDR, "dev", NODE_NETWORK.bridge, "src", NODE_NETWORK.nodeIP);
}

export interface RealNode {
    readonly name: string;
    readonly address: string;
    /** containerd's socket, for `ctr` (the runtime's view of containers). */
    readonly containerdSocket: string;
    readonly processes: () => readonly Started[];
    /** Runs ctr against the node's containerd, in Kubernetes' namespace. */
    ctr(args: readonly string[]): Promise<string>;
    /** Stops kube-proxy and the kubelet, removes every container, stops containerd. */
    stop(): Promise<void>;
}

export async function startRealNode(opts: {
    readonly bin: string;
    readonly dir: string;
    readonly pki: Pki;
    readonly server: string;
    readonly serviceCIDR: string;
    readonly context: string;
    readonly kubectl: (args: readonly string[], input?: string) => Promise<string>;
}): Promise<RealNode> {
    const dir = (...p: string[]) => {
        const d = path.join(opts.dir, ...p);
        fs.mkdirSync(d, { recursive: true, mode: 0o700 });
        return d;
    };
    const write = (p: string, content: string) => {
        fs.writeFileSync(p, content, { mode: 0o600 });
        return p;
    };
    const processes: Started[] = [];
    const env = { ...process.env, PATH: `${opts.bin}:${SYSTEM_PATH}` };
    const launch = (name: string, args: string[]) => {
        const p = start(name, args, { env });
        processes.push(p);
        return p;
    };

    // containerd, configured from scratch: its root, state, socket and CNI configuration live in the node's folder.
    const containerdDir = dir("containerd");
    const socket = path.join(containerdDir, "containerd.sock");
    const cniConf = dir("cni", "net.d");
    write(path.join(cniConf, "10-hello.conflist"), JSON.stringify({
        cniVersion: "0.4.0",
        name: "hello",
        plugins: [
            {
                type: "bridge", bridge: NODE_NETWORK.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
                ipam: {
                    type: "host-local", dataDir: dir("cni", "ipam"),
                    ranges: [[{ subnet: NODE_NETWORK.podCIDR, gateway: NODE_NETWORK.nodeIP }]],
                    // No default route: a pod reaches only its node, the other pods and the Services.
                    routes: [{ dst: opts.serviceCIDR }],
                },
            },
            // Docker sets the FORWARD policy to DROP: this accepts the pods' traffic through the bridge.
            { type: "firewall", backend: "iptables" },
            { type: "portmap", capabilities: { portMappings: true }, snat: false },
        ],
    }, null, 2));
    const config = write(path.join(containerdDir, "config.toml"), `
version = 2
root = "${dir("containerd", "root")}"
state = "${dir("containerd", "state")}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${socket}"

[ttrpc]
  address = "${socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir("containerd", "opt")}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  # Without CAP_SYS_RESOURCE (this kind of VM) runc cannot lower a container's OOM score: every sandbox fails.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${dir("containerd", "runc")}"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${cniConf}"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${dir("containerd", "certs.d")}"
`);
    const containerd = launch("containerd", ["--config", config, "--log-level", "warn"]);
    const ctr = (args: readonly string[]) => runOk("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], { env, timeoutMs: 120_000 });
    await waitFor("containerd to answer", async () => {
        if (containerd.child.exitCode !== null) throw new Error(`containerd exited:\n${containerd.output().slice(-3000)}`);
        return (await run("ctr", ["--address", socket, "version"], { env })).code === 0 ? true : undefined;
    }, 30_000, 100);

    const sandbox = path.join(opts.dir, "pause.oci.tar");
    await buildSandboxImage(opts.dir, sandbox);
    await ctr(["images", "import", sandbox]);

    // The kubelet: its own certificate (system:node:<name>), its API on the node's address only, never anonymous.
    const pkiDir = dir("kubelet", "pki");
    const kubeletCert = await opts.pki.issue("kubelet", { cn: `system:node:${REAL_NODE_NAME}`, o: "system:nodes" });
    const kubeletServing = await opts.pki.issue("kubelet-serving", { cn: REAL_NODE_NAME }, { usage: "server", ips: [NODE_NETWORK.nodeIP] });
    const kubeletKubeconfig = write(path.join(pkiDir, "kubeconfig"),
        kubeconfig({ server: opts.server, ca: opts.pki.ca.cert, context: opts.context, user: kubeletCert }));
    const [kubeletPort, healthzPort] = [await freePort(), await freePort()];
    const resolvConf = write(path.join(opts.dir, "resolv.conf"), "# no cluster DNS on the local node\n");
    const kubeletConfig = write(path.join(opts.dir, "kubelet.yaml"), JSON.stringify({
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        containerRuntimeEndpoint: `unix://${socket}`,
        cgroupDriver: "cgroupfs",
        // Kubernetes 1.35 refuses cgroup v1 by default; the machines this runs on may still be v1 (hybrid).
        failCgroupV1: false,
        failSwapOn: false,
        address: NODE_NETWORK.nodeIP,
        port: kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: "127.0.0.1",
        healthzPort,
        tlsCertFile: kubeletServing.cert,
        tlsPrivateKeyFile: kubeletServing.key,
        authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: opts.pki.ca.cert } },
        authorization: { mode: "Webhook" },
        resolvConf,
        podLogsDir: dir("pod-logs"),
        volumePluginDir: dir("kubelet", "volume-plugins"),
        // The machine's disk and memory are shared with everything else on it: evict only when nearly full.
        evictionHard: { "memory.available": "100Mi", "nodefs.available": "2%", "nodefs.inodesFree": "2%", "imagefs.available": "2%" },
        imageGCHighThresholdPercent: 99,
        imageGCLowThresholdPercent: 98,
        serializeImagePulls: false,
        maxPods: 110,
        registerNode: true,
        nodeStatusUpdateFrequency: "2s",
        syncFrequency: "10s",
    }, null, 2));
    const kubelet = launch(path.join(opts.bin, "kubelet"), [
        `--config=${kubeletConfig}`, `--kubeconfig=${kubeletKubeconfig}`, `--root-dir=${dir("kubelet", "root")}`,
        `--cert-dir=${pkiDir}`, `--hostname-override=${REAL_NODE_NAME}`, `--node-ip=${NODE_NETWORK.nodeIP}`, "--v=0",
    ]);

    // kube-proxy: its own certificate (system:kube-proxy); Services in iptables, node ports on the node's address only.
    const proxyCert = await opts.pki.issue("kube-proxy", { cn: "system:kube-proxy" });
    const proxyKubeconfig = write(path.join(pkiDir, "kube-proxy.kubeconfig"),
        kubeconfig({ server: opts.server, ca: opts.pki.ca.cert, context: opts.context, user: proxyCert }));
    const [proxyHealthz, proxyMetrics] = [await freePort(), await freePort()];
    const proxyConfig = write(path.join(opts.dir, "kube-proxy.yaml"), JSON.stringify({
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        clientConnection: { kubeconfig: proxyKubeconfig },
        mode: "iptables",
        hostnameOverride: REAL_NODE_NAME,
        bindAddress: NODE_NETWORK.nodeIP,
        clusterCIDR: NODE_NETWORK.clusterCIDR,
        healthzBindAddress: `127.0.0.1:${proxyHealthz}`,
        metricsBindAddress: `127.0.0.1:${proxyMetrics}`,
        nodePortAddresses: [`${NODE_NETWORK.nodeIP}/32`],
        iptables: { localhostNodePorts: false, masqueradeAll: false, syncPeriod: "30s", minSyncPeriod: "0s" },
        // Leave the machine's conntrack sysctls alone.
        conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    }, null, 2));
    const proxy = launch(path.join(opts.bin, "kube-proxy"), [`--config=${proxyConfig}`, "--v=0"]);

    await waitFor(`node ${REAL_NODE_NAME} to be Ready`, async () => {
        for (const p of processes) {
            if (p.child.exitCode !== null) throw new Error(`${path.basename(p.child.spawnfile)} exited:\n${p.output().slice(-3000)}`);
        }
        const ready = await opts.kubectl(["get", "node", REAL_NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
            .catch(() => "");
        return ready === "True" ? true : undefined;
    }, 60_000, 200);

    let stopped = false;
    return {
        name: REAL_NODE_NAME,
        address: NODE_NETWORK.nodeIP,
        containerdSocket: socket,
        processes: () => processes,
        ctr,
        async stop() {
            if (stopped) return;
            stopped = true;
            await proxy.stop(10_000);
            await kubelet.stop(10_000);
            // What the kubelet left running: every task killed and removed, every container removed.
            const tasks = await ctr(["tasks", "list", "--quiet"]).catch(() => "");
            for (const id of tasks.split("\n").filter(Boolean)) {
                await run("ctr", ["--address", socket, "--namespace", "k8s.io", "tasks", "kill", "--signal", "SIGKILL", id], { env });
                await run("ctr", ["--address", socket, "--namespace", "k8s.io", "tasks", "delete", "--force", id], { env });
            }
            const containers = await ctr(["containers", "list", "--quiet"]).catch(() => "");
            for (const id of containers.split("\n").filter(Boolean)) {
                await run("ctr", ["--address", socket, "--namespace", "k8s.io", "containers", "delete", id], { env });
            }
            await containerd.stop(10_000);
        },
    };
}
