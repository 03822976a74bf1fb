/**
 * The registry check `pulumi up` makes before anything changes (components/registryAccess.ts), against registries
 * played by a small HTTP server on loopback: one with Basic authentication (distribution's htpasswd, the tier's), one
 * with a token service (ghcr.io, Docker Hub). What a platform engineer reads when the registry is down, refuses the
 * stack's credentials, or lacks the image the stack deploys.
 */
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import { bearerChallenge, checkRegistryAccess, registryBaseUrl } from "../components/registryAccess";
import { freePort } from "../scripts/lib/process";

const DIGEST = `sha256:${"a".repeat(64)}`;
const BASIC = `Basic ${Buffer.from("ci:s3cret").toString("base64")}`;

interface FakeRegistry {
    readonly server: string;
    readonly requests: string[];
    close(): Promise<void>;
}

/** A registry on loopback: `token` mode answers 401 with a Bearer challenge and serves tokens at /token. */
async function fakeRegistry(mode: "basic" | "token"): Promise<FakeRegistry> {
    const requests: string[] = [];
    const srv = http.createServer((req, res) => {
        requests.push(`${req.method} ${req.url} ${req.headers.authorization?.split(" ")[0] ?? "-"}`);
        const { pathname, searchParams } = new URL(req.url ?? "/", "http://x");
        const server = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
        if (pathname === "/token") {
            const scope = searchParams.get("scope");
            if (req.headers.authorization !== BASIC || searchParams.get("service") !== "fake") return void res.writeHead(401).end();
            return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: `t:${scope}` }));
        }
        const allowed = mode === "basic" ? req.headers.authorization === BASIC : req.headers.authorization === `Bearer t:repository:acme/hello:${req.method === "HEAD" ? "pull" : "pull,push"}`;
        if (!allowed) {
            const challenge = mode === "basic" ? 'Basic realm="fake"' : `Bearer realm="http://${server}/token",service="fake"`;
            return void res.writeHead(401, { "WWW-Authenticate": challenge }).end();
        }
        if (pathname === "/v2/") return void res.writeHead(200).end("{}");
        if (pathname === `/v2/acme/hello/manifests/${DIGEST}`) return void res.writeHead(200).end();
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return {
        server: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
        requests,
        close: () => new Promise((resolve) => srv.close(() => resolve())),
    };
}

describe("the registry check before an up (components/registryAccess.ts)", function () {
    for (const mode of ["basic", "token"] as const) {
        describe(`a registry with ${mode === "basic" ? "Basic authentication" : "a token service"}`, function () {
            let registry: FakeRegistry;
            beforeEach(async () => (registry = await fakeRegistry(mode)));
            afterEach(() => registry.close());

            it("GIVEN the stack's credentials THEN a build's push is allowed, and the prebuilt image is found", async function () {
                await checkRegistryAccess({ server: registry.server, repository: "acme/hello", username: "ci", password: "s3cret" });
                await checkRegistryAccess({ server: registry.server, repository: "acme/hello", digest: DIGEST, username: "ci", password: "s3cret" });
                if (mode === "token") assert.ok(registry.requests.some((r) => r.startsWith("GET /token?") && r.includes("scope=repository%3Aacme%2Fhello%3Apull")));
            });

            it("GIVEN a wrong password THEN it fails naming the registry, the user and the settings to check", async function () {
                await assert.rejects(checkRegistryAccess({ server: registry.server, repository: "acme/hello", digest: DIGEST, username: "ci", password: "wrong" }),
                    { message: `the registry ${registry.server} refused the credentials of ci (HTTP 401): check registryUsername and the secret registryPassword; nothing was deployed` });
            });

            it("GIVEN a prebuilt image the registry does not hold THEN it says so, naming the image", async function () {
                const other = `sha256:${"b".repeat(64)}`;
                await assert.rejects(checkRegistryAccess({ server: registry.server, repository: "acme/hello", digest: other, username: "ci", password: "s3cret" }),
                    { message: `the registry ${registry.server} has no image acme/hello@${other} (HTTP 404): check prebuiltImage; nothing was deployed` });
            });
        });
    }

    it("GIVEN a registry that is down THEN it says it cannot be reached", async function () {
        const server = `127.0.0.1:${await freePort()}`;
        await assert.rejects(checkRegistryAccess({ server, repository: "acme/hello", digest: DIGEST, username: "ci", password: "s3cret" }),
            { message: `the registry ${server} cannot be reached (ECONNREFUSED): nothing was deployed. Check that it runs and that this machine can reach it.` });
    });

    it("GIVEN no credentials for a build THEN only that the registry answers is checked (the docker CLI's login pushes)", async function () {
        const registry = await fakeRegistry("basic");
        try {
            await checkRegistryAccess({ server: registry.server, repository: "acme/hello" });
            await assert.rejects(checkRegistryAccess({ server: registry.server, repository: "acme/hello", digest: DIGEST }),
                /refused anonymous access \(HTTP 401\)/, "a prebuilt image is pulled anonymously then, and must be");
        } finally {
            await registry.close();
        }
    });

    it("speaks plain HTTP to loopback registries only", function () {
        assert.equal(registryBaseUrl("127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert.equal(registryBaseUrl("localhost:5001"), "http://localhost:5001");
        assert.equal(registryBaseUrl("[::1]:5000"), "http://[::1]:5000");
        assert.equal(registryBaseUrl("ghcr.io"), "https://ghcr.io");
        assert.equal(registryBaseUrl("localhost.example.com:5000"), "https://localhost.example.com:5000");
        assert.equal(registryBaseUrl("127.0.0.1.nip.io"), "https://127.0.0.1.nip.io");
    });

    it("reads a Bearer challenge's parameters, and nothing from another scheme", function () {
        assert.deepEqual(bearerChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/hello:pull"'),
            { realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:acme/hello:pull" });
        assert.equal(bearerChallenge('Basic realm="x"'), undefined);
        assert.equal(bearerChallenge(null), undefined);
    });
});
