/**
 * While Helm waits, the cluster's API may be away for a moment (restarted, a network cut). `pulumi up` then says so in
 * words, once, and says when it answers again, instead of leaving the user with Helm's late `connection refused` or
 * nothing at all (components/rolloutDiagnostics.ts). The real-engine tier stops the API server under an `up`
 * (test/e2e/interruptions.test.ts).
 */
import * as assert from "node:assert/strict";

import { ClusterEvent, unreachable, watchRollout } from "../components/rolloutDiagnostics";

/** How undici's fetch (under @kubernetes/client-node) fails when nothing listens: a TypeError with the cause's code. */
const refused = () => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 10.244.0.1:6443"), { code: "ECONNREFUSED" }) });
/** A Warning event of now: the watch reports only what happens after it starts. */
const backOffNow = (): ClusterEvent => ({
    type: "Warning", reason: "BackOff", message: "Back-off restarting failed container", lastTimestamp: new Date(Date.now() + 1000),
    involvedObject: { kind: "Pod", namespace: "hello", name: "hello-1" },
});

describe("rollout diagnostics when the cluster's API is away", function () {
    it("GIVEN the API refuses connections for a while THEN it says so once, then that it answers again, then goes on reporting", async function () {
        const backOff = backOffNow();
        const polls: (() => ClusterEvent[])[] = [() => { throw refused(); }, () => { throw refused(); }, () => { throw refused(); }, () => [backOff]];
        const lines: string[] = [];
        let ready!: () => void;
        const until = new Promise<void>((resolve) => (ready = resolve));
        await watchRollout({
            context: "unused", namespace: "hello", release: "hello", until, timeoutMs: 10_000, pollMs: 5,
            report: (line) => {
                lines.push(line);
                if (line.startsWith("Pod")) ready();
            },
            listEvents: async () => (polls.shift() ?? (() => [backOff]))(),
        }).done;
        assert.equal(lines.length, 3, lines.join("\n"));
        assert.equal(lines[0], "the cluster's API could not be reached (ECONNREFUSED) while Helm waits for the release: the deploy goes " +
            "on if it comes back in time, else it fails; `npm run recover` then brings the release back");
        assert.match(lines[1], /^the cluster's API answers again, after \d+ s$/);
        assert.equal(lines[2], "Pod hello/hello-1: BackOff: Back-off restarting failed container");
    });

    it("GIVEN the API stays away THEN it says so once and stops at Helm's timeout", async function () {
        const lines: string[] = [];
        await watchRollout({
            context: "unused", namespace: "hello", release: "hello", until: new Promise(() => undefined), timeoutMs: 60, pollMs: 5,
            report: (line) => lines.push(line), listEvents: async () => { throw refused(); },
        }).done;
        assert.deepEqual(lines.map((l) => l.slice(0, 46)), ["the cluster's API could not be reached (ECONNR"]);
    });

    it("tells a network that is away from a kubeconfig or permission problem, by the error's code", function () {
        assert.equal(unreachable(refused()), "ECONNREFUSED");
        for (const code of ["ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]) {
            assert.equal(unreachable(Object.assign(new Error("x"), { code })), code);
            assert.equal(unreachable(Object.assign(new TypeError("fetch failed"), { cause: { code } })), code);
        }
        assert.equal(unreachable(new Error("connection refused")), undefined, "a message alone is not a code");
        assert.equal(unreachable(Object.assign(new Error("forbidden"), { code: 403 })), undefined);
        assert.equal(unreachable(Object.assign(new Error("no context"), { code: "ENOENT" })), undefined);
        assert.equal(unreachable(undefined), undefined);
    });
});
