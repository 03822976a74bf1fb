/**
 * The GitHub workflows (.github/workflows): actionlint finds nothing, zizmor's security audit nothing of medium severity
 * or more, and the properties a reviewer checks before trusting a pipeline with production hold: pinned actions, least
 * privilege, prod behind reviewers, each stack's credentials in its own jobs only, one update per stack at a time, scan
 * and signature before deploy, policies enforced, drift caught, secrets documented.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../scripts/lib/program";
import { loadSettings } from "../stacks/load";
import { readStackFile } from "../stacks/stackFile";

const GITHUB = path.join(ROOT, ".github");

interface Step {
    readonly name?: string;
    readonly id?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly if?: string;
    readonly with?: Record<string, unknown>;
    readonly env?: Record<string, string>;
}
interface Job {
    readonly name?: string;
    readonly uses?: string;
    readonly needs?: string | string[];
    readonly if?: string;
    readonly permissions?: Record<string, string>;
    readonly environment?: string | { readonly name: string; readonly url?: string };
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean };
    readonly strategy?: { readonly matrix?: { readonly include?: Record<string, string>[] } };
    readonly steps?: Step[];
    readonly env?: Record<string, string>;
    readonly outputs?: Record<string, string>;
}
interface Workflow {
    readonly on: Record<string, unknown>;
    readonly permissions?: Record<string, string>;
    readonly concurrency?: { readonly group: string };
    readonly env?: Record<string, string>;
    readonly jobs: Record<string, Job>;
}

function read(file: string): string {
    return fs.readFileSync(path.join(GITHUB, file), "utf8");
}
function workflow(name: string): Workflow {
    return parse(read(`workflows/${name}`)) as Workflow;
}
const WORKFLOWS = fs.readdirSync(path.join(GITHUB, "workflows")).filter((f) => f.endsWith(".yml"));
/** Every file that may reference actions: workflows and local composite actions. */
const ACTION_FILES = [
    ...WORKFLOWS.map((f) => `workflows/${f}`),
    ...fs.readdirSync(path.join(GITHUB, "actions")).map((d) => `actions/${d}/action.yml`),
];

/** The job's steps, with the steps of the local composite actions it uses inlined. */
function stepsOf(job: Job): Step[] {
    return (job.steps ?? []).flatMap((step) => {
        if (step.uses?.startsWith("./.github/actions/")) {
            const action = parse(read(`${step.uses.slice("./.github/".length)}/action.yml`)) as { runs: { steps: Step[] } };
            return [step, ...action.runs.steps];
        }
        return [step];
    });
}
function stepIndex(job: Job, match: (s: Step) => boolean, what: string): number {
    const i = stepsOf(job).findIndex(match);
    assert.ok(i >= 0, `no step ${what}`);
    return i;
}
const usesAction = (name: string) => (s: Step) => s.uses?.startsWith(`${name}@`) === true;
const pulumiCommand = (command: string) => (s: Step) => usesAction("pulumi/actions")(s) && s.with?.command === command;
function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** The entries of a job's matrix (one empty entry for a job without one). */
function matrixEntries(job: Job): Record<string, string>[] {
    return job.strategy?.matrix?.include ?? [{}];
}
/** Text with `${{ matrix.KEY }}` replaced by one matrix entry's values. */
function expand(text: string, entry: Record<string, string>): string {
    return text.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, key: string) => {
        assert.ok(key in entry, `matrix.${key} is not in ${JSON.stringify(entry)}`);
        return entry[key];
    });
}
/** The environment a job runs in for one matrix entry, if any. */
function environmentOf(job: Job, entry: Record<string, string>): string | undefined {
    const name = typeof job.environment === "string" ? job.environment : job.environment?.name;
    return name === undefined ? undefined : expand(name, entry);
}

