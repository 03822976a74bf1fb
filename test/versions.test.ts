/**
 * One Pulumi engine version everywhere: the CLI the workflows install (pulumi/actions' `pulumi-version`), the CLI the
 * real-engine tier builds (scripts/tools.sh and its wrapper module scripts/tools/pulumi) and the SDK the program and
 * the policy pack run on (`@pulumi/pulumi` in package.json and package-lock.json). When they drift, what the tier
 * proves is not what CI runs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../scripts/lib/program";

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

interface Step {
    readonly uses?: string;
    readonly with?: Record<string, unknown>;
}

/** Every step of every workflow and local action, with the file it is in. */
function steps(): { file: string; step: Step }[] {
    const files = [
        ...fs.readdirSync(path.join(ROOT, ".github", "workflows")).filter((f) => f.endsWith(".yml")).map((f) => `.github/workflows/${f}`),
        ...fs.readdirSync(path.join(ROOT, ".github", "actions")).map((d) => `.github/actions/${d}/action.yml`),
    ];
    return files.flatMap((file) => {
        const doc = parse(read(file)) as { jobs?: Record<string, { steps?: Step[] }>; runs?: { steps?: Step[] } };
        const all = [...Object.values(doc.jobs ?? {}).flatMap((job) => job.steps ?? []), ...(doc.runs?.steps ?? [])];
        return all.map((step) => ({ file, step }));
    });
}

/** The version each place pins, by place. */
function pinnedVersions(): Record<string, string> {
    const found: Record<string, string> = {};
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    found["package.json @pulumi/pulumi"] = pkg.dependencies["@pulumi/pulumi"];
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version?: string }> };
    found["package-lock.json @pulumi/pulumi"] = lock.packages["node_modules/@pulumi/pulumi"]?.version ?? "(missing)";
    found["scripts/tools.sh pulumi_version"] = /local pulumi_version=v(\S+)/.exec(read("scripts/tools.sh"))?.[1] ?? "(missing)";
    const gomod = read("scripts/tools/pulumi/go.mod");
    for (const module of ["pkg", "sdk"]) {
        found[`scripts/tools/pulumi/go.mod ${module}/v3`] =
            new RegExp(`github\\.com/pulumi/pulumi/${module}/v3 v(\\S+)`).exec(gomod)?.[1] ?? "(missing)";
    }
    steps().filter(({ step }) => step.uses?.startsWith("pulumi/actions@")).forEach(({ file, step }, i) => {
        found[`${file} pulumi/actions step ${i + 1}`] = String(step.with?.["pulumi-version"] ?? "(not pinned)");
    });
    return found;
}

describe("the Pulumi engine version", function () {
    it("is one version in the workflows, the real-engine tier's CLI and the SDK", function () {
        const found = pinnedVersions();
        const versions = new Set(Object.values(found));
        assert.strictEqual(versions.size, 1, `the places disagree:\n${Object.entries(found).map(([k, v]) => `  ${k}: ${v}`).join("\n")}`);
        assert.match([...versions][0], /^\d+\.\d+\.\d+$/, "an exact version, not a range");
    });

    it("is pinned by every pulumi/actions step, so none installs whatever is newest that day", function () {
        const pulumiSteps = steps().filter(({ step }) => step.uses?.startsWith("pulumi/actions@"));
        assert.ok(pulumiSteps.length >= 3, "the preview, deploy and drift workflows use pulumi/actions");
        for (const { file, step } of pulumiSteps) assert.ok(step.with?.["pulumi-version"], `${file}: a pulumi/actions step without pulumi-version`);
    });

    it("is the version the wrapper module's comment and go.sum name", function () {
        const version = pinnedVersions()["scripts/tools.sh pulumi_version"];
        assert.match(read("scripts/tools/pulumi/go.mod"), new RegExp(`^// Builds the Pulumi CLI v${version.replace(/\./g, "\\.")} `));
        const sum = read("scripts/tools/pulumi/go.sum");
        for (const module of ["pkg", "sdk"]) {
            assert.ok(sum.includes(`github.com/pulumi/pulumi/${module}/v3 v${version} h1:`), `go.sum lacks ${module}/v3 v${version}`);
        }
    });
});
