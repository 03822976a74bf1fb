/**
 * The decisions of `npm run recover` (scripts/lib/recovery.ts), without a cluster: which locks it may remove, what it
 * does to a release left pending, which pending operations it drops and which releases it looks at. The real-engine
 * tier (test/e2e/interruptions.test.ts) carries them out on interrupted deploys.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Deployment } from "@pulumi/pulumi/automation";

import { judgeLock, readLocks, releaseAction, stackReleases, StackLock, withoutPendingOperations } from "../scripts/lib/recovery";

const lock = (over: Partial<StackLock> = {}): StackLock => ({
    file: "/b/.pulumi/locks/organization/hello-service/prod/1.json", pid: 4242, username: "ci", hostname: "runner-1",
    timestamp: "2026-12-04T10:00:00Z", ...over,
});
const history = (...statuses: string[]) => ({ name: "hello", namespace: "hello", revisions: statuses.map((status, i) => ({ revision: i + 1, status })) });
const deployment = (d: Record<string, unknown>): Deployment => ({ version: 3, deployment: d });

describe("recovery: which lock of an interrupted deploy may be removed", function () {
    it("GIVEN a lock of this machine whose process has ended THEN it is stale", function () {
        const v = judgeLock(lock(), { hostname: "runner-1", alive: () => false, exclusive: false });
        assert.equal(v.stale, true);
        assert.equal(v.why, "held by pid 4242 on runner-1 since 2026-12-04T10:00:00Z, which has ended");
    });

    it("GIVEN a lock of this machine whose process still runs THEN it is live, even with --exclusive", function () {
        for (const exclusive of [false, true]) {
            const v = judgeLock(lock(), { hostname: "runner-1", alive: (pid) => pid === 4242, exclusive });
            assert.equal(v.stale, false);
            assert.match(v.why, /which still runs: a deploy in progress$/);
        }
    });

    it("GIVEN another machine's lock THEN it is live, unless the caller holds the deploy's concurrency lock", function () {
        const mine = { hostname: "runner-2", alive: () => false };
        assert.equal(judgeLock(lock(), { ...mine, exclusive: false }).stale, false);
        assert.match(judgeLock(lock(), { ...mine, exclusive: false }).why, /another machine: a deploy may be running there$/);
        assert.equal(judgeLock(lock(), { ...mine, exclusive: true }).stale, true);
    });

    it("reads the stack's lock files of a file backend, and none of other backends", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recovery-locks-"));
        try {
            const locks = path.join(dir, ".pulumi", "locks", "organization", "hello-service", "prod");
            fs.mkdirSync(locks, { recursive: true });
            fs.writeFileSync(path.join(locks, "abc.json"), JSON.stringify({ pid: 7, username: "u", hostname: "h", timestamp: "t" }));
            fs.writeFileSync(path.join(locks, "notes.txt"), "not a lock");
            assert.deepEqual(readLocks(`file://${dir}`, "hello-service", "prod"),
                [{ file: path.join(locks, "abc.json"), pid: 7, username: "u", hostname: "h", timestamp: "t" }]);
            assert.deepEqual(readLocks(`file://${dir}`, "hello-service", "staging"), []);
            assert.deepEqual(readLocks("s3://bucket", "hello-service", "prod"), []);
            assert.deepEqual(readLocks(undefined, "hello-service", "prod"), []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("recovery: a release left pending by a Helm that is gone", function () {
    it("GIVEN an upgrade left pending THEN it rolls back to the revision that serves", function () {
        assert.deepEqual(releaseAction(history("superseded", "deployed", "pending-upgrade")),
            { kind: "rollback", to: 2, from: "revision 3 pending-upgrade" });
    });

    it("GIVEN a rollback left pending after a failed upgrade THEN it rolls back to the deployed revision", function () {
        assert.deepEqual(releaseAction(history("superseded", "deployed", "failed", "pending-rollback")),
            { kind: "rollback", to: 2, from: "revision 4 pending-rollback" });
    });

    it("GIVEN no revision marked deployed THEN the last one that once was (superseded)", function () {
        assert.deepEqual(releaseAction(history("superseded", "failed", "pending-upgrade")),
            { kind: "rollback", to: 1, from: "revision 3 pending-upgrade" });
    });

    it("GIVEN a first install left pending THEN it is uninstalled, for the next up to install", function () {
        assert.deepEqual(releaseAction(history("pending-install")),
            { kind: "uninstall", from: "revision 1 pending-install, and no revision was ever deployed" });
    });

    it("GIVEN a release that is deployed or failed THEN nothing is done", function () {
        for (const h of [history("deployed"), history("superseded", "deployed"), history("deployed", "failed"), history()]) {
            assert.deepEqual(releaseAction(h), { kind: "none" });
        }
    });
});

describe("recovery: the state", function () {
    it("drops the pending operations, and says which", function () {
        const state = deployment({ resources: [{ urn: "a" }], pending_operations: [
            { type: "updating", resource: { urn: "urn:pulumi:prod::hello-service::kubernetes:helm.sh/v3:Release::hello" } }] });
        const { deployment: after, dropped } = withoutPendingOperations(state);
        assert.deepEqual(dropped, ["updating urn:pulumi:prod::hello-service::kubernetes:helm.sh/v3:Release::hello"]);
        assert.deepEqual(after.deployment, { resources: [{ urn: "a" }] });
        assert.equal(after.version, 3);
    });

    it("leaves a state without pending operations as it is", function () {
        const state = deployment({ resources: [] });
        assert.deepEqual(withoutPendingOperations(state), { deployment: state, dropped: [] });
        assert.deepEqual(withoutPendingOperations(deployment({ resources: [], pending_operations: [] })).dropped, []);
    });

    it("looks at every Helm release the state records or was creating, once each", function () {
        const release = (name: string, where: "inputs" | "outputs") =>
            ({ type: "kubernetes:helm.sh/v3:Release", [where]: { name, namespace: "hello" } });
        const state = deployment({
            resources: [release("hello", "outputs"), release("hello", "outputs"), { type: "kubernetes:core/v1:Namespace", outputs: { name: "x" } },
                { type: "kubernetes:helm.sh/v3:Release", outputs: { name: "no-namespace" } }],
            pending_operations: [{ type: "creating", resource: release("hello-dashboards", "inputs") }],
        });
        assert.deepEqual(stackReleases(state), [{ name: "hello", namespace: "hello" }, { name: "hello-dashboards", namespace: "hello" }]);
        assert.deepEqual(stackReleases(deployment({})), []);
    });
});
