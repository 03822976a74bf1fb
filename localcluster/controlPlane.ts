/**
 * The local cluster's control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler (Kubernetes
 * v1.34, built by scripts/tools.sh), with certificates from the cluster's own CA. The administrator's kubeconfig holds
 * a token; every other component has a certificate of its own (pki.ts).
 *
 * The API server listens on one address of this machine: loopback for a simulated node, the node's bridge address
 * for a real one (so that pods reach it through the `kubernetes` Service).
 */
import { randomBytes, generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";

import { freePort, runOk, start, Started, waitFor } from "../scripts/lib/process";
import { kubeconfig, Pki } from "./pki";

export const SERVICE_CIDR = "10.96.0.0/16";
/** The `kubernetes` Service's address: the first of the Service range. */
export const API_SERVICE_IP = "10.96.0.1";

export interface ControlPlaneOptions {
    /** Where the binaries are. */
    readonly bin: string;
    readonly dir: string;
    readonly pki: Pki;
    /** The address the API server listens on and advertises. */
    readonly address: string;
    /** The context name in the kubeconfig. */
    readonly context: string;
    /** The pod range the controller manager hands node ranges out of. @default none: nodes get no podCIDR */
    readonly clusterCIDR?: string;
    /** Where the kubelet's API is reached with a client certificate (a real node). @default none */
    readonly kubeletClient?: boolean;
}

export interface ControlPlane {
    /** The administrator's kubeconfig (a token). */
    readonly kubeconfig: string;
    readonly server: string;
    readonly processes: () => readonly Started[];
    kubectl(args: readonly string[], input?: string): Promise<string>;
    /** One request to the API server as the administrator; resolves with the status and the parsed JSON body. */
    api(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
    /** Stops the API server (etcd and the rest keep running): the cluster is unreachable until startApiServer(). */
    stopApiServer(): Promise<void>;
    /**
     * Starts the API server again, on the same address and port, with the controller manager and scheduler (as a
     * control-plane node's restart does); resolves once the API is ready.
     */
    startApiServer(): Promise<void>;
    stop(): Promise<void>;
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const { dir, pki } = opts;
    const processes: Started[] = [];
    const exe = (name: string) => path.join(opts.bin, name);
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

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = launch("etcd", [
        "--name=local", `--data-dir=${path.join(dir, "etcd")}`, "--log-level=warn", "--unsafe-no-fsync",
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=local=http://127.0.0.1:${etcdPeer}`,
    ]);

    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const saPub = file("sa.pub", publicKey.export({ type: "spki", format: "pem" }).toString());
    const saKey = file("sa.key", privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const token = randomBytes(24).toString("hex");
    const tokens = file("tokens.csv", `${token},local-admin,local-admin,"system:masters"\n`);
    const serving = await pki.issue("apiserver", { cn: "kube-apiserver" }, {
        usage: "server", ips: ["127.0.0.1", opts.address, API_SERVICE_IP],
        dns: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
    });
    const kubeletClient = opts.kubeletClient ? await pki.issue("apiserver-kubelet-client", { cn: "kube-apiserver-kubelet-client" }) : undefined;

    const apiserverArgs = [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--bind-address=${opts.address}`, `--advertise-address=${opts.address}`,
        `--secure-port=${apiPort}`, `--tls-cert-file=${serving.cert}`, `--tls-private-key-file=${serving.key}`,
        `--client-ca-file=${pki.ca.cert}`, `--token-auth-file=${tokens}`, "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`, "--enable-priority-and-fairness=false",
        ...(kubeletClient
            ? [`--kubelet-client-certificate=${kubeletClient.cert}`, `--kubelet-client-key=${kubeletClient.key}`,
                `--kubelet-certificate-authority=${pki.ca.cert}`,
                // The node's name is not in any DNS here: reach the kubelet at its address (logs, exec, port-forward).
                "--kubelet-preferred-address-types=InternalIP"]
            // On loopback the `kubernetes` Service can get no endpoints (Endpoints refuse loopback addresses); no pod of
            // a simulated node needs it.
            : ["--endpoint-reconciler-type=none"]),
    ];
    let apiserver = launch("kube-apiserver", apiserverArgs);

    const server = `https://${opts.address}:${apiPort}`;
    const admin = file("kubeconfig", kubeconfig({ server, ca: pki.ca.cert, context: opts.context, user: { token } }));
    const kubectl = (args: readonly string[], input?: string) =>
        runOk(exe("kubectl"), [`--kubeconfig=${admin}`, `--cache-dir=${path.join(dir, "kubectl-cache")}`, ...args], { input, timeoutMs: 120_000 });
    const apiReady = () => waitFor("kube-apiserver to be ready", async () => {
        for (const p of [etcd, apiserver]) {
            if (p.child.exitCode !== null) throw new Error(`${path.basename(p.child.spawnfile)} exited:\n${p.output().slice(-3000)}`);
        }
        return (await kubectl(["get", "--raw=/readyz"])).trim() === "ok" ? true : undefined;
    }, 60_000, 200);
    await apiReady();

    // A client certificate of its own for the API server's calls to the kubelet, with the role Kubernetes defines for it.
    if (kubeletClient) {
        await kubectl(["create", "clusterrolebinding", "kube-apiserver-kubelet-client",
            "--clusterrole=system:kubelet-api-admin", "--user=kube-apiserver-kubelet-client"]);
    }

    const controllers = () => [
        launch("kube-controller-manager", [
            `--kubeconfig=${admin}`, "--leader-elect=false", "--secure-port=0",
            `--service-account-private-key-file=${saKey}`, `--root-ca-file=${pki.ca.cert}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            ...(opts.clusterCIDR ? ["--allocate-node-cidrs", `--cluster-cidr=${opts.clusterCIDR}`, "--node-cidr-mask-size=24"] : []),
        ]),
        launch("kube-scheduler", [`--kubeconfig=${admin}`, "--leader-elect=false", "--secure-port=0"]),
    ];
    let running = controllers();

    const ca = fs.readFileSync(pki.ca.cert);
    const api = (method: string, apiPath: string, body?: unknown, contentType = "application/json") =>
        new Promise<{ status: number; body: any }>((resolve, reject) => {
            const req = https.request(`${server}${apiPath}`, {
                method, ca, timeout: 10_000,
                headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(body !== undefined && { "Content-Type": contentType }) },
            }, (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (text += d));
                res.on("end", () => {
                    try {
                        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
                    } catch {
                        resolve({ status: res.statusCode ?? 0, body: text });
                    }
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${apiPath}: timed out`)));
            req.on("error", reject);
            req.end(body === undefined ? undefined : JSON.stringify(body));
        });

    return {
        kubeconfig: admin,
        server,
        processes: () => processes,
        kubectl,
        api,
        async stopApiServer() {
            await apiserver.stop(10_000);
        },
        async startApiServer() {
            // As a control-plane node's restart does, the controller manager and scheduler start again with it: left
            // running, their watches would back off for up to a minute after an outage before they act again.
            for (const p of running) await p.stop(10_000);
            apiserver = launch("kube-apiserver", apiserverArgs);
            await apiReady();
            running = controllers();
        },
        async stop() {
            for (const p of [...processes].reverse()) await p.stop(10_000);
        },
    };
}
