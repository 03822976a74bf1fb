/**
 * What `pulumi up` checks before it changes anything (stacks/preflight.ts): the cluster of the stack's kubeContext
 * answers (components/clusterAccess.ts), and its registry does (components/registryAccess.ts, specs in
 * components.registry.test.ts). Clusters played by an HTTP server on loopback, through a kubeconfig of the spec's own.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { checkClusterAccess } from "../components/clusterAccess";
import { preflight } from "../stacks/preflight";
import type { StackSettings } from "../stacks/settings";
import { freePort } from "../scripts/lib/process";

function kubeconfigFor(dir: string, servers: Record<string, string>): string {
    const file = path.join(dir, "kubeconfig");
    const names = Object.keys(servers);
    fs.writeFileSync(file, [
        "apiVersion: v1", "kind: Config", `current-context: ${names[0]}`,
        "clusters:", ...names.flatMap((n) => [`- name: ${n}`, "  cluster:", `    server: ${servers[n]}`, "    insecure-skip-tls-verify: true"]),
        "users:", "- name: u", "  user:", "    token: t",
        "contexts:", ...names.flatMap((n) => [`- name: ${n}`, "  context:", `    cluster: ${n}`, "    user: u"]), "",
    ].join("\n"));
    return file;
}

describe("the checks before an up (stacks/preflight.ts)", function () {
    let dir: string;
    let saved: string | undefined;
    let api: http.Server;
    let url: string;
    let status = 200;
    beforeEach(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
        saved = process.env.KUBECONFIG;
        api = http.createServer((req, res) => {
            if (req.url === "/version") res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify({ major: "1", minor: "34", gitVersion: "v1.34.4" }));
            else res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
        if (saved === undefined) delete process.env.KUBECONFIG;
        else process.env.KUBECONFIG = saved;
        status = 200;
        await new Promise((resolve) => api.close(resolve));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("GIVEN the context's cluster answers THEN the check passes, whatever the current context", async function () {
        const closed = `http://127.0.0.1:${await freePort()}`;
        process.env.KUBECONFIG = kubeconfigFor(dir, { elsewhere: closed, staging: url });
        await checkClusterAccess("staging");
    });

    it("GIVEN the cluster's API is away THEN it fails naming the context, the server and why", async function () {
        const closed = `http://127.0.0.1:${await freePort()}`;
        process.env.KUBECONFIG = kubeconfigFor(dir, { staging: closed });
        await assert.rejects(checkClusterAccess("staging"),
            { message: `the cluster of context "staging" (${closed}) cannot be reached (ECONNREFUSED); nothing was deployed` });
    });

    it("GIVEN credentials the cluster refuses THEN it says so", async function () {
        status = 401;
        process.env.KUBECONFIG = kubeconfigFor(dir, { staging: url });
        await assert.rejects(checkClusterAccess("staging"), /^Error: the cluster of context "staging" \(http:\/\/127\.0\.0\.1:\d+\) refused the credentials of context "staging" \(HTTP 401\); nothing was deployed$/);
    });

    it("GIVEN a kubeconfig without the stack's context THEN it names the key and the contexts there are", async function () {
        process.env.KUBECONFIG = kubeconfigFor(dir, { dev: url, prod: url });
        await assert.rejects(checkClusterAccess("staging"),
            { message: 'the kubeconfig has no context "staging" (hello-service:kubeContext): it has dev, prod; nothing was deployed' });
    });

    it("GIVEN both the cluster and the registry away THEN one error lists both", async function () {
        const [cluster, registry] = [await freePort(), await freePort()];
        process.env.KUBECONFIG = kubeconfigFor(dir, { staging: `http://127.0.0.1:${cluster}` });
        const settings = { kubeContext: "staging", registry: `127.0.0.1:${registry}/acme`, imageName: "hello" } as StackSettings;
        await assert.rejects(preflight(settings), (e: Error) => {
            assert.equal(e.message, [
                "",
                `  - the cluster of context "staging" (http://127.0.0.1:${cluster}) cannot be reached (ECONNREFUSED); nothing was deployed`,
                `  - the registry 127.0.0.1:${registry} cannot be reached (ECONNREFUSED): nothing was deployed. Check that it runs and that this machine can reach it.`,
            ].join("\n"));
            return true;
        });
    });

    it("checks the prebuilt image's own repository, without its tag, in the stack's registry", async function () {
        process.env.KUBECONFIG = kubeconfigFor(dir, { staging: url });
        const asked: string[] = [];
        const registry = http.createServer((req, res) => {
            asked.push(`${req.method} ${req.url}`);
            res.writeHead(200).end();
        });
        await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
        try {
            const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
            const digest = `sha256:${"c".repeat(64)}`;
            await preflight({ kubeContext: "staging", registry: `${host}/acme`, imageName: "hello", prebuiltImage: `${host}/acme/hello:1.2@${digest}` } as StackSettings);
            assert.deepEqual(asked, [`HEAD /v2/acme/hello/manifests/${digest}`]);
        } finally {
            await new Promise((resolve) => registry.close(resolve));
        }
    });
});
