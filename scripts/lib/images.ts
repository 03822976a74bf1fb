/**
 * Images without a registry on the internet, for the image test, the real-engine tier, the service benchmark and
 * `npm run dev`: make sure a Docker engine runs, make stand-in base images from this machine's files (no registry can
 * be pulled from here), run a registry on loopback (Debian's docker-registry), and build app/Dockerfile reproducibly
 * with the pinned BuildKit.
 *
 * Every docker command runs with its own DOCKER_CONFIG (a temp dir): the user's credentials are never read or
 * written, and the pinned buildx plugin that scripts/tools.sh builds into .tools/ is found there.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { spawn } from "node:child_process";

import { freePort, run, runOk, start, Started, waitFor } from "./process";
import { tarBuffer, TarEntry, treeEntries, writeTar } from "./tar";

export const repoRoot = path.resolve(__dirname, "..", "..");

/** Whether a Docker engine answers; if not, why, in words a developer can act on. */
export type EngineStatus = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Makes sure a Docker engine answers `docker info`. When none does and we are root on a machine with `dockerd`
 * (CI, this dev box), starts Debian's engine and waits for it. Never throws: the caller decides whether a missing
 * engine skips (a laptop) or fails (CI=true).
 */
export async function ensureEngine(): Promise<EngineStatus> {
    const info = async () => (await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 20_000 }).catch(() => undefined));
    const first = await info();
    if (first === undefined) return { ok: false, reason: "the docker CLI is not installed (apt-get install docker.io)" };
    if (first.code === 0) return { ok: true };

    const dockerd = ["/usr/sbin/dockerd", "/usr/bin/dockerd"].find((p) => fs.existsSync(p));
    const why = `no Docker engine answers (docker info: ${first.stderr.trim().split("\n").pop()})`;
    if (process.env.DOCKER_HOST) return { ok: false, reason: `${why}; DOCKER_HOST=${process.env.DOCKER_HOST} is not a local engine this test could start` };
    if (process.getuid?.() !== 0 || dockerd === undefined) {
        return { ok: false, reason: `${why}, and this process cannot start one (needs root and dockerd)` };
    }
    // Detached, so that the engine outlives this test run like a service would.
    const log = fs.openSync(path.join(os.tmpdir(), "dockerd-test.log"), "a");
    spawn(dockerd, [], { detached: true, stdio: ["ignore", log, log] }).unref();
    try {
        await waitFor("dockerd to answer", async () => ((await info())?.code === 0 ? true : undefined), 60_000, 500);
        return { ok: true };
    } catch {
        return { ok: false, reason: `started ${dockerd} but it did not answer within 60 s; see ${path.join(os.tmpdir(), "dockerd-test.log")}` };
    }
}

/** A docker CLI with its own configuration directory (credentials, plugins). Call close() when done. */
export class DockerCli {
    readonly configDir: string;
    readonly env: NodeJS.ProcessEnv;

    private constructor(configDir: string) {
        this.configDir = configDir;
        this.env = { ...process.env, DOCKER_CONFIG: configDir, DOCKER_BUILDKIT: "1" };
    }

    /** A CLI with an empty config; the pinned buildx plugin from .tools/ is linked in when it exists. */
    static create(): DockerCli {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-docker-config-"));
        fs.writeFileSync(path.join(dir, "config.json"), "{}\n", { mode: 0o600 });
        const buildx = path.join(repoRoot, ".tools", "docker-cli-plugins", "docker-buildx");
        if (fs.existsSync(buildx)) {
            fs.mkdirSync(path.join(dir, "cli-plugins"));
            fs.symlinkSync(buildx, path.join(dir, "cli-plugins", "docker-buildx"));
        }
        return new DockerCli(dir);
    }

    /** Runs docker and returns stdout; throws on a non-zero exit. Never put a secret in args: use input. */
    ok(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
        return runOk("docker", args, { env: this.env, input: opts.input, timeoutMs: opts.timeoutMs ?? 600_000 });
    }

    /** Runs docker and returns the result whatever the exit code. */
    run(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}) {
        return run("docker", args, { env: this.env, input: opts.input, timeoutMs: opts.timeoutMs ?? 600_000 });
    }

    async imageExists(ref: string): Promise<boolean> {
        return (await this.run(["image", "inspect", ref], { timeoutMs: 30_000 })).code === 0;
    }

    /** Removes the config directory, and with it any credentials `docker login` stored there. */
    close(): void {
        fs.rmSync(this.configDir, { recursive: true, force: true });
    }

    /** BuildKit is required (cache mounts); with a CLI >= 23 that means the buildx plugin. */
    async checkBuildKit(): Promise<void> {
        if ((await this.run(["buildx", "version"], { timeoutMs: 30_000 })).code === 0) return;
        const v = (await this.run(["version", "--format", "{{.Client.Version}}"], { timeoutMs: 30_000 })).stdout.trim();
        if (Number(v.split(".")[0]) >= 23) {
            throw new Error(`docker CLI ${v} has no buildx plugin, which BuildKit builds need: run scripts/tools.sh (it builds one into .tools/docker-cli-plugins/)`);
        }
    }
}

