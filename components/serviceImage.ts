import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "child_process";
import { componentType, withFormerType } from "./componentType";

/** Where and how the service's image is built and pushed. */
export interface ServiceImageArgs {
    /** Directory holding the Go module and its Dockerfile. */
    readonly context: string;
    /**
     * Dockerfile path relative to the working directory.
     * @default "<context>/Dockerfile"
     */
    readonly dockerfile?: string;
    /** Repository without a tag, e.g. `ghcr.io/acme/hello`. */
    readonly repository: string;
    /**
     * Tag pushed with each build. It is a moving pointer and the build cache source of the next build;
     * deployments use the digest ({@link ServiceImage.imageRef}), never this tag.
     */
    readonly tag: string;
    /**
     * Target platform.
     * @default "linux/amd64"
     */
    readonly platform?: string;
    /** Version stamped into the binary (`build_info{version}`). */
    readonly version: string;
    /**
     * The source revision: its commit, stamped into the binary (`build_info{commit}`), and its time, stamped on every
     * timestamp of the image (`SOURCE_DATE_EPOCH`), so that the same source and build arguments give the same digest.
     * {@link sourceRevision} reads both from git.
     */
    readonly revision: SourceRevision;
    /**
     * Registry credentials; the password is kept secret. Without them the docker CLI's own login is used.
     * @default undefined
     */
    readonly registry?: {
        readonly server: string;
        readonly username: string;
        readonly password: pulumi.Input<string>;
    };
    /**
     * Extra Dockerfile build args, e.g. `BUILDER_IMAGE` / `RUNTIME_IMAGE` to build from a mirror.
     * @default {}
     */
    readonly buildArgs?: Readonly<Record<string, string>>;
    /**
     * An image already built (and scanned and signed) elsewhere, e.g. by the deploy workflow, as
     * `repository@sha256:...`: nothing is built, and this is the {@link ServiceImage.imageRef}.
     * @default undefined: build from `context`
     */
    readonly prebuilt?: string;
}

/** Everything `docker.Image` needs, as plain data: built by a pure function so tests can check it directly. */
export function buildImageArgs(args: ServiceImageArgs): docker.ImageArgs {
    const imageName = `${args.repository}:${args.tag}`;
    return {
        imageName,
        build: {
            context: args.context,
            dockerfile: args.dockerfile ?? `${args.context}/Dockerfile`,
            platform: args.platform ?? "linux/amd64",
            // BuildKit, never the legacy builder, which stamps every build with its own time. The engine's BuildKit
            // honours SOURCE_DATE_EPOCH from 0.11 on (Docker Engine 23 and later); Docker Engine 20.10 (Debian 12's
            // docker.io) embeds an older one, and there each build is a new digest (test/image.engine.test.ts).
            builderVersion: "BuilderBuildKit",
            args: {
                ...args.buildArgs,
                VERSION: args.version,
                COMMIT: args.revision.commit,
                SOURCE_DATE_EPOCH: String(args.revision.time),
            },
            // No inline cache metadata (BUILDKIT_INLINE_CACHE) and so no cacheFrom: the metadata differs between
            // checkouts of the same source, and with it the digest. Rebuilds use the local Docker cache.
        },
        registry: args.registry && {
            server: args.registry.server,
            username: args.registry.username,
            password: pulumi.secret(args.registry.password),
        },
    };
}

/** A source revision: the commit and its time (seconds since the epoch). */
export interface SourceRevision {
    readonly commit: string;
    readonly time: number;
}

/**
 * The last commit that changed `dir` (the build context), not the checkout's HEAD: a commit elsewhere in the repository
 * leaves the image, and its digest, as they were. Outside git: commit "unknown" at time 0.
 */
export function sourceRevision(dir: string): SourceRevision {
    try {
        const out = execFileSync("git", ["log", "-1", "--format=%h %ct", "--abbrev=12", "--", "."], {
            cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"],
        }).trim();
        const [commit, time] = out.split(" ");
        if (commit && /^[0-9]+$/.test(time ?? "")) return { commit, time: Number(time) };
    } catch {
        // not a git checkout, or no git
    }
    return { commit: "unknown", time: 0 };
}

/** Builds the service's image from source and pushes it; exposes the digest reference to deploy. */
export class ServiceImage extends pulumi.ComponentResource {
    /** `repository@sha256:...`: changes exactly when the image content changes. */
    readonly imageRef: pulumi.Output<string>;
    /** The repository, without tag or digest. */
    readonly repository: string;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super(componentType("ServiceImage"), name, {}, withFormerType("ServiceImage", opts));
        this.repository = args.repository;
        this.imageRef = args.prebuilt !== undefined
            ? pulumi.output(args.prebuilt)
            : new docker.Image(name, buildImageArgs(args), { parent: this }).repoDigest;
        this.registerOutputs({ imageRef: this.imageRef });
    }
}