/** A row of the table under README.md's "What the repository needs": its quoted names, its kind, where it lives. */
interface Need {
    readonly names: string[];
    readonly kind: string;
    readonly where: string[];
}
function repositoryNeeds(): Need[] {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.split("\n### What the repository needs\n")[1]?.split(/\n#{1,3} /)[0];
    assert.ok(section, 'README.md has no section "What the repository needs"');
    const quoted = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    return section.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| Name |")).map((line) => {
        const [name, kind] = line.split("|").slice(1, 3).map((cell) => cell.trim());
        return { names: quoted(name), kind: kind.split(",")[0], where: quoted(kind) };
    });
}

/** One finding of `zizmor --format json` (its v1 format), as far as the spec reads it. */
interface ZizmorFinding {
    readonly ident: string;
    readonly desc: string;
    readonly determinations: { readonly severity: string; readonly confidence: string };
    readonly locations: {
        readonly symbolic: {
            readonly kind: string;
            readonly annotation: string;
            readonly key: { readonly Local?: { readonly verbatim_path: string } };
        };
        readonly concrete: { readonly location: { readonly start_point: { readonly row: number } } };
    }[];
}
function describeFinding(f: ZizmorFinding): string {
    const at = f.locations.find((l) => l.symbolic.kind === "Primary") ?? f.locations[0];
    const where = at ? `${at.symbolic.key.Local?.verbatim_path}:${at.concrete.location.start_point.row + 1}` : "?";
    return `${where}: ${f.determinations.severity.toLowerCase()} ${f.ident}: ${f.desc}${at ? ` (${at.symbolic.annotation})` : ""}`;
}