function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

async function importImage(cli: DockerCli, tag: string, changes: readonly string[], write: (stdin: Writable) => Promise<void>): Promise<void> {
    const args = ["import", ...changes.flatMap((c) => ["--change", c]), "-", tag];
    const child = spawn("docker", args, { env: cli.env, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.stdin.on("error", () => undefined); // reported through the exit code
    await write(child.stdin).catch(() => undefined);
    const code = await exited;
    if (code !== 0) throw new Error(`docker import ${tag} exited with ${code}: ${stderr.trim()}`);
}

const CA_CERTS = "/etc/ssl/certs/ca-certificates.crt";
/** Bump when a stand-in's recipe changes, so that the cached image is rebuilt. */
const STANDIN_RECIPE = "2";

function requireHostFile(p: string, hint: string): void {
    if (!fs.existsSync(p)) throw new Error(`${p} is missing, which the stand-in base images need (${hint})`);
}

/**
 * A stand-in for the official golang image: busybox as /bin/sh, the host's Go toolchain as /usr/local/go, CA
 * certificates (for the Go module proxy), and the official image's environment. Tagged by a hash of its content,
 * so it is built once per toolchain and reused.
 */
export async function standinBuilder(cli: DockerCli): Promise<string> {
    const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p)) ?? "/bin/busybox";
    requireHostFile(busybox, "apt-get install busybox-static");
    requireHostFile(CA_CERTS, "apt-get install ca-certificates");
    const goroot = (await runOk("go", ["env", "GOROOT"])).trim();
    const goversion = (await runOk("go", ["env", "GOVERSION"])).trim();
    const tree = [...treeEntries(goroot, "usr/local/go")];
    const identity = tree.map((e) => {
        const st = e.content && !Buffer.isBuffer(e.content) ? fs.statSync(e.content.fromPath) : undefined;
        return `${e.name} ${e.type} ${e.mode} ${st?.size ?? ""} ${st?.mtimeMs ?? ""} ${e.linkTarget ?? ""}`;
    });
    const hash = sha256([STANDIN_RECIPE, goversion, sha256(fs.readFileSync(busybox)), sha256(fs.readFileSync(CA_CERTS)), ...identity].join("\n"));
    const tag = `hello-standin/golang:${goversion}-${hash.slice(0, 12)}`;
    if (await cli.imageExists(tag)) return tag;

    const entries: TarEntry[] = [
        { name: "bin", type: "dir", mode: 0o755 },
        { name: "bin/sh", type: "file", mode: 0o755, content: { fromPath: busybox } },
        { name: "etc", type: "dir", mode: 0o755 },
        { name: "etc/ssl", type: "dir", mode: 0o755 },
        { name: "etc/ssl/certs", type: "dir", mode: 0o755 },
        { name: "etc/ssl/certs/ca-certificates.crt", type: "file", mode: 0o644, content: { fromPath: CA_CERTS } },
        { name: "etc/passwd", type: "file", mode: 0o644, content: Buffer.from("root:x:0:0:root:/root:/bin/sh\n") },
        { name: "etc/group", type: "file", mode: 0o644, content: Buffer.from("root:x:0:\n") },
        { name: "go", type: "dir", mode: 0o777 },
        { name: "root", type: "dir", mode: 0o700 },
        { name: "tmp", type: "dir", mode: 0o1777 },
        { name: "usr", type: "dir", mode: 0o755 },
        { name: "usr/local", type: "dir", mode: 0o755 },
        ...tree,
    ];
    await importImage(cli, tag, [
        // As in the official image (docker-library/golang).
        "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV GOPATH=/go",
        "ENV GOTOOLCHAIN=local",
        `ENV GOLANG_VERSION=${goversion.replace(/^go/, "")}`,
        "WORKDIR /go",
        'CMD ["/bin/sh"]',
    ], (stdin) => writeTar(stdin, entries));
    return tag;
}

/**
 * A stand-in for gcr.io/distroless/static-debian13:nonroot: no shell, the nonroot user (65532) with its home, /tmp,
 * CA certificates, and the same user, working directory and environment.
 */
