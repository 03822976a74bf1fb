/**
 * The pack as the Pulumi CLI runs it, without the CLI: `pulumi-analyzer-policy` starts
 * `@pulumi/pulumi/cmd/run-policy-pack` in policy/ (the pack's package.json for its entry point, policy/main.js, and
 * its version), reads the gRPC port from stdout and speaks the Analyzer protocol. This spec does the same, in a child
 * process, so the pack's layout, its module resolution, the config a stack passes (`--policy-pack-config`) and what
 * the engine receives are checked for real.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../scripts/lib/program";
import { POLICIES } from "../policy/policies";
import { secret } from "../policy/testing";
import { Empty, LEVELS, PackServer, servePack } from "./support/policyPack";

describe("the policy pack, served as the Pulumi CLI serves it", function () {
    let pack: PackServer;
    const call = <T>(method: string, request: unknown) => pack.call<T>(method, request);
    const analyze = (type: string, name: string, stack: string, inputs: unknown) => pack.analyze(type, name, stack, inputs);

    before(async function () {
        // A cold start on a busy machine (nothing compiled and cached yet) takes seconds: give it time.
        this.timeout(180000);
        pack = await servePack();
    });
    after(function () {
        pack?.close();
    });

    it("announces the pack, its version from policy/package.json, and every policy at its enforcement level", async function () {
        const info = await call<any>("getAnalyzerInfo", new Empty());
        assert.strictEqual(info.getName(), "hello-service-guardrails");
        const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")) as { version: string };
        assert.strictEqual(info.getVersion(), version);
        const served = Object.fromEntries(info.getPoliciesList().map((p: any) => [p.getName(), LEVELS[p.getEnforcementlevel()]]));
        assert.deepStrictEqual(served, Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel])));
    });

    it("takes prod's policy config as the CLI passes it, and refuses a LoadBalancer in prod over the wire", async function () {
        const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", "prod.json"), "utf8")) as Record<string, object>;
        await pack.configure(Object.fromEntries(POLICIES.map((p) => [p.name, p.enforcementLevel!])), config);

        const service = { metadata: { name: "public", namespace: "hello" }, spec: { type: "LoadBalancer" } };
        const found = await analyze("kubernetes:core/v1:Service", "public", "prod", service);
        assert.deepStrictEqual(found.map((d) => [d.policy, d.level]), [["no-load-balancer-in-prod", "mandatory"]]);
        assert.match(found[0].message, /Service hello\/public is a LoadBalancer.*policy\/config\/prod\.json/);
    });

    it("receives secrets decrypted, and names where one sits in Helm values without printing it", async function () {
        const release = {
            name: "kube-prometheus-stack", chart: "kube-prometheus-stack", version: "88.5.0", namespace: "monitoring",
            repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" }, atomic: true, maxHistory: 10,
            values: { grafana: { admin: { existingSecret: "grafana-admin" }, adminPassword: secret("hunter2-correct-horse") } },
        };
        const found = await analyze("kubernetes:helm.sh/v3:Release", "monitoring", "prod", release);
        const secrets = found.filter((d) => d.policy === "no-secrets-in-helm-values");
        assert.strictEqual(secrets.length, 1, JSON.stringify(found));
        assert.match(secrets[0].message, /values grafana\.adminPassword holds a literal value under a key that names a credential/);
        assert.ok(found.every((d) => !d.message.includes("hunter2")), "no diagnostic prints the secret");
    });

    it("renders the service's chart from the pack's process (helm on PATH) and checks what it renders to", async function () {
        const release = {
            name: "hello", chart: "./charts/go-service", namespace: "hello", atomic: true, maxHistory: 10,
            values: { image: { repository: "ghcr.io/acme/hello", tag: "1.2.3" }, replicaCount: 2 },
        };
        const found = await analyze("kubernetes:helm.sh/v3:Release", "hello", "staging", release);
        assert.deepStrictEqual(found.map((d) => d.policy), ["images-by-digest"]);
        assert.match(found[0].message, /→ Deployment hello\/hello: container "go-service": image "ghcr\.io\/acme\/hello:1\.2\.3" must be pinned by digest/);
    });
});
