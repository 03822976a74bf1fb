/**
 * The rendered diff the pull request workflow comments (scripts/render-diff.ts), for real: a clone of this
 * repository, a branch with a change, and the diff of the chart rendered with the base's values against the head's.
 * It shows exactly the objects a change alters, and nothing for a change that alters none.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../scripts/lib/program";
import { COMMENT_MARKER, formatMarkdown, renderDiff } from "../scripts/render-diff";

function git(repo: string, ...args: string[]): string {
    return execFileSync("git", ["-C", repo, "-c", "user.name=render-diff test", "-c", "user.email=test@invalid", ...args], { encoding: "utf8" });
}

describe("the rendered diff (npm run render-diff)", function () {
    let tmp: string;
    let repo: string;

    before(function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-test-"));
        repo = path.join(tmp, "repo");
        execFileSync("git", ["clone", "--quiet", ROOT, repo]);
        git(repo, "checkout", "--quiet", "-B", "main", "HEAD");
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
    });
    after(function () {
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** A branch off main with `edit` applied and committed. */
    function branch(name: string, edit: () => void): void {
        git(repo, "checkout", "--quiet", "-B", name, "main");
        edit();
        git(repo, "commit", "--quiet", "-am", name);
    }

    it("GIVEN staging's replicas change THEN staging's diff is that line of the Deployment, and dev's diff is empty", async function () {
        branch("more-replicas", () => fs.appendFileSync(path.join(repo, "Pulumi.staging.yaml"), "  hello-service:replicas: 4\n"));
        const result = await renderDiff({ repo, base: "main", stacks: ["dev", "staging"] });

        const dev = result.stacks.find((s) => s.stack === "dev")!;
        assert.deepStrictEqual({ diff: dev.diff, changed: dev.changed, added: dev.added, removed: dev.removed },
            { diff: "", changed: [], added: [], removed: [] }, "a change that alters no object shows nothing");

        const staging = result.stacks.find((s) => s.stack === "staging")!;
        assert.deepStrictEqual({ changed: staging.changed, added: staging.added, removed: staging.removed },
            { changed: ["Deployment hello/hello"], added: [], removed: [] });
        const changedLines = staging.diff.split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l));
        assert.deepStrictEqual(changedLines, ["-  replicas: 2", "+  replicas: 4"]);
        assert.match(staging.diff, /^--- base\/staging\n\+\+\+ head\/staging\n/);
    });

    it("GIVEN a template change THEN the diff shows the changed object, and the pods roll (new chart checksum)", async function () {
        branch("service-annotation", () => {
            const file = path.join(repo, "charts", "go-service", "templates", "service.yaml");
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^spec:\n/m, "spec:\n  publishNotReadyAddresses: false\n"));
        });
        const result = await renderDiff({ repo, base: "main", stacks: ["dev"] });
        const [dev] = result.stacks;
        assert.deepStrictEqual([...dev.changed].sort(), ["Deployment hello/hello", "Service hello/hello"]);
        assert.match(dev.diff, /^\+  publishNotReadyAddresses: false$/m);
        assert.match(dev.diff, /^-\s+hello\.platform\/chart-checksum: .*\n\+\s+hello\.platform\/chart-checksum: /m);

        const comment = formatMarkdown(result);
        assert.ok(comment.startsWith(COMMENT_MARKER), "the workflow finds its comment by the marker");
        assert.match(comment, /#### dev: changes (Deployment|Service) hello\/hello, (Deployment|Service) hello\/hello\n<details open>/);
        assert.match(comment, /```diff\n--- base\/dev\n/);
    });

    it("leaves no worktree behind", function () {
        assert.strictEqual(git(repo, "worktree", "list").trim().split("\n").length, 1);
    });
});