export async function standinRuntime(cli: DockerCli): Promise<string> {
    requireHostFile(CA_CERTS, "apt-get install ca-certificates");
    const tar = tarBuffer([
        { name: "etc", type: "dir", mode: 0o755 },
        { name: "etc/passwd", type: "file", mode: 0o644, content: Buffer.from(
            "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") },
        { name: "etc/group", type: "file", mode: 0o644, content: Buffer.from("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n") },
        { name: "etc/ssl", type: "dir", mode: 0o755 },
        { name: "etc/ssl/certs", type: "dir", mode: 0o755 },
        { name: "etc/ssl/certs/ca-certificates.crt", type: "file", mode: 0o644, content: fs.readFileSync(CA_CERTS) },
        { name: "home", type: "dir", mode: 0o755 },
        { name: "home/nonroot", type: "dir", mode: 0o700, uid: 65532, gid: 65532 },
        { name: "root", type: "dir", mode: 0o700 },
        { name: "tmp", type: "dir", mode: 0o1777 },
    ]);
    const changes = [
        "USER 65532",
        "WORKDIR /home/nonroot",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `ENV SSL_CERT_FILE=${CA_CERTS}`,
    ];
    const tag = `hello-standin/static-nonroot:${sha256(Buffer.concat([tar, Buffer.from(changes.join("\n"))])).slice(0, 12)}`;
    if (!(await cli.imageExists(tag))) {
        await importImage(cli, tag, changes, async (stdin) => {
            await new Promise<void>((resolve) => stdin.end(tar, resolve));
        });
    }
    return tag;
}

/** A registry on loopback. */
export interface Registry {
    /** host:port, e.g. 127.0.0.1:41234 (the engine treats loopback registries as plain HTTP). */
    readonly host: string;
    /** Stops serving, as a registry that is down (connections refused), keeping its images for resume(). */
    pause(): Promise<void>;
    resume(): Promise<void>;
    stop(): Promise<void>;
}

/** A registry on loopback that requires a login. */
export interface LocalRegistry extends Registry {
    readonly username: string;
    /** Generated; only ever passed on stdin. */
    readonly password: string;
    /** From now on the registry accepts `password` for the user instead (a rotated token), after a restart. */
    acceptPassword(password: string): Promise<void>;
}

/**
 * Starts Debian's docker-registry (distribution 2.8) on a free loopback port with htpasswd (bcrypt) authentication
 * and a generated password, storing into a temp dir that stop() removes.
 */
export async function startRegistry(): Promise<LocalRegistry> {
    const username = "hello-test";
    const password = randomBytes(18).toString("base64url");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-registry-"));
    const registry = await serveRegistry({ address: `127.0.0.1:${await freePort()}`, login: { username, password }, dir });
    return {
        ...registry, username, password,
        async acceptPassword(next) {
            await writeHtpasswd(dir, username, next);
            await registry.pause();
            await registry.resume();
        },
    };
}

/**
 * Starts Debian's docker-registry on `address` without a login (a developer's own registry, as kind's local registry
 * is), storing into `dir`, which stop() removes. The process names `dir` on its command line: whoever cleans up after
 * a killed owner finds it by that folder.
 */
export function startOpenRegistry(address: string, dir: string): Promise<Registry> {
    return serveRegistry({ address, dir });
}

/** The registry's one user and its password's bcrypt hash, in `dir`/htpasswd. */
async function writeHtpasswd(dir: string, username: string, password: string): Promise<void> {
    // -i: the password comes from stdin, never from the command line (visible in ps).
    const htpasswd = await runOk("htpasswd", ["-niB", username], { input: `${password}\n` });
    fs.writeFileSync(path.join(dir, "htpasswd"), htpasswd, { mode: 0o600 });
}

async function serveRegistry(opts: {
    readonly address: string;
    readonly login?: { readonly username: string; readonly password: string };
    readonly dir?: string;
}): Promise<Registry> {
    const binary = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"].find((p) => fs.existsSync(p));
    if (!binary) throw new Error("docker-registry is not installed (apt-get install docker-registry)");
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "hello-registry-"));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const host = opts.address;
    let server: Started | undefined;
    try {
        const config = ["version: 0.1", "log: {level: warn}",
            `storage: {filesystem: {rootdirectory: ${JSON.stringify(path.join(dir, "data"))}}}`,
            `http: {addr: ${JSON.stringify(host)}, secret: ${JSON.stringify(randomBytes(16).toString("hex"))}}`];
        if (opts.login) {
            await writeHtpasswd(dir, opts.login.username, opts.login.password);
            config.push(`auth: {htpasswd: {realm: hello-test, path: ${JSON.stringify(path.join(dir, "htpasswd"))}}}`);
        }
        fs.writeFileSync(path.join(dir, "config.yml"), [...config, ""].join("\n"));
        const serve = async () => {
            const srv = start(binary, ["serve", path.join(dir, "config.yml")]);
            server = srv;
            await waitFor(`the registry on ${host}`, async () => {
                if (srv.child.exitCode !== null) throw new Error(`docker-registry exited: ${srv.output()}`);
                const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(2000) });
                return res.status === (opts.login ? 401 : 200) ? true : undefined; // up (and asking for credentials)
            }, 30_000);
        };
        await serve();
        return {
            host,
            pause: async () => server?.stop(),
            resume: serve,
            async stop() {
                await server?.stop();
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    } catch (e) {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        throw e;
    }
}

