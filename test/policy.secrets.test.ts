/**
 * What no-secrets-in-helm-values finds by shape alone: a value under an innocent key that is a private key, a URL
 * with a password or with a credential in its query, a chat webhook URL, an access token of a known format or a JSON
 * web token is reported with the kind it was taken for; a value that only looks close (too short, another prefix, a
 * URL without a password) is not. The samples are fake and built at run time, so that no scanner takes this file for
 * a leak.
 */
import * as assert from "assert";
import { noSecretsInHelmValues } from "../policy/policies";
import { findSecrets } from "../policy/secrets";
import { runPolicy, TestResource } from "../policy/testing";
import { RELEASE } from "./support/policy";

/** What the scan says of `value` held under a key that names nothing secret (`podAnnotations.note`). */
function shapeOf(value: string): string[] {
    return findSecrets({ podAnnotations: { note: value } }).map((f) => `${f.path} ${f.reason}`);
}

function assertShape(value: string, kind: string): void {
    assert.deepStrictEqual(shapeOf(value), [`podAnnotations.note holds ${kind}`], value);
}

function assertNoShape(value: string): void {
    assert.deepStrictEqual(shapeOf(value), [], value);
}

/** `n` characters of a token's alphabet, letters and digits only (no `-` or `_`, which would end a word). */
function chars(n: number): string {
    const alphabet = "aB3dE5gH7jK9mN2pQ4sT6vW8yZ";
    return Array.from({ length: n }, (_, i) => alphabet[i % alphabet.length]).join("");
}

/** A fake JSON web token: a header and a claims segment (base64url of JSON, so both start `eyJ`) and a signature. */
const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");
const JWT_CLAIMS = Buffer.from('{"sub":"1234567890","name":"Jane Doe","iat":1516239022}').toString("base64url");
const JWT = `${JWT_HEADER}.${JWT_CLAIMS}.${chars(43)}`;

