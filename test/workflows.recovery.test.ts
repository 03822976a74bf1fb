/**
 * The Deploy workflow and interrupted deploys: each stack's deploy runs the tested recovery (`npm run recover`, the
 * real-engine tier's test/e2e/interruptions.test.ts) before its `up`, holds the stack's concurrency group without ever
 * cancelling a deploy in the middle, and leaves the recovery and the `up` the time they may take.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

import { ROOT } from "../scripts/lib/program";
import { defaultsFor } from "../stacks/environments";

interface Step {
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
    readonly "timeout-minutes"?: number;
}
interface Job {
    readonly "timeout-minutes"?: number;
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress": boolean };
    readonly steps: readonly Step[];
}

const deploy = parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "deploy.yml"), "utf8")) as { jobs: Record<string, Job> };
const isUp = (s: Step) => s.uses?.startsWith("pulumi/actions@") === true && s.with?.command === "up";

describe("the Deploy workflow and interrupted deploys", function () {
    for (const stack of ["staging", "prod"]) {
        describe(`the ${stack} deploy`, function () {
            const job = deploy.jobs[stack];

            it("runs the recovery, holding the stack's concurrency group, before its up", function () {
                const up = job.steps.findIndex(isUp);
                const recover = job.steps.findIndex((s) => s.run === `npm run recover -- --stack ${stack} --exclusive`);
                assert.ok(up > 0, "an up step");
                assert.ok(recover >= 0 && recover < up, "npm run recover -- --stack <stack> --exclusive, before the up");
                assert.equal(job.steps[up].with?.["stack-name"], stack);
                // The recovery needs the CLI with its language host, installed before it (the action without a command).
                const cli = job.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@") === true && s.with?.command === undefined);
                assert.ok(cli >= 0 && cli < recover, "the Pulumi CLI installed before the recovery");
                assert.equal(job.steps[cli].with?.["pulumi-version"], job.steps[up].with?.["pulumi-version"]);
            });

            it("queues behind a running deploy of the same stack, never cancels it", function () {
                assert.deepEqual(job.concurrency, { group: `pulumi-up-${stack}`, "cancel-in-progress": false });
            });

            it("gives the recovery a limit of its own, and the job room for it and an up that waits out the Helm timeout", function () {
                const recover = job.steps.find((s) => s.run?.startsWith("npm run recover") === true)!;
                const recoverMinutes = recover["timeout-minutes"];
                assert.ok(recoverMinutes !== undefined && recoverMinutes >= 10, "the recovery's own limit: a rollback may wait 10 min");
                const helmMinutes = Number(defaultsFor(stack as "staging" | "prod").helmTimeout) / 60;
                const setUp = 5;
                assert.ok((job["timeout-minutes"] ?? 360) >= setUp + recoverMinutes + 2 * helmMinutes,
                    `job limit ${job["timeout-minutes"]} min < set-up ${setUp} + recovery ${recoverMinutes} + two Helm waits of ${helmMinutes} min`);
            });
        });
    }
});