/** A BuildKit daemon of the pinned version, used through buildx's remote driver. */
export interface Buildkit {
    /** The buildx builder's name, for `docker buildx build --builder`. */
    readonly builder: string;
    stop(): Promise<void>;
}

/**
 * Starts the pinned buildkitd (scripts/tools.sh builds it; it needs root and runc) on a unix socket and registers it
 * as a buildx builder. Docker's engine here embeds an older BuildKit, which ignores SOURCE_DATE_EPOCH; the Docker of a
 * platform engineer (>= 23, BuildKit >= 0.11) honours it, as this one does. `registries` are reached over plain HTTP.
 */
export async function startBuildkit(cli: DockerCli, registries: readonly string[]): Promise<Buildkit> {
    const buildkitd = path.join(repoRoot, ".tools", "bin", "buildkitd");
    if (!fs.existsSync(buildkitd)) throw new Error(`${buildkitd} is missing: run scripts/tools.sh`);
    if (process.getuid?.() !== 0) throw new Error("buildkitd needs root (its OCI worker runs runc)");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-buildkit-"));
    const socket = path.join(dir, "buildkitd.sock");
    const config = path.join(dir, "buildkitd.toml");
    fs.writeFileSync(config, [
        `root = ${JSON.stringify(path.join(dir, "root"))}`,
        "[grpc]", `  address = [${JSON.stringify(`unix://${socket}`)}]`,
        // The snapshotter is chosen by buildkitd: overlayfs where the kernel allows it, else copies.
        "[worker.oci]", "  enabled = true",
        "[worker.containerd]", "  enabled = false",
        ...registries.flatMap((host) => [`[registry.${JSON.stringify(host)}]`, "  http = true"]),
        "",
    ].join("\n"));
    const daemon = start(buildkitd, ["--config", config]);
    const builder = `hello-${randomBytes(4).toString("hex")}`;
    const stop = async () => {
        await cli.run(["buildx", "rm", "--force", builder]);
        await daemon.stop(30_000); // time to unmount its snapshots
        await fs.promises.rm(dir, { recursive: true, force: true });
    };
    try {
        await waitFor("buildkitd's socket", async () => {
            if (daemon.child.exitCode !== null) throw new Error(`buildkitd exited:\n${daemon.output().slice(-2000)}`);
            return fs.existsSync(socket) ? true : undefined;
        }, 60_000, 200);
        await cli.ok(["buildx", "create", "--name", builder, "--driver", "remote", `unix://${socket}`]);
        await cli.ok(["buildx", "inspect", "--bootstrap", builder], { timeoutMs: 120_000 });
        return { builder, stop };
    } catch (e) {
        await stop();
        throw e;
    }
}

/** Pushes a local image to `repository` and returns it by digest (`repository@sha256:...`): a mirror of it. */
export async function mirrorImage(cli: DockerCli, image: string, repository: string): Promise<string> {
    const tag = `${repository}:mirrored`;
    await cli.ok(["tag", image, tag]);
    const pushed = await cli.ok(["push", tag]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    if (!digest) throw new Error(`docker push ${tag} printed no digest:\n${pushed}`);
    return `${repository}@${digest}`;
}

/**
 * Builds app/Dockerfile from `context` with `buildArgs` on a BuildKit builder, without its build cache, and pushes the
 * result as `name`; returns the pushed manifest's digest.
 */
export async function buildAndPush(cli: DockerCli, builder: string, opts: {
    readonly context: string;
    readonly name: string;
    readonly buildArgs: Readonly<Record<string, string>>;
    /** @default the machine's */
    readonly platform?: string;
}): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hello-build-meta-"));
    try {
        const metadata = path.join(dir, "metadata.json");
        await cli.ok([
            // No attestations: the program's docker.Image pushes the image alone, without a provenance manifest.
            "buildx", "build", "--builder", builder, "--no-cache", "--provenance=false", "--sbom=false",
            "--progress=plain", "--metadata-file", metadata,
            "--output", `type=image,name=${opts.name},push=true`,
            ...(opts.platform ? ["--platform", opts.platform] : []),
            ...Object.entries(opts.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
            "-f", path.join(opts.context, "Dockerfile"), opts.context,
        ], { timeoutMs: 900_000 });
        const digest = (JSON.parse(fs.readFileSync(metadata, "utf8")) as Record<string, string>)["containerimage.digest"];
        if (!/^sha256:[0-9a-f]{64}$/.test(digest ?? "")) throw new Error(`the build reported no digest: ${fs.readFileSync(metadata, "utf8")}`);
        return digest;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