describe("no-secrets-in-helm-values: credentials found by their shape", function () {
    describe("private keys", function () {
        for (const header of ["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]) {
            it(`GIVEN a PEM block that begins "-----BEGIN ${header}-----" THEN it holds a private key`, function () {
                assertShape(`-----BEGIN ${header}-----\n${chars(64)}\n-----END ${header}-----\n`, "a private key");
            });
        }

        it("GIVEN a certificate or a public key THEN it is no secret", function () {
            assertNoShape(`-----BEGIN CERTIFICATE-----\n${chars(64)}\n-----END CERTIFICATE-----\n`);
            assertNoShape(`-----BEGIN PUBLIC KEY-----\n${chars(64)}\n-----END PUBLIC KEY-----\n`);
        });
    });

    describe("URLs", function () {
        it("GIVEN a URL with user:password before its host THEN it holds a URL with a password in it", function () {
            assertShape("https://bot:s3cr3t-pass@api.example.com/v1", "a URL with a password in it");
            assertShape("postgres://app:pw@db.example.com:5432/app", "a URL with a password in it");
        });

        it("GIVEN a URL with a password inside a longer value (an argument, a config file, a JDBC URL) THEN it is found there too", function () {
            assertShape("--upstream=https://bot:s3cr3t-pass@api.example.com", "a URL with a password in it");
            assertShape("upstream:\n  url: https://bot:s3cr3t-pass@api.example.com\n", "a URL with a password in it");
            assertShape("jdbc:postgresql://app:s3cr3t-pass@db.example.com/app", "a URL with a password in it");
        });

        it("GIVEN a presigned S3 or GCS URL THEN its signature is a credential in its query", function () {
            assertShape(`https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${chars(64)}`, "a URL with a credential in its query");
            assertShape(`https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=${chars(64)}`, "a URL with a credential in its query");
        });

        it("GIVEN a URL with only a user, or only a port THEN it holds no password", function () {
            assertNoShape("https://bot@api.example.com/v1");
            assertNoShape("https://api.example.com:8443/v1");
        });

        for (const name of ["token", "access_token", "apikey", "api_key", "api-key", "key", "secret", "sig", "signature", "password", "auth"]) {
            it(`GIVEN a URL whose query has ${name}= with 8 or more characters THEN it holds a URL with a credential in its query`, function () {
                assertShape(`https://storage.example.com/download?${name}=${chars(8)}`, "a URL with a credential in its query");
                assertShape(`https://storage.example.com/download?page=2&${name}=${chars(40)}`, "a URL with a credential in its query");
            });
        }

        it("GIVEN a query credential in any case (?Token=, &SIG=) THEN it is found alike", function () {
            assertShape(`https://example.com/feed?Token=${chars(12)}`, "a URL with a credential in its query");
            assertShape(`https://example.com/blob?sv=2024-01-01&SIG=${chars(12)}`, "a URL with a credential in its query");
        });

        it("GIVEN a query credential of 7 characters or fewer, an empty one, or another parameter THEN it is not reported", function () {
            assertNoShape(`https://example.com/download?token=${chars(7)}`);
            assertNoShape("https://example.com/download?token=&page=2");
            assertNoShape("https://example.com/download?sig=abc&page=2&sort=ascending");
            assertNoShape(`https://example.com/search?q=${chars(20)}&lang=en`);
        });

        it("GIVEN a credential-like name that is not a query parameter of its own (monkey=, mytoken=) THEN it is not reported", function () {
            assertNoShape(`https://example.com/download?monkey=${chars(12)}`);
            assertNoShape(`https://example.com/download/mytoken=${chars(12)}`);
        });

        it("GIVEN a query value that a space or an & cuts before its 8th character THEN it is not reported", function () {
            assertNoShape("https://example.com/download?token=abc def ghi");
            assertNoShape("https://example.com/download?token=abc&&&&&&&&&&");
            assertNoShape("https://example.com/download?token=          ");
        });
    });

    describe("chat webhook URLs", function () {
        for (const url of [
            `https://hooks.slack.com/services/T0000/B0000/${chars(24)}`,
            `https://discord.com/api/webhooks/123456789012345678/${chars(68)}`,
            `https://discordapp.com/api/webhooks/123456789012345678/${chars(68)}`,
            `https://acme.webhook.office.com/webhookb2/${chars(36)}/IncomingWebhook/${chars(32)}`,
        ]) {
            it(`GIVEN ${url.slice(0, url.indexOf("/", 8))} THEN it holds a chat webhook URL`, function () {
                assertShape(url, "a chat webhook URL (its path is the credential)");
            });
        }

        it("GIVEN another page of the same sites THEN it is no webhook", function () {
            assertNoShape("https://acme.slack.com/archives/C0000");
            assertNoShape("https://discord.com/channels/123/456");
        });
    });

    describe("access tokens of known formats", function () {
        const tokens: [string, string, number][] = [
            // [format, prefix, the fewest characters after it]
            ["GitHub personal access token", "ghp_", 30],
            ["GitHub OAuth token", "gho_", 30],
            ["GitHub user-to-server token", "ghu_", 30],
            ["GitHub server-to-server token", "ghs_", 30],
            ["GitHub refresh token", "ghr_", 30],
            ["GitHub fine-grained token", "github_pat_", 30],
            ["GitLab personal access token", "glpat-", 20],
            ["Slack bot token", "xoxb-", 10],
            ["Slack user token", "xoxp-", 10],
            ["Slack app token", "xoxa-", 10],
            ["Slack refresh token", "xoxr-", 10],
            ["Slack legacy token", "xoxo-", 10],
            ["Slack workspace token", "xoxs-", 10],
            ["Stripe live secret key", "sk_live_", 20],
        ];
        for (const [format, prefix, fewest] of tokens) {
            it(`GIVEN a ${format} (${prefix} and ${fewest} characters or more) THEN it holds an access token; one character fewer does not`, function () {
                assertShape(`${prefix}${chars(fewest)}`, "an access token");
                assertShape(`${prefix}${chars(fewest + 10)}`, "an access token");
                assertShape(`Bearer ${prefix}${chars(fewest + 10)}`, "an access token");
                assertNoShape(`${prefix}${chars(fewest - 1)}`);
            });
        }

        it("GIVEN tokens in their real shapes (a fine-grained PAT with _, GitLab and Slack tokens with -) THEN they hold an access token", function () {
            assertShape(`github_pat_11${chars(20)}_${chars(59)}`, "an access token");
            assertShape(`glpat-${chars(8)}-${chars(11)}`, "an access token");
            assertShape(`xoxb-1234567890-1234567890123-${chars(24)}`, "an access token");
        });

        it("GIVEN an AWS access key id (AKIA and exactly 16 capitals or digits) THEN it holds an access token", function () {
            assertShape(`AKIA${"ABCDEFGHIJ234567"}`, "an access token");
            assertNoShape(`AKIA${"ABCDEFGHIJ23456"}`);
            assertNoShape(`AKIA${"abcdefghij234567"}`);
        });

        it("GIVEN a Google API key (AIza and exactly 35 characters) THEN it holds an access token", function () {
            assertShape(`AIza${chars(35)}`, "an access token");
            assertShape(`AIza${chars(20)}-_${chars(13)}`, "an access token");
            assertNoShape(`AIza${chars(34)}`);
        });

        it("GIVEN a prefix the formats do not have (ghx_, xoxz-, sk_test_) THEN it is not reported", function () {
            assertNoShape(`ghx_${chars(36)}`);
            assertNoShape(`gh_${chars(36)}`);
            assertNoShape(`xoxz-${chars(20)}`);
            assertNoShape(`sk_test_${chars(24)}`);
        });

        it("GIVEN a token prefix followed by other characters THEN it is not reported", function () {
            assertNoShape(`ghp_${"!".repeat(36)}`);
            assertNoShape(`xoxb-${".".repeat(20)}`);
            assertNoShape(`glpat-${".".repeat(20)}`);
        });
    });

    describe("JSON web tokens", function () {
        it("GIVEN a signed JWT (header.claims.signature) THEN it holds a JSON web token", function () {
            assertShape(JWT, "a JSON web token");
            assertShape(`Bearer ${JWT}`, "a JSON web token");
        });

        it("GIVEN a header alone, or segments too short to be a JWT's THEN it is not reported", function () {
            assertNoShape(JWT_HEADER);
            assertNoShape(`${JWT_HEADER}.`);
            assertNoShape(`eyJhbGciOi.eyJzdWIi.${chars(10)}`);
            assertNoShape(`eyJ${".".repeat(10)}.eyJ${".".repeat(10)}.`);
        });
    });

    it("GIVEN each kind in a release's values THEN the policy names the path and the kind, never the value", async function () {
        const samples = {
            key: `-----BEGIN RSA PRIVATE KEY-----\n${chars(64)}\n-----END RSA PRIVATE KEY-----\n`,
            upstream: "https://bot:s3cr3t-pass@api.example.com/v1",
            feed: `https://example.com/feed?token=${chars(16)}`,
            hook: `https://discord.com/api/webhooks/123456789012345678/${chars(68)}`,
            ci: `ghp_${chars(36)}`,
            session: JWT,
        };
        const release: TestResource = { type: RELEASE, name: "redis", inputs: { name: "redis", chart: "redis", values: { podAnnotations: samples } } };
        const outcome = await runPolicy(noSecretsInHelmValues, release);
        const advice = "put it in a Kubernetes Secret and reference that Secret from the values";
        assert.deepStrictEqual(outcome.violations, [
            `release "redis": values podAnnotations.key holds a private key; ${advice}`,
            `release "redis": values podAnnotations.upstream holds a URL with a password in it; ${advice}`,
            `release "redis": values podAnnotations.feed holds a URL with a credential in its query; ${advice}`,
            `release "redis": values podAnnotations.hook holds a chat webhook URL (its path is the credential); ${advice}`,
            `release "redis": values podAnnotations.ci holds an access token; ${advice}`,
            `release "redis": values podAnnotations.session holds a JSON web token; ${advice}`,
        ]);
        for (const value of Object.values(samples)) {
            assert.ok(outcome.violations.every((v) => !v.includes(value.slice(-12))), "no value is ever in a message");
        }
    });
});
