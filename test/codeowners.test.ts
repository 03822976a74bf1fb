/**
 * .github/CODEOWNERS: the platform team must approve changes to the guardrails, the pipelines, production's settings
 * and the chart (with branch protection requiring code owners' reviews, README.md "What the repository needs").
 * Checked with GitHub's matching rules (test/support/codeowners.ts), themselves checked against GitHub's examples.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../scripts/lib/program";
import { matches, ownersOf, parseCodeowners } from "./support/codeowners";

const PLATFORM = "@acme/platform";

describe("the code owners (.github/CODEOWNERS)", function () {
    const rules = () => parseCodeowners(fs.readFileSync(path.join(ROOT, ".github", "CODEOWNERS"), "utf8"));

    it("GIVEN a change to policy/, .github/, Pulumi.prod.yaml or the chart WHEN GitHub asks for reviews THEN the platform team owns it", function () {
        const owned = [
            "policy/policies.ts",
            "policy/config/prod.json",
            ".github/workflows/deploy.yml",
            ".github/actions/setup/action.yml",
            ".github/CODEOWNERS",
            "Pulumi.prod.yaml",
            "charts/go-service/templates/deployment.yaml",
            "charts/go-service/values.yaml",
        ];
        for (const file of owned) {
            assert.ok(fs.existsSync(path.join(ROOT, file)), `${file} does not exist: update this list`);
            assert.deepStrictEqual(ownersOf(file, rules()), [PLATFORM], file);
        }
    });

    it("GIVEN GitHub reads the first CODEOWNERS of .github/, the root and docs/ THEN there is only the one in .github/", function () {
        for (const elsewhere of ["CODEOWNERS", "docs/CODEOWNERS"]) {
            assert.ok(!fs.existsSync(path.join(ROOT, elsewhere)), `${elsewhere} would be ignored, or mislead`);
        }
    });

    it("GIVEN the owners named THEN each is a team of the acme organization, and README.md says it needs write access", function () {
        for (const rule of rules()) {
            for (const owner of rule.owners) assert.match(owner, /^@acme\/[\w-]+$/, `CODEOWNERS:${rule.line}`);
        }
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.match(readme, new RegExp(`\\| Team \`${PLATFORM}\` \\|[^\\n]*write`), `README.md's table does not name ${PLATFORM}`);
    });
});

describe("GitHub's CODEOWNERS matching, as the spec applies it", function () {
    /** Each pattern with the paths it matches (true) and does not (false), after GitHub's documented examples. */
    const cases: Record<string, Record<string, boolean>> = {
        "*": { "README.md": true, "app/cmd/hello/main.go": true },
        "*.js": { "a.js": true, "web/src/a.js": true, "a.jsx": false },
        "docs/*": { "docs/getting-started.md": true, "docs/build-app/troubleshooting.md": false, "x/docs/a.md": false },
        "apps/": { "apps/a": true, "web/apps/a/b": true, "apps": false },
        "/docs/": { "docs/a.md": true, "docs/x/y.md": true, "web/docs/a.md": false },
        "**/logs": { "build/logs/a": true, "deeply/nested/logs/b": true, "logs/c": true, "logsx/d": false },
        "/Pulumi.prod.yaml": { "Pulumi.prod.yaml": true, "Pulumi.prodXyaml": false, "x/Pulumi.prod.yaml": false },
        "/build/logs/": { "build/logs/a": true, "build/logs/x/y": true, "x/build/logs/a": false },
        "foo/**/bar": { "foo/bar": true, "foo/a/b/bar/c": true, "x/foo/bar": false },
        "/*": { "README.md": true, "app/main.go": false },
        "f?o": { foo: true, fo: false, fooo: false },
    };
    for (const [pattern, paths] of Object.entries(cases)) {
        const [yes, no] = [true, false].map((want) => Object.keys(paths).filter((p) => paths[p] === want).join(", "));
        it(`GIVEN ${pattern} THEN it matches ${yes}${no ? `, not ${no}` : ""}`, function () {
            for (const [file, expected] of Object.entries(paths)) {
                assert.strictEqual(matches(pattern, file), expected, `${pattern} ${expected ? "must" : "must not"} match ${file}`);
            }
        });
    }

    it("GIVEN several matching lines THEN the last wins, and a last line without owners leaves the path unowned", function () {
        const rules = parseCodeowners("*.js @acme/web\n/apps/ @acme/apps # the apps\n/apps/github\n");
        assert.deepStrictEqual(ownersOf("apps/a.js", rules), ["@acme/apps"]);
        assert.deepStrictEqual(ownersOf("apps/github/a.js", rules), []);
        assert.deepStrictEqual(ownersOf("web/a.js", rules), ["@acme/web"]);
        assert.deepStrictEqual(ownersOf("README.md", rules), []);
    });

    it("GIVEN a negation or a character range, which GitHub ignores THEN it is refused", function () {
        assert.throws(() => parseCodeowners("!/policy/ @acme/platform"), /CODEOWNERS:1: !\/policy\/: GitHub supports neither/);
        assert.throws(() => parseCodeowners("# ok\n/charts/[ab]/ @acme/platform"), /CODEOWNERS:2:/);
    });
});
