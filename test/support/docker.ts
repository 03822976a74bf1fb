/**
 * Docker for the image test, the real-engine tier and the service benchmark: what scripts/lib/images.ts provides
 * (an engine, stand-in base images, registries, the pinned BuildKit), plus the service image built with Docker's own
 * builder on the stand-ins.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { DockerCli, repoRoot, standinBuilder, standinRuntime } from "../../scripts/lib/images";

export * from "../../scripts/lib/images";
export const appDir = path.join(repoRoot, "app");

/** What a build of app/Dockerfile produced. */
export interface BuiltImage {
    readonly id: string;
    readonly tag: string;
    /** BuildKit's plain progress output, to inspect which steps were cached. */
    readonly log: string;
}

export interface BuildOptions {
    readonly tag: string;
    /** Stamped into the binary and the image labels. */
    readonly version: string;
    readonly commit: string;
    /** The build context. @default app/ */
    readonly context?: string;
    /** More build arguments (e.g. SOURCE_DATE_EPOCH). @default {} */
    readonly buildArgs?: Readonly<Record<string, string>>;
    /** Build every step again, as a fresh machine would. @default false */
    readonly noCache?: boolean;
}

/**
 * Builds app/Dockerfile with BuildKit, substituting the stand-in base images through the BUILDER_IMAGE and
 * RUNTIME_IMAGE build args, exactly as a mirrored or offline build would.
 */
export async function buildServiceImage(cli: DockerCli, opts: BuildOptions): Promise<BuiltImage> {
    await cli.checkBuildKit();
    const [builder, runtime] = [await standinBuilder(cli), await standinRuntime(cli)];
    const context = opts.context ?? appDir;
    const iidDir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-iid-"));
    try {
        const iidfile = path.join(iidDir, "iid");
        const r = await cli.run([
            "build", "--progress=plain", "--iidfile", iidfile, "-t", opts.tag,
            "--build-arg", `BUILDER_IMAGE=${builder}`, "--build-arg", `RUNTIME_IMAGE=${runtime}`,
            "--build-arg", `VERSION=${opts.version}`, "--build-arg", `COMMIT=${opts.commit}`,
            ...Object.entries(opts.buildArgs ?? {}).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
            ...(opts.noCache ? ["--no-cache"] : []),
            "-f", path.join(context, "Dockerfile"), context,
        ]);
        if (r.code !== 0) throw new Error(`docker build exited with ${r.code}:\n${r.stderr.split("\n").slice(-40).join("\n")}`);
        return { id: fs.readFileSync(iidfile, "utf8").trim(), tag: opts.tag, log: r.stderr + r.stdout };
    } finally {
        fs.rmSync(iidDir, { recursive: true, force: true });
    }
}

/** A copy of app/ whose files all carry `mtime`, as a checkout made at that time would; the caller removes it. */
export function checkoutAt(mtime: Date): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-checkout-"));
    fs.cpSync(appDir, dir, { recursive: true });
    const touch = (p: string) => {
        for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
            if (entry.isDirectory()) touch(path.join(p, entry.name));
            fs.utimesSync(path.join(p, entry.name), mtime, mtime);
        }
    };
    touch(dir);
    return dir;
}

/** Size in bytes of a local image, as `docker image inspect` reports it. */
export async function imageSize(cli: DockerCli, ref: string): Promise<number> {
    return Number((await cli.ok(["image", "inspect", "--format", "{{.Size}}", ref])).trim());
}
