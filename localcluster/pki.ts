/**
 * The local cluster's certificates: one CA of its own (made with openssl, which every Debian machine has), the API
 * server's serving certificate, and a client certificate for each component that talks to another, so that each has
 * credentials of its own and none borrows the administrator's token:
 * - the kubelet, as `system:node:<node>` in `system:nodes` (the Node authorizer and NodeRestriction scope it to its node);
 * - kube-proxy, as `system:kube-proxy` (bound to `system:node-proxier` by Kubernetes' default RBAC);
 * - the API server towards the kubelet (logs, exec), as `kube-apiserver-kubelet-client`;
 * - the kubelet's own serving certificate, which the API server verifies.
 * EC P-256 keys: generating them takes milliseconds.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { runOk } from "../scripts/lib/process";

export interface KeyPair {
    readonly cert: string;
    readonly key: string;
}

export interface Pki {
    readonly ca: KeyPair;
    /** Issues a certificate signed by the CA. */
    issue(name: string, subject: { readonly cn: string; readonly o?: string }, opts?: {
        readonly ips?: readonly string[];
        readonly dns?: readonly string[];
        readonly usage: "server" | "client";
    }): Promise<KeyPair>;
}

export async function createPki(dir: string): Promise<Pki> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = (name: string) => path.join(dir, name);
    const newKey = (name: string) => runOk("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file(name)]);

    await newKey("ca.key");
    await runOk("openssl", ["req", "-x509", "-new", "-key", file("ca.key"), "-days", "7", "-subj", "/CN=hello-localcluster-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", file("ca.crt")]);
    const ca = { cert: file("ca.crt"), key: file("ca.key") };

    return {
        ca,
        async issue(name, subject, opts = { usage: "client" }) {
            await newKey(`${name}.key`);
            const subj = `/CN=${subject.cn}${subject.o ? `/O=${subject.o}` : ""}`;
            await runOk("openssl", ["req", "-new", "-key", file(`${name}.key`), "-subj", subj, "-out", file(`${name}.csr`)]);
            const san = [...(opts.ips ?? []).map((ip) => `IP:${ip}`), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
            const ext = [
                "basicConstraints=critical,CA:FALSE",
                "keyUsage=critical,digitalSignature,keyEncipherment",
                `extendedKeyUsage=${opts.usage === "server" ? "serverAuth" : "clientAuth"}`,
                ...(san.length ? [`subjectAltName=${san.join(",")}`] : []),
            ];
            fs.writeFileSync(file(`${name}.ext`), `${ext.join("\n")}\n`);
            await runOk("openssl", ["x509", "-req", "-in", file(`${name}.csr`), "-CA", ca.cert, "-CAkey", ca.key,
                "-CAcreateserial", "-days", "7", "-extfile", file(`${name}.ext`), "-out", file(`${name}.crt`)]);
            return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
        },
    };
}

/** A kubeconfig for one identity: a client certificate, or a token. */
export function kubeconfig(opts: {
    readonly server: string;
    readonly ca: string;
    readonly context: string;
    readonly user: { readonly cert: string; readonly key: string } | { readonly token: string };
}): string {
    const user = "token" in opts.user
        ? [`    token: ${opts.user.token}`]
        : [`    client-certificate: ${opts.user.cert}`, `    client-key: ${opts.user.key}`];
    return [
        "apiVersion: v1", "kind: Config", `current-context: ${opts.context}`,
        "clusters:", `- name: ${opts.context}`, "  cluster:", `    server: ${opts.server}`, `    certificate-authority: ${opts.ca}`,
        "users:", `- name: ${opts.context}`, "  user:", ...user,
        "contexts:", `- name: ${opts.context}`, "  context:", `    cluster: ${opts.context}`, `    user: ${opts.context}`, "",
    ].join("\n");
}
