/**
 * How the program asks for its image to be built, where that decides whether the same source builds the same digest
 * (the README's promise, proven on real builders by test/image.test.ts and test/image.engine.test.ts).
 */
import * as assert from "assert";
import { buildImageArgs } from "../components/serviceImage";

describe("the program's image build", function () {
    it("asks for BuildKit, whose SOURCE_DATE_EPOCH stamps the image, never the legacy builder, which stamps the build's time", function () {
        const args = buildImageArgs({
            context: "./app", repository: "ghcr.io/acme/hello", tag: "dev", version: "1.0.0", revision: { commit: "c", time: 1764115200 },
        });
        const build = args.build as { builderVersion?: string; args: Record<string, string> };
        assert.strictEqual(build.builderVersion, "BuilderBuildKit");
        assert.strictEqual(build.args.SOURCE_DATE_EPOCH, "1764115200");
    });
});
