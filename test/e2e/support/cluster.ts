/**
 * A real Kubernetes API on loopback, for one test run: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
 * (Kubernetes v1.34, built by scripts/tools.sh e2e), and kwok, which plays the kubelet of one simulated node: pods are
 * scheduled, admitted (Pod Security included), become Running and Ready, and are deleted, but no container runs.
 *
 * Everything lives in a temporary folder that stop() removes; nothing on the machine is touched.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { freePort, runOk, start, Started, waitFor } from "../../support/process";

/** What the simulated node offers: enough for both charts' requests, so only a deliberate excess fails to schedule. */
export const NODE_CAPACITY = { cpu: "16", memory: "64Gi", pods: "110", "ephemeral-storage": "100Gi" } as const;
export const NODE_NAME = "kwok-node";

export interface LocalCluster {
    /** The kubeconfig file (an admin token for the API server on loopback). */
    readonly kubeconfig: string;
    /** Its one context. */
    readonly context: string;
    /** The folder holding the cluster's files. */
    readonly dir: string;
    /** Runs kubectl against the cluster and returns its stdout. */
    kubectl(args: readonly string[], input?: string): Promise<string>;
    /** Stops every process and removes the folder. Safe to call twice. */
    stop(): Promise<void>;
}

/**
 * Starts the cluster from the binaries in `bin` and the kwok stages in `stages`; resolves once the node is Ready.
 * kwok gives pods the addresses after the network address of the node's `podCIDR` (.1, .2, ...).
 * @param opts.podCIDR the node's pod CIDR. @default kwok's own (10.0.0.0/16), addresses that lead nowhere
 */
export async function startCluster(bin: string, stages: readonly string[], opts: { readonly podCIDR?: string } = {}): Promise<LocalCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-e2e-cluster-"));
    const processes: Started[] = [];
    const exe = (name: string) => path.join(bin, name);
    const file = (name: string, content: string) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, content, { mode: 0o600 });
        return p;
    };
    const launch = (name: string, args: string[]) => {
        const p = start(exe(name), args);
        processes.push(p);
        return p;
    };

    let stopped = false;
    const stop = async () => {
        if (stopped) return;
        stopped = true;
        for (const p of [...processes].reverse()) await p.stop(10_000);
        fs.rmSync(dir, { recursive: true, force: true });
    };

    try {
        const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
        const etcd = launch("etcd", [
            "--name=e2e", `--data-dir=${path.join(dir, "etcd")}`, "--log-level=warn", "--unsafe-no-fsync",
            `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
            `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
        ]);

        const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const saPub = file("sa.pub", publicKey.export({ type: "spki", format: "pem" }).toString());
        const saKey = file("sa.key", privateKey.export({ type: "pkcs8", format: "pem" }).toString());
        const token = randomBytes(24).toString("hex");
        const tokens = file("tokens.csv", `${token},e2e-admin,e2e-admin,"system:masters"\n`);
        const pki = path.join(dir, "pki");
        const apiserver = launch("kube-apiserver", [
            // Loopback only: the `kubernetes` Service gets no endpoints (Endpoints refuse loopback addresses), and no
            // pod here needs it.
            `--etcd-servers=http://127.0.0.1:${etcdClient}`, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",
            `--secure-port=${apiPort}`, `--cert-dir=${pki}`, `--token-auth-file=${tokens}`, "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
            "--service-cluster-ip-range=10.96.0.0/16", "--enable-priority-and-fairness=false",
        ]);

        const server = `https://127.0.0.1:${apiPort}`;
        const ca = path.join(pki, "apiserver.crt");
        const context = "hello-e2e";
        const kubeconfig = file("kubeconfig", [
            "apiVersion: v1", "kind: Config", `current-context: ${context}`,
            "clusters:", `- name: ${context}`, "  cluster:", `    server: ${server}`, `    certificate-authority: ${ca}`,
            "users:", `- name: ${context}`, "  user:", `    token: ${token}`,
            "contexts:", `- name: ${context}`, "  context:", `    cluster: ${context}`, `    user: ${context}`, "",
        ].join("\n"));

        const kubectl = (args: readonly string[], input?: string) =>
            runOk(exe("kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { input, timeoutMs: 120_000 });
        await waitFor("kube-apiserver to be ready", async () => {
            for (const p of [etcd, apiserver]) {
                if (p.child.exitCode !== null) throw new Error(`${p.child.spawnfile} exited:\n${p.output().slice(-3000)}`);
            }
            if (!fs.existsSync(ca)) return undefined;
            return (await kubectl(["get", "--raw=/readyz"])).trim() === "ok" ? true : undefined;
        }, 60_000, 200);

        launch("kube-controller-manager", [
            `--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0",
            `--service-account-private-key-file=${saKey}`, `--root-ca-file=${ca}`,
        ]);
        launch("kube-scheduler", [`--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0"]);
        launch("kwok", [
            `--kubeconfig=${kubeconfig}`, "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--server-address=",
            // Renews the node's Lease as a kubelet does: without it the node controller marks the node NotReady after
            // its grace period, and evicts the pods.
            "--node-lease-duration-seconds=40",
            ...stages.flatMap((s) => ["--config", s]),
        ]);

        await kubectl(["apply", "-f", "-"], JSON.stringify({
            apiVersion: "v1", kind: "Node",
            metadata: {
                name: NODE_NAME,
                annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                labels: { type: "kwok", "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" },
            },
            ...(opts.podCIDR && { spec: { podCIDR: opts.podCIDR, podCIDRs: [opts.podCIDR] } }),
            status: { capacity: NODE_CAPACITY, allocatable: NODE_CAPACITY },
        }));
        await waitFor(`node ${NODE_NAME} to be Ready`, async () => {
            const ready = await kubectl(["get", "node", NODE_NAME, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
            return ready === "True" ? true : undefined;
        }, 60_000, 250);
        // Pods are admitted only once their namespace's default ServiceAccount exists; wait for the controller.
        await waitFor("the default ServiceAccount", async () =>
            ((await kubectl(["get", "serviceaccount", "default", "-o", "name"]).catch(() => "")).trim() ? true : undefined), 60_000, 250);

        return { kubeconfig, context, dir, kubectl, stop };
    } catch (err) {
        const logs = processes.map((p) => `--- ${path.basename(p.child.spawnfile)}\n${p.output().slice(-2000)}`).join("\n");
        await stop();
        throw new Error(`${(err as Error).message}\n${logs}`);
    }
}
