/**
 * Which files are stack settings files: `npm run check-config` and the tests take the stack from the file's name,
 * `Pulumi.<stack>.yaml` (or `.yml`, as the Pulumi CLI also reads), and refuse a backup or a look-alike rather than
 * check it as a stack it is not.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackFile, stackNameOf } from "../stacks/stackFile";
import { P } from "./support/stacks";

describe("stack settings files: the stack comes from the file name", function () {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-name-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    function file(name: string): string {
        const f = path.join(dir, name);
        fs.writeFileSync(f, "config:\n  hello-service:replicas: 2\n");
        return f;
    }

    for (const [name, stack] of [
        ["Pulumi.dev.yaml", "dev"],
        ["Pulumi.dev.yml", "dev"],
        ["Pulumi.eu.prod.yaml", "eu.prod"],
    ]) {
        it(`${name} is stack ${stack}`, function () {
            assert.strictEqual(stackNameOf(path.join("some", "dir", name)), stack);
            assert.strictEqual(readStackFile(file(name), P).stack, stack);
        });
    }

    for (const name of ["xPulumi.dev.yaml", "Pulumi.dev.yaml.bak", "Pulumi.dev.json", "Pulumi.yaml", "Pulumi..yaml"]) {
        it(`${name} is refused, naming the file and the expected name`, function () {
            const f = file(name);
            assert.throws(() => readStackFile(f, P),
                (err: Error) => err.message === `${f}: a stack settings file is named Pulumi.<stack>.yaml`);
        });
    }
});