describe("the GitHub workflows", function () {
    it("actionlint (pinned, from scripts/tools.sh) finds nothing", function () {
        const res = spawnSync("actionlint", ["-no-color"], { cwd: ROOT, encoding: "utf8" });
        assert.ok(!res.error, `actionlint is not on PATH: run npm test, or PATH="$(scripts/tools.sh):$PATH" (${res.error?.message})`);
        assert.strictEqual(res.status, 0, `actionlint reported:\n${res.stdout}${res.stderr}`);
        assert.strictEqual(res.stdout.trim(), "");
    });

    it("GIVEN .github/ WHEN zizmor (pinned, offline) audits it THEN nothing of medium severity or more is found", function () {
        // --no-config: no configuration file can turn an audit off; the one ignore comment is checked below.
        const res = spawnSync("zizmor", ["--offline", "--no-config", "--no-exit-codes", "--format", "json", ".github"],
            { cwd: ROOT, encoding: "utf8" });
        if (res.error) {
            const why = `zizmor is not on PATH: run npm test, or PATH="$(scripts/tools.sh):$PATH" (${res.error.message})`;
            if (process.env.CI === "true") assert.fail(why);
            console.warn(`    skipped: ${why}`);
            this.skip();
        }
        assert.strictEqual(res.status, 0, `zizmor failed:\n${res.stderr}`);
        const serious = (JSON.parse(res.stdout) as ZizmorFinding[])
            .filter((f) => ["Medium", "High"].includes(f.determinations.severity))
            .map(describeFinding);
        assert.deepStrictEqual(serious, [], `zizmor reported:\n${serious.join("\n")}`);
    });

    it("GIVEN a finding zizmor is told to ignore THEN it is the known false positive, and its premise holds", function () {
        const ignores = ACTION_FILES.flatMap((file) =>
            [...read(file).matchAll(/zizmor:\s*ignore\[([^\]]*)\]/g)].map((m) => `${file}: ${m[1]}`));
        // The setup action's write to GITHUB_PATH: zizmor cannot see its callers' triggers. It is safe because no
        // workflow runs a pull request's files next to a privileged token (pull_request_target, workflow_run).
        assert.deepStrictEqual(ignores, ["actions/setup/action.yml: github-env"], "a new ignore needs a reason a reviewer accepts");
        for (const file of WORKFLOWS) {
            for (const trigger of ["pull_request_target", "workflow_run"]) {
                assert.ok(!(trigger in workflow(file).on), `${file} runs on ${trigger}: the setup action's GITHUB_PATH write is no longer safe`);
            }
        }
    });

    it("pins every third-party action to a full commit SHA, with its version in a comment", function () {
        for (const file of ACTION_FILES) {
            for (const [i, line] of read(file).split("\n").entries()) {
                const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
                if (!match || match[1].startsWith("./")) continue;
                assert.match(`${match[1]}${match[2]}`, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/,
                    `${file}:${i + 1}: ${line.trim()} is not pinned to a commit SHA with a "# vX.Y.Z" comment`);
            }
        }
    });

    it("grants every workflow read-only contents, and a job more only for what its steps do", function () {
        /** Write scopes, and the step that justifies each. */
        const justified: Record<string, (s: Step) => boolean> = {
            "pull-requests": (s) => (usesAction("pulumi/actions")(s) && s.with?.["comment-on-pr"] === true) ||
                usesAction("marocchino/sticky-pull-request-comment")(s),
            packages: (s) => usesAction("docker/build-push-action")(s) && s.with?.push === true,
            "id-token": (s) => /cosign sign/.test(s.run ?? ""),
            issues: (s) => usesAction("actions/github-script")(s) && /issues\.create/.test(String(s.with?.script)),
        };
        for (const file of WORKFLOWS) {
            const wf = workflow(file);
            assert.deepStrictEqual(wf.permissions, { contents: "read" }, `${file}: workflow permissions`);
            for (const [name, job] of Object.entries(wf.jobs)) {
                for (const [scope, level] of Object.entries(job.permissions ?? {})) {
                    if (scope === "contents") {
                        assert.strictEqual(level, "read", `${file} ${name}: contents`);
                        continue;
                    }
                    assert.strictEqual(level, "write", `${file} ${name}: ${scope} is ${level}`);
                    assert.ok(justified[scope], `${file} ${name}: ${scope}: write is not a scope this project needs`);
                    assert.ok(stepsOf(job).some(justified[scope]), `${file} ${name}: ${scope}: write, but no step needs it`);
                }
            }
        }
    });

    it("deploys prod only after staging, behind the prod environment's required reviewers", function () {
        const { jobs } = workflow("deploy.yml");
        const env = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);
        assert.strictEqual(env(jobs.staging), "staging");
        assert.strictEqual(env(jobs.prod), "prod");
        assert.ok(needsOf(jobs.prod).includes("staging"), "prod waits for staging");
        assert.ok(needsOf(jobs.staging).includes("image") && needsOf(jobs.image).includes("test"), "test → image → staging");
        assert.deepStrictEqual(workflow("deploy.yml").on.push, { branches: ["main"] });
    });

    it("runs one pulumi up per stack at a time, queueing rather than cancelling", function () {
        const groups = new Map<string, string>();
        for (const file of WORKFLOWS) {
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                const up = stepsOf(job).find(pulumiCommand("up"));
                if (!up) continue;
                const stack = String(up.with!["stack-name"]);
                assert.ok(job.concurrency, `${file} ${name}: no concurrency group`);
                assert.ok(job.concurrency.group.includes(stack), `${file} ${name}: group ${job.concurrency.group} is not per stack`);
                assert.strictEqual(job.concurrency["cancel-in-progress"], false, `${file} ${name}: an update must never be cancelled midway`);
                assert.ok(!groups.has(job.concurrency.group), `${job.concurrency.group} is shared by two deploy jobs`);
                groups.set(job.concurrency.group, stack);
            }
        }
        assert.deepStrictEqual([...groups.values()].sort(), ["prod", "staging"]);
    });

    it("updates every stack with refresh, so that a helm rollback by hand is rolled forward to the code", function () {
        const ups = Object.values(workflow("deploy.yml").jobs).flatMap((job) => stepsOf(job).filter(pulumiCommand("up")));
        assert.strictEqual(ups.length, 2);
        for (const up of ups) assert.strictEqual(up.with?.refresh, true, `pulumi up of ${up.with?.["stack-name"]}`);
    });

    describe("the image the deploy ships", function () {
        it("is stamped with the last commit that changed app/ and its time, as the program's builds are", function () {
            const steps = stepsOf(workflow("deploy.yml").jobs.image);
            const checkout = steps.find(usesAction("actions/checkout"))!;
            assert.strictEqual(checkout.with?.["fetch-depth"], 0, "the history that says when app/ last changed");
            const build = steps.find(usesAction("docker/build-push-action"))!;
            const args = String(build.with?.["build-args"]).trim().split("\n").map((l) => l.trim());
            assert.ok(args.includes("COMMIT=${{ steps.version.outputs.commit }}"), args.join(", "));
            assert.ok(args.includes("SOURCE_DATE_EPOCH=${{ steps.version.outputs.time }}"), args.join(", "));
            const version = steps.find((s) => s.id === "version")!;
            assert.match(String(version.run), /git log -1 --format=%h --abbrev=12 -- app/);
            assert.match(String(version.run), /git log -1 --format=%ct -- app/);
        });

        const image = () => workflow("deploy.yml").jobs.image;

        it("is built once with an SBOM and provenance, and pushed where the stacks take it from", function () {
            const build = stepsOf(image()).find(usesAction("docker/build-push-action"))!;
            assert.strictEqual(build.with?.push, true);
            assert.strictEqual(build.with?.sbom, true);
            assert.strictEqual(build.with?.provenance, "mode=max");
            const repository = workflow("deploy.yml").env!.IMAGE_REPOSITORY;
            for (const stack of ["staging", "prod"]) {
                const { settings } = loadSettings(readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`)));
                assert.strictEqual(repository, `${settings.registry}/${settings.imageName}`, `${stack}'s prebuiltImage must come from its repository`);
            }
        });

        it("is scanned by digest with Trivy, failing on fixed HIGH and CRITICAL findings", function () {
            const trivy = stepsOf(image()).find(usesAction("aquasecurity/trivy-action"))!;
            assert.strictEqual(trivy.with?.["image-ref"], "${{ steps.ref.outputs.image }}");
            assert.deepStrictEqual(String(trivy.with?.severity).split(",").sort(), ["CRITICAL", "HIGH"]);
            assert.strictEqual(trivy.with?.["ignore-unfixed"], true, "only findings with a fix fail the build");
            assert.strictEqual(String(trivy.with?.["exit-code"]), "1");
            assert.match(String(trivy.with?.version), /^v\d+\.\d+\.\d+$/, "the scanner itself is pinned");
        });

        it("is signed by digest with cosign (keyless) after the scan, and only the signed digest is deployed", function () {
            const job = image();
            const steps = stepsOf(job);
            const sign = steps.find((s) => /cosign sign --yes "\$IMAGE"/.test(s.run ?? ""))!;
            assert.strictEqual(sign.env?.IMAGE, "${{ steps.ref.outputs.image }}");
            assert.ok(stepIndex(job, usesAction("aquasecurity/trivy-action"), "trivy") < steps.indexOf(sign), "scan, then sign");
            assert.ok(stepIndex(job, usesAction("docker/build-push-action"), "build") < steps.indexOf(sign));
            assert.strictEqual(job.outputs?.image, "${{ steps.ref.outputs.image }}");
            for (const name of ["staging", "prod"]) {
                const deploy = workflow("deploy.yml").jobs[name];
                assert.ok(needsOf(deploy).includes("image"), `${name} waits for the signed image`);
                const up = stepsOf(deploy).find(pulumiCommand("up"))!;
                const config = JSON.parse(String(up.with?.["config-map"]));
                assert.deepStrictEqual(config["hello-service:prebuiltImage"], { value: "${{ needs.image.outputs.image }}", secret: false });
            }
        });
    });

    it("enforces the policy pack, with the stack's policy config, in every preview and update", function () {
        for (const file of ["pull-request.yml", "deploy.yml"]) {
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                for (const step of stepsOf(job).filter((s) => pulumiCommand("up")(s) || pulumiCommand("preview")(s))) {
                    assert.strictEqual(step.with?.policyPacks, "policy", `${file} ${name}`);
                    const stack = String(step.with?.["stack-name"]);
                    assert.strictEqual(step.with?.policyPackConfigs, `policy/config/${stack}.json`, `${file} ${name}`);
                }
            }
        }
    });

    it("installs the locked dependencies (npm ci, Node 22) before every pulumi command", function () {
        for (const file of WORKFLOWS) {
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                const steps = stepsOf(job);
                const first = steps.findIndex((s) => usesAction("pulumi/actions")(s));
                if (first < 0) continue;
                const ci = steps.findIndex((s) => /^npm ci\b/.test(s.run ?? ""));
                assert.ok(ci >= 0 && ci < first, `${file} ${name}: npm ci must run before the Pulumi action`);
                const node = steps.find(usesAction("actions/setup-node"));
                assert.strictEqual(String(node?.with?.["node-version"]), "22", `${file} ${name}: Node 22`);
            }
        }
    });

    describe("on a pull request", function () {
        const pr = () => workflow("pull-request.yml");

        it("runs the test command, and check-config on every changed stack file", function () {
            assert.strictEqual(pr().jobs.test.uses, "./.github/workflows/test.yml");
            assert.match(read("workflows/test.yml"), /run: bash \.ci\/run/);
            const check = stepsOf(pr().jobs["check-config"]).find((s) => /npm run check-config/.test(s.run ?? ""))!;
            assert.match(check.run!, /git diff --name-only --diff-filter=d "\$BASE_SHA" HEAD -- 'Pulumi\.\*\.yaml'/);
        });

        it("previews every deployed stack with --diff, commenting and editing its comment on each push", function () {
            const job = pr().jobs.preview;
            const stacks = job.strategy!.matrix!.include!.map((m) => m.stack).sort();
            const deployed = fs.readdirSync(ROOT).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s) => s && s !== "dev").sort();
            assert.deepStrictEqual(stacks, deployed);
            const preview = stepsOf(job).find(pulumiCommand("preview"))!;
            assert.deepStrictEqual(
                { diff: preview.with?.diff, comment: preview.with?.["comment-on-pr"], edit: preview.with?.["edit-pr-comment"] },
                { diff: true, comment: true, edit: true });
            assert.strictEqual(preview.with?.["stack-name"], "${{ matrix.stack }}");
        });

        it("keeps fork pull requests (read-only token, no secrets) away from previews and comments", function () {
            const sameRepo = "github.event.pull_request.head.repo.full_name == github.repository";
            assert.strictEqual(pr().jobs.preview.if, sameRepo);
            const comment = stepsOf(pr().jobs["rendered-diff"]).find(usesAction("marocchino/sticky-pull-request-comment"))!;
            assert.strictEqual(comment.if, sameRepo);
            assert.ok(!("pull_request_target" in pr().on), "never run a pull request's code with a privileged token");
        });

        it("comments the rendered diff against the base branch, edited on each push", function () {
            const steps = stepsOf(pr().jobs["rendered-diff"]);
            const render = steps.find((s) => /npm run render-diff/.test(s.run ?? ""))!;
            assert.match(render.run!, /--base "\$BASE_SHA" --format markdown --out "\$RUNNER_TEMP\/rendered-diff\.md"/);
            assert.strictEqual(render.env?.BASE_SHA, "${{ github.event.pull_request.base.sha }}");
            const comment = steps.find(usesAction("marocchino/sticky-pull-request-comment"))!;
            assert.deepStrictEqual(comment.with, { header: "rendered-diff", path: "${{ runner.temp }}/rendered-diff.md" });
        });
    });

    it("checks every deployed stack for drift nightly with --refresh --expect-no-changes, and reports it as an issue", function () {
        const wf = workflow("drift.yml");
        assert.ok(Array.isArray(wf.on.schedule) && wf.on.schedule.length === 1, "a nightly schedule");
        const job = wf.jobs.drift;
        assert.deepStrictEqual(job.strategy!.matrix!.include!.map((m) => m.stack).sort(), ["prod", "staging"]);
        const preview = stepsOf(job).find(pulumiCommand("preview"))!;
        assert.strictEqual(preview.with?.refresh, true);
        assert.strictEqual(preview.with?.["expect-no-changes"], true);
        const report = stepsOf(job).find(usesAction("actions/github-script"))!;
        assert.strictEqual(report.if, "failure()");
    });

    it("GIVEN a stack THEN its kubeconfig reaches only the jobs that deploy or preview it, through that stack's environment", function () {
        // Deploys run in the stack's environment (prod's has reviewers); previews and drift checks in preview-<stack>,
        // whose read-only kubeconfig needs no approval. secrets[...] would hand the runner every secret.
        const kubeconfig = { up: "KUBECONFIG", preview: "PREVIEW_KUBECONFIG" };
        const environment = { up: (stack: string) => stack, preview: (stack: string) => `preview-${stack}` };
        const reached = new Set<string>();
        for (const file of WORKFLOWS) {
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                const text = JSON.stringify(job);
                assert.doesNotMatch(text, /secrets\[/, `${file} ${name}: secrets[...] hands the runner every secret`);
                const reads = [...new Set([...text.matchAll(/secrets\.(\w*KUBECONFIG\w*)/g)].map((m) => m[1]))];
                if (reads.length === 0) continue;
                const pulumi = stepsOf(job).find((s) => pulumiCommand("up")(s) || pulumiCommand("preview")(s));
                assert.ok(pulumi, `${file} ${name} reads ${reads.join(", ")} but runs no pulumi up or preview`);
                const command = pulumi.with!.command as "up" | "preview";
                assert.deepStrictEqual(reads, [kubeconfig[command]], `${file} ${name}`);
                for (const entry of matrixEntries(job)) {
                    const stack = expand(String(pulumi.with!["stack-name"]), entry);
                    assert.strictEqual(environmentOf(job, entry), environment[command](stack), `${file} ${name} (${stack})`);
                    reached.add(`${command} ${stack}`);
                }
            }
        }
        assert.deepStrictEqual([...reached].sort(), ["preview prod", "preview staging", "up prod", "up staging"]);
    });

    it("GIVEN README.md's list of what the repository needs THEN it names exactly the secrets, variables and environments used", function () {
        const needs = repositoryNeeds();
        const listed = (kind: RegExp) => needs.filter((n) => kind.test(n.kind)).flatMap((n) => n.names).sort();
        const used = new Set<string>();
        for (const file of ACTION_FILES) {
            for (const m of read(file).matchAll(/\b(?:secrets|vars)\.([A-Z][A-Z0-9_]*)/g)) used.add(m[1]);
        }
        used.delete("GITHUB_TOKEN");
        assert.deepStrictEqual(listed(/^(secret|variable)s?$/), [...used].sort(), "secrets and variables");
        const environments = new Set(WORKFLOWS.flatMap((file) => Object.values(workflow(file).jobs)
            .flatMap((job) => matrixEntries(job).map((entry) => environmentOf(job, entry)))
            .filter((env): env is string => env !== undefined)));
        assert.deepStrictEqual(listed(/^environments?$/), [...environments].sort(), "environments");
        for (const need of needs.filter((n) => /^secrets?$/.test(n.kind) && n.where.length > 0)) {
            for (const env of need.where) assert.ok(environments.has(env), `${need.names.join(", ")}: no job runs in ${env}`);
        }
    });
});
